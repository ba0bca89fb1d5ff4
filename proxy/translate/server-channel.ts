// Server calls (docs/translation.md, "Server calls"): a translator that needs
// something only wineserver has — the unix descriptor behind a file handle,
// setting one of the caller's events, a privilege check against the caller's
// token — asks wineserver itself, on the caller's own thread, while the
// caller is blocked waiting for the reply to its translated request. To
// wineserver the call is an ordinary request of that thread, so it acts with
// the caller's process, handle table and token; the client never sees it.
//
// Descriptors: wineserver sends get_handle_fd's descriptor on the process
// socket (4 bytes of data: the handle) before it writes the reply. The
// connection lets the channel claim the next descriptor message for a handle
// (ServerFdClaims) so that it reaches the translator instead of the client.

import type { DecodedReply, Protocol } from '../../requests/protocol.ts';
import type { ServerChannel, ServerFd } from '../../mappings/translator.ts';
import type { ThreadRelay } from '../relay/thread-relay.ts';
import { WinekernelError } from '../../errors/winekernel-error.ts';

/** How long a claimed descriptor may lag behind get_handle_fd's reply. */
const FD_ARRIVAL_TIMEOUT_MS = 5000;

export class ServerFdError extends WinekernelError<'WK_SERVER_FD_MISSING'> {
  constructor(message: string) {
    super('WK_SERVER_FD_MISSING', message);
  }
}

/** A claim on the next descriptor wineserver sends for a handle. */
export interface FdClaim {
  /** Resolves with the descriptor; rejects if none comes in time. */
  readonly fd: Promise<number>;
  /** Gives the claim up (the call failed): a descriptor arriving later goes to the client. */
  cancel(): void;
}

/** Implemented by the client connection, which reads the process socket. */
export interface ServerFdClaims {
  claimServerFd(handle: number, timeoutMs: number): FdClaim;
  /** Reads what already waits on the process socket (the descriptor usually does by the time the reply is read). */
  receivePendingServerMessages(): void;
}

export class ThreadServerChannel implements ServerChannel {
  constructor(
    private readonly thread: ThreadRelay,
    private readonly claims: ServerFdClaims,
    private readonly protocol: Protocol,
  ) {}

  async call(name: string, body: Record<string, unknown>, replySize = 0): Promise<DecodedReply> {
    const code = this.protocol.codeOf(name);
    const frame = this.protocol.encodeRequest({ code, replySize, body });
    const reply = await this.thread.callServer(frame);
    return this.protocol.decodeReply(code, reply);
  }

  deliverWakeup(cookie: bigint, signaled: number): boolean {
    return this.thread.deliverWakeup(cookie, signaled);
  }

  async handleFd(handle: number): Promise<ServerFd | { error: number }> {
    // Claimed before the request is written: the descriptor may be read
    // from the socket before the reply is.
    const claim = this.claims.claimServerFd(handle, FD_ARRIVAL_TIMEOUT_MS);
    let reply: DecodedReply;
    try {
      reply = await this.call('get_handle_fd', { handle });
    } catch (error) {
      claim.cancel();
      throw error;
    }
    if (reply.error !== 0) {
      claim.cancel();
      return { error: reply.error };
    }
    this.claims.receivePendingServerMessages();
    const fd = await claim.fd;
    const body = reply.body as { type: number; access: number; options: number };
    return { fd, type: body.type, access: body.access, options: body.options };
  }
}
