// A minimal wineserver client speaking the socket protocol directly (no
// Wine): connect, take the request pipe, hand over reply and wait pipes,
// send init_first_thread. Used to drive the proxy hard (a thousand clients)
// and to misbehave on purpose (garbage, dying mid-request) in ways a real
// Wine process cannot be made to.

import { fdAddon } from '../../proxy/native.ts';
import type { DecodedReply, Protocol } from '../../requests/protocol.ts';

const INIT_FIRST_THREAD = 5;
/**
 * The unix pid the raw clients claim. wineserver signals a process's unix
 * pid when it ends (probing with kill(pid, 0), then SIGKILL): a pid above
 * any pid_max makes that a harmless ESRCH instead of killing the test.
 */
export const NO_SUCH_PID = 999_999_999;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

export class RawClientError extends Error {
  constructor(
    readonly code: 'RAW_TIMEOUT' | 'RAW_EOF' | 'RAW_PROTOCOL',
    message: string,
  ) {
    super(message);
    this.name = 'RawClientError';
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

function until<T>(what: string, timeoutMs: number, attempt: () => T | null): T {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = attempt();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new RawClientError('RAW_TIMEOUT', `timed out waiting for ${what}`);
    sleepMs(1);
  }
}

export interface InitReply {
  error: number;
  pid: number;
  tid: number;
}

export class RawClient {
  readonly socket: number;
  readonly protocolVersion: number;
  private requestWrite: number;
  private replyRead = -1;
  private waitRead = -1;
  private closed = false;

  constructor(socketPath: string, timeoutMs = 10_000) {
    const socket = until('connect', timeoutMs, () => fdAddon.connectUnix(socketPath));
    this.socket = socket;
    const greeting = until('the request pipe', timeoutMs, () => fdAddon.recvFd(socket));
    if (greeting.data.length === 0) throw new RawClientError('RAW_EOF', 'server closed the socket at once');
    if (greeting.fd < 0 || greeting.data.length !== 4) throw new RawClientError('RAW_PROTOCOL', 'first message carries no request pipe');
    this.protocolVersion = greeting.data.readInt32LE(0);
    this.requestWrite = greeting.fd;
  }

  /** init_first_thread with fresh reply and wait pipes; returns the decoded reply. */
  initFirstThread(timeoutMs = 10_000, unixPid = NO_SUCH_PID): InitReply {
    const [replyRead, replyWrite] = fdAddon.pipe();
    const [waitRead, waitWrite] = fdAddon.pipe();
    this.replyRead = replyRead;
    this.waitRead = waitRead;
    for (const fd of [replyWrite, waitWrite]) {
      const data = Buffer.alloc(8);
      data.writeUInt32LE(0, 0); // tid 0: the first thread
      data.writeInt32LE(fd, 4);
      if (fdAddon.sendFd(this.socket, fd, data) === null) throw new RawClientError('RAW_TIMEOUT', 'socket full');
    }
    const request = Buffer.alloc(64);
    request.writeInt32LE(INIT_FIRST_THREAD, 0);
    request.writeUInt32LE(0, 4); // no request data
    request.writeUInt32LE(16, 8); // room for the supported machines
    request.writeInt32LE(unixPid, 12);
    request.writeInt32LE(unixPid, 16);
    request.writeInt32LE(0, 20);
    request.writeInt32LE(replyWrite, 24);
    request.writeInt32LE(waitWrite, 28);
    this.writeRequestBytes(request);
    // The server has its own copies now (through the proxy).
    fdAddon.close(replyWrite);
    fdAddon.close(waitWrite);
    const reply = this.readReply(timeoutMs);
    return { error: reply.readUInt32LE(0), pid: reply.readUInt32LE(8), tid: reply.readUInt32LE(12) };
  }

  /** Writes raw bytes into the request pipe. */
  writeRequestBytes(bytes: Buffer): void {
    let at = 0;
    while (at < bytes.length) {
      const written = fdAddon.write(this.requestWrite, bytes, at, bytes.length - at);
      if (written === null) sleepMs(1);
      else at += written;
    }
  }

  /** Reads one reply (64 bytes + its data); RAW_EOF when the reply pipe closes. */
  readReply(timeoutMs = 10_000): Buffer {
    fdAddon.setNonBlocking(this.replyRead, true);
    const fixed = this.readExactly(this.replyRead, 64, timeoutMs);
    const size = fixed.readUInt32LE(4);
    return size ? Buffer.concat([fixed, this.readExactly(this.replyRead, size, timeoutMs)]) : fixed;
  }

  /** Whether the reply pipe reaches end of file within `timeoutMs`. */
  replyPipeEnds(timeoutMs: number): boolean {
    fdAddon.setNonBlocking(this.replyRead, true);
    const buffer = Buffer.alloc(4096);
    try {
      until('end of the reply pipe', timeoutMs, () => {
        const count = fdAddon.read(this.replyRead, buffer, 0, buffer.length);
        return count === 0 ? true : null;
      });
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fd of [this.socket, this.requestWrite, this.replyRead, this.waitRead]) if (fd >= 0) fdAddon.close(fd);
  }

  private readExactly(fd: number, length: number, timeoutMs: number): Buffer {
    const buffer = Buffer.alloc(length);
    let at = 0;
    until('a reply', timeoutMs, () => {
      const count = fdAddon.read(fd, buffer, at, length - at);
      if (count === 0) throw new RawClientError('RAW_EOF', 'reply pipe closed');
      if (count !== null) at += count;
      return at === length ? true : null;
    });
    return buffer;
  }
}

// As a script: connect, initialise, start a request and stop half-way, then
// wait to be killed (the "client SIGKILLed mid-request" fault).
if (process.argv[1] && process.argv[1].endsWith('raw-client.ts') && process.argv[2]) {
  const client = new RawClient(process.argv[2]);
  const reply = client.initFirstThread(10_000, process.pid);
  const partial = Buffer.alloc(40); // 40 of the 64 bytes of a request
  partial.writeInt32LE(INIT_FIRST_THREAD + 1, 0);
  client.writeRequestBytes(partial);
  process.stdout.write(`ready ${reply.pid}\n`);
  setInterval(() => {}, 1000);
}

/** A whole request frame for `name`, encoded by the protocol (what a raw client writes). */
export function encodeRawRequest(protocol: Protocol, name: string, body: Record<string, unknown>, replySize = 0): Buffer {
  return protocol.encodeRequest({ code: protocol.codeOf(name), replySize, body });
}

/** Sends one request on a raw client and reads its decoded reply. */
export function rawCall(client: RawClient, protocol: Protocol, name: string, body: Record<string, unknown>, replySize = 0): DecodedReply {
  client.writeRequestBytes(encodeRawRequest(protocol, name, body, replySize));
  return protocol.decodeReply(protocol.codeOf(name), client.readReply());
}
