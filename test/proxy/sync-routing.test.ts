// The synchronous fast path of `--translate` (docs/translation.md, "Routing
// translated requests"): the router answers without a promise when nothing
// waits, and the thread relay writes such a reply at once, while answers that
// wait keep the thread's later requests back, and a router that throws or
// rejects gets the request forwarded. The relay runs on real pipes; the
// router on the in-process backend with a real prefix's registry.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createInProcessBackend } from '../../backends/inprocess/index.ts';
import { fdAddon } from '../../proxy/native.ts';
import { NullRecorder } from '../../proxy/recording/writer.ts';
import { ThreadRelay, type ThreadHost } from '../../proxy/relay/thread-relay.ts';
import { TranslationRouter } from '../../proxy/translate/router.ts';
import type { Awaitable } from '../../mappings/translator.ts';
import { loadProtocol } from '../../requests/protocol.ts';
import type { RequestFrame } from '../../requests/framing.ts';
import { createTestPrefix, ensureTemplatePrefix, removeTestPrefix } from '../support/wine.ts';

const protocol = loadProtocol('wine-8.0');
const log = pino({ level: 'silent' });
const frame = (name: string, body: Record<string, unknown>, replySize = 0) => protocol.encodeRequest({ code: protocol.codeOf(name), replySize, body });

/** Reads exactly `size` bytes from a nonblocking descriptor, polling the loop, or fails after `timeoutMs`. */
async function readExactly(fd: number, size: number, timeoutMs = 10_000): Promise<Buffer> {
  const out = Buffer.alloc(size);
  let got = 0;
  const deadline = Date.now() + timeoutMs;
  while (got < size) {
    const n = fdAddon.read(fd, out, got, size - got);
    if (n === 0) throw new Error(`descriptor ${fd} ended after ${got} of ${size} bytes`);
    if (n !== null) {
      got += n;
      continue;
    }
    if (Date.now() > deadline) throw new Error(`only ${got} of ${size} bytes within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return out;
}

/** Bytes waiting on a nonblocking descriptor now (after letting the loop run a little). */
async function pending(fd: number, settleMs = 30): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  const scratch = Buffer.alloc(1 << 16);
  const n = fdAddon.read(fd, scratch, 0, scratch.length);
  return n ?? 0;
}

type Answer = (frame: RequestFrame, idle: boolean) => Awaitable<Buffer | null>;

/**
 * One thread relay between a "client" (the test writes its request pipe and
 * reads its reply pipe) and a "wineserver" (the test reads the requests that
 * reach it), with the host's routing decided per request by `answers`.
 */
function relayOnPipes(answers: Answer[], hooks: Pick<ThreadHost, 'rewriteRequest' | 'threadEnding'> = {}) {
  const [relayReadsRequests, clientWritesRequests] = fdAddon.pipe();
  const [serverReadsRequests, relayWritesRequests] = fdAddon.pipe();
  const [relayReadsReplies, serverWritesReplies] = fdAddon.pipe();
  const [clientReadsReplies, relayWritesReplies] = fdAddon.pipe();
  for (const fd of [clientWritesRequests, serverReadsRequests, serverWritesReplies, clientReadsReplies]) fdAddon.setNonBlocking(fd, true);
  const routed: { code: number; idle: boolean }[] = [];
  let closed = false;
  const host: ThreadHost = {
    recorder: new NullRecorder(),
    prepareRequest: () => true,
    routeRequest: (_thread, request, idle) => {
      routed.push({ code: request.code, idle });
      const answer = answers.shift();
      return answer ? answer(request, idle) : null;
    },
    inspectReply: () => {},
    protocolViolation: (_thread, _channel, error) => {
      throw error;
    },
    threadClosed: () => {
      closed = true;
    },
    ...hooks,
  };
  const open = new Set([clientWritesRequests, serverReadsRequests, serverWritesReplies, clientReadsReplies]);
  const relay = new ThreadRelay(1, true, host, { connection: 1, threadKey: 0, tid: 0, pid: 0, unixPid: 0 }, log, relayReadsRequests, relayWritesRequests);
  relay.attachReplyPipe(relayReadsReplies, relayWritesReplies);
  return {
    relay,
    routed,
    isClosed: () => closed,
    send: (...frames: Buffer[]) => {
      const bytes = Buffer.concat(frames);
      expect(fdAddon.write(clientWritesRequests, bytes, 0, bytes.length)).toBe(bytes.length);
    },
    clientReads: (size: number) => readExactly(clientReadsReplies, size),
    clientPending: () => pending(clientReadsReplies),
    serverReads: (size: number) => readExactly(serverReadsRequests, size),
    serverPending: () => pending(serverReadsRequests),
    /** wineserver closes its end of the thread's reply pipe, as when it kills the thread. */
    serverEndsReplies: () => {
      fdAddon.close(serverWritesReplies);
      open.delete(serverWritesReplies);
    },
    close: () => {
      relay.close('test over');
      for (const fd of open) fdAddon.close(fd);
    },
  };
}

/** A 64-byte reply frame carrying `marker` where a reply's first field would be. */
function replyFrame(marker: number): Buffer {
  const reply = Buffer.alloc(64);
  reply.writeUInt32LE(marker, 8);
  return reply;
}

describe('thread relay with the synchronous fast path', () => {
  it('writes a reply given as a plain value, and forwards nothing', async () => {
    const pipes = relayOnPipes([() => replyFrame(0x1111)]);
    try {
      pipes.send(frame('open_key', { parent: 0, access: 1, attributes: 0, name: 'A' }));
      expect((await pipes.clientReads(64)).readUInt32LE(8)).toBe(0x1111);
      expect(await pipes.serverPending()).toBe(0);
      expect(pipes.routed).toEqual([{ code: protocol.codeOf('open_key'), idle: true }]);
    } finally {
      pipes.close();
    }
  });

  it('keeps later requests of the thread back while an answer waits, in order', async () => {
    let settle!: (reply: Buffer) => void;
    const waiting = new Promise<Buffer>((resolve) => (settle = resolve));
    // As the client connection does: nothing is answered while a forwarded request of the thread awaits its reply.
    const pipes = relayOnPipes([() => waiting, () => null, (_request, idle) => (idle ? replyFrame(0x3333) : null)]);
    try {
      const second = frame('close_handle', { handle: 0x10 });
      const third = frame('open_key', { parent: 0, access: 2, attributes: 0, name: 'B' });
      // Three requests in one write: the first waits, the second is forwarded, and the third comes
      // while the second awaits wineserver's reply, so it is forwarded after it.
      pipes.send(frame('open_key', { parent: 0, access: 1, attributes: 0, name: 'A' }), second, third);
      expect(await pipes.serverPending()).toBe(0);
      expect(await pipes.clientPending()).toBe(0);
      expect(pipes.routed).toHaveLength(1);
      settle(replyFrame(0x2222));
      expect((await pipes.clientReads(64)).readUInt32LE(8)).toBe(0x2222);
      expect((await pipes.serverReads(second.length + third.length)).equals(Buffer.concat([second, third]))).toBe(true);
      expect(pipes.routed.map((r) => r.idle)).toEqual([true, true, false]);
      expect(await pipes.clientPending()).toBe(0);
    } finally {
      pipes.close();
    }
  });

  it('forwards a request whose routing throws or rejects, and goes on', async () => {
    const pipes = relayOnPipes([
      () => {
        throw new Error('router broken');
      },
      () => Promise.reject(new Error('router rejected')),
      () => replyFrame(0x4444),
    ]);
    try {
      const first = frame('open_key', { parent: 0, access: 1, attributes: 0, name: 'Throws' });
      const second = frame('open_key', { parent: 0, access: 1, attributes: 0, name: 'Rejects' });
      pipes.send(first);
      expect((await pipes.serverReads(first.length)).equals(first)).toBe(true);
      pipes.send(second);
      expect((await pipes.serverReads(second.length)).equals(second)).toBe(true);
      pipes.send(frame('open_key', { parent: 0, access: 1, attributes: 0, name: 'Answered' }));
      expect((await pipes.clientReads(64)).readUInt32LE(8)).toBe(0x4444);
      expect(pipes.isClosed()).toBe(false);
    } finally {
      pipes.close();
    }
  });
});

describe('thread relay hooks', () => {
  it("sends the frame the host rewrote in place of the client's, and the client's when it declines", async () => {
    const rewritten = frame('close_handle', { handle: 0x22 });
    const pipes = relayOnPipes([], {
      rewriteRequest: (_thread, request) =>
        request.bytes.readUInt32LE(12) === 0x10 ? { code: request.code, requestSize: 0, replySize: request.replySize, bytes: rewritten } : null,
    });
    try {
      pipes.send(frame('close_handle', { handle: 0x10 }));
      expect((await pipes.serverReads(64)).readUInt32LE(12)).toBe(0x22);
      pipes.send(frame('close_handle', { handle: 0x30 }));
      expect((await pipes.serverReads(64)).readUInt32LE(12)).toBe(0x30);
    } finally {
      pipes.close();
    }
  });

  it('ends the thread when wineserver closes its reply pipe, at once when asked to read it now', async () => {
    let endings = 0;
    const pipes = relayOnPipes([], { threadEnding: () => endings++ });
    try {
      pipes.relay.readServerRepliesNow();
      expect(endings).toBe(0);
      pipes.serverEndsReplies();
      // Synchronously, without a turn of the loop (a terminate_thread reply is inspected this way).
      pipes.relay.readServerRepliesNow();
      expect(endings).toBe(1);
    } finally {
      pipes.close();
    }
  });

  it('ends the thread when wineserver closes its reply pipe, seen by the loop too', async () => {
    let endings = 0;
    const pipes = relayOnPipes([], { threadEnding: () => endings++ });
    try {
      pipes.serverEndsReplies();
      const deadline = Date.now() + 5_000;
      while (endings === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(endings).toBe(1);
    } finally {
      pipes.close();
    }
  });
});

describe('translation router without waiting', () => {
  let prefix = '';
  let router: TranslationRouter;

  beforeAll(async () => {
    await ensureTemplatePrefix();
    prefix = await createTestPrefix('sync-routing');
    router = await TranslationRouter.start({ backend: createInProcessBackend(), prefix, protocolVersion: protocol.protocolVersion, log, kernid: `sync-routing-${process.pid}` });
  }, 120_000);

  afterAll(async () => {
    await router?.stop();
    if (prefix) await removeTestPrefix(prefix);
  });

  it('answers registry reads with a frame, not a promise, and forwards wineserver handles with null', async () => {
    const CURRENT_VERSION = '\\Registry\\Machine\\Software\\Microsoft\\Windows NT\\CurrentVersion';
    // The first request of a process opens its session; the registry is loaded already.
    const first = await router.route(1, 0x20, 0x24, frame('open_key', { parent: 0, access: 0x20019, attributes: 0x40, name: CURRENT_VERSION }));
    expect(first).toBeInstanceOf(Buffer);
    const open = router.route(1, 0x20, 0x24, frame('open_key', { parent: 0, access: 0x20019, attributes: 0x40, name: CURRENT_VERSION }));
    expect(open).toBeInstanceOf(Buffer);
    const opened = protocol.decodeReply(protocol.codeOf('open_key'), open as Buffer);
    expect(opened.error).toBe(0);
    const hkey = opened.body.hkey as number;

    const value = router.route(1, 0x20, 0x24, frame('get_key_value', { hkey, name: 'CurrentBuild' }, 256));
    expect(value).toBeInstanceOf(Buffer);
    const read = protocol.decodeReply(protocol.codeOf('get_key_value'), value as Buffer);
    expect(read.error).toBe(0);
    expect((read.body.data as Buffer).length).toBeGreaterThan(0);

    expect(router.route(1, 0x20, 0x24, frame('close_handle', { handle: 0x10 }))).toBeNull();
    // close_handle of a proxy key may wait (its family's close hook): either way it is answered.
    const closed = await router.route(1, 0x20, 0x24, frame('close_handle', { handle: hkey }));
    expect(protocol.decodeReply(protocol.codeOf('close_handle'), closed as Buffer).error).toBe(0);
    expect(router.stats.translated.open_key).toBeGreaterThanOrEqual(2);
  });

  it('gives a frame it cannot decode as a rejected promise, never a throw', async () => {
    const good = frame('open_key', { parent: 0, access: 0x20019, attributes: 0x40, name: 'x' });
    const truncated = good.subarray(0, good.length - 2);
    let result: unknown;
    expect(() => {
      result = router.route(1, 0x20, 0x24, truncated);
    }).not.toThrow();
    expect(result).toBeInstanceOf(Promise);
    await expect(result).rejects.toMatchObject({ code: 'WK_FRAME_TRUNCATED' });
  });
});
