// The three pipes of one client thread, relayed through the proxy:
//   request pipe  client -> proxy -> wineserver  (framed requests)
//   reply pipe    wineserver -> proxy -> client  (framed replies)
//   wait pipe     wineserver -> proxy -> client  (16-byte wake_up_reply)
// Every request and reply is framed, recorded and matched (replies come in
// request order; a well-behaved thread has at most one outstanding). What a
// request does with descriptors is the connection's business (host hooks).

import type { Logger } from 'pino';
import { WinekernelError } from '../../errors/winekernel-error.ts';
import { ReplyFramer, RequestFramer, retainFrameBytes, type FrameSink, type ReplyFrame, type RequestFrame } from '../../requests/framing.ts';
import type { ProtocolError } from '../../requests/errors.ts';
import { FdReader, FdWriter } from '../io/pipe-io.ts';
import { AUX_SERVER_CALL, AUX_TRANSLATED, Direction, RecordKind, ViolationChannel } from '../recording/format.ts';
import type { Recorder, RecordContext } from '../recording/writer.ts';
import { isPromise, type Awaitable } from '../../mappings/translator.ts';

export const WAKE_UP_REPLY_SIZE = 16;

/** A server call (`ThreadRelay.callServer`) that cannot be made or did not get its reply. */
export class ServerCallError extends WinekernelError<'WK_SERVER_CALL_NOT_HELD' | 'WK_SERVER_CALL_THREAD_CLOSED' | 'WK_SERVER_CALL_BAD_FRAME'> {}

/** Who waits for the reply of a server call. */
interface ServerCallWaiter {
  resolve(reply: Buffer): void;
  reject(error: Error): void;
}
/** Requests kept back behind a held one before reading their pipe stops. */
const MAX_HELD_FRAMES_BEFORE_PAUSE = 8;

export interface ThreadHost {
  readonly recorder: Recorder;
  /**
   * Called for each request before it is forwarded, with the thread held (so
   * it may make server calls first). Returns true when the request may go at
   * once, or false after arranging to call `resume` when it may (descriptor
   * messages still queued on the server socket, a server call to answer).
   */
  prepareRequest(thread: ThreadRelay, frame: RequestFrame, resume: () => void): boolean;
  /**
   * A request about to be forwarded, changed for wineserver: null to send it
   * as the client wrote it, or the frame to send (and record) in its place.
   * Called before `prepareRequest`.
   */
  rewriteRequest?(thread: ThreadRelay, frame: RequestFrame): RequestFrame | null;
  /**
   * With translation on (`--translate`): null to forward the request, or the
   * reply frame the proxy answers with itself, or a promise of either when
   * the answer has to wait (server calls, a contended lock). A plain value is
   * written in the same call stack. A throw or a rejection forwards the
   * request (logged). `idle` says no forwarded request of this thread is
   * waiting for its reply.
   */
  routeRequest?(thread: ThreadRelay, frame: RequestFrame, idle: boolean): Awaitable<Buffer | null>;
  /** Called for each reply (with the request code it answers, -1 if unknown) before it is forwarded. */
  inspectReply(thread: ThreadRelay, code: number, frame: ReplyFrame): void;
  /** A framing violation: the host decides the fate of the client. */
  protocolViolation(thread: ThreadRelay, channel: ViolationChannel, error: ProtocolError): void;
  /**
   * The client closed the thread's request pipe (the thread or its process
   * ended), called before wineserver's end of it is closed; its other pipes
   * may stay open a while longer.
   */
  threadEnding?(thread: ThreadRelay): void;
  /** All pipes of the thread are closed. */
  threadClosed(thread: ThreadRelay): void;
}

/** What one relayed thread is doing, for the state dump (`winekernel run/serve`, SIGUSR2). */
export interface ThreadRelayState {
  key: number;
  tid: number;
  first: boolean;
  /** Codes of requests sent to wineserver still waiting for their reply, oldest first (server calls included). */
  outstanding: number[];
  /** Of those, how many are the proxy's own server calls. */
  serverCalls: number;
  /** A routed request the proxy is still answering: its code and for how long (ms). */
  routing: { code: number; forMs: number } | null;
  /** Later requests kept back meanwhile. */
  held: number;
  pipes: { request: boolean; reply: boolean; wait: boolean };
}

interface PipeLeg {
  reader: FdReader;
  writer: FdWriter;
}

export class ThreadRelay {
  /** Wine thread id, once a reply has told us. */
  tid = 0;
  /** The same context object is reused by every record of this thread. */
  readonly context: RecordContext;
  log: Logger;

  private request: PipeLeg;
  private reply: PipeLeg | null = null;
  private wait: PipeLeg | null = null;
  // Frames are views of the read buffer, valid while their sink call runs:
  // a forwarded frame is written (or copied into the writer's queue) before
  // it returns; frames kept longer (held, routed) are copied here.
  private readonly requestFramer = new RequestFramer(undefined, { copyFrames: false });
  private readonly replyFramer = new ReplyFramer({ copyFrames: false });
  /** Codes of forwarded requests still waiting for their reply, oldest first. */
  private readonly outstanding: number[] = [];
  /**
   * Parallel to `outstanding`: the waiter of a server call (a request the
   * proxy sent itself; its reply is not the client's), null for a client's
   * request. Empty while no server call was ever made.
   */
  private readonly callWaiters: (ServerCallWaiter | null)[] = [];
  private serverCallsMade = false;
  /** Frames held back while `prepareRequest` waits. */
  private readonly held: RequestFrame[] = [];
  private holding = false;
  private readonly waitPartial = Buffer.alloc(WAKE_UP_REPLY_SIZE);
  private waitPartialLength = 0;
  private closed = false;
  /** The routed request whose answer is awaited (awaitRouted), for the state dump. */
  private routing: { code: number; since: number } | null = null;
  private readonly traceEnabled: boolean;

  private readonly requestSink: FrameSink<RequestFrame> = {
    frame: (frame) => this.onRequestFrame(frame),
    error: (error) => this.host.protocolViolation(this, ViolationChannel.RequestPipe, error),
  };
  private readonly replySink: FrameSink<ReplyFrame> = {
    frame: (frame) => this.onReplyFrame(frame),
    error: (error) => this.host.protocolViolation(this, ViolationChannel.ReplyPipe, error),
  };

  constructor(
    readonly key: number,
    readonly isFirst: boolean,
    private readonly host: ThreadHost,
    connectionContext: RecordContext,
    log: Logger,
    requestFromClient: number,
    requestToServer: number,
  ) {
    this.context = { ...connectionContext, threadKey: key };
    this.log = log;
    this.traceEnabled = log.isLevelEnabled('trace');
    this.request = this.makeLeg(requestFromClient, requestToServer, 'request', (chunk, reader) => {
      this.requestFramer.push(chunk, this.requestSink);
      if (this.requestFramer.pendingBytes > 0) reader.detachBuffer();
    });
    host.recorder.record(RecordKind.ThreadOpen, Direction.None, this.context, -1, isFirst ? 1 : 0, Buffer.alloc(0));
  }

  /** The thread's reply pipe: our read end (wineserver writes) and the client's write end. */
  attachReplyPipe(fromServer: number, toClient: number): void {
    this.reply?.reader.close();
    this.reply?.writer.close();
    this.reply = this.makeLeg(fromServer, toClient, 'reply', (chunk, reader) => {
      this.replyFramer.push(chunk, this.replySink);
      if (this.replyFramer.pendingBytes > 0) reader.detachBuffer();
    });
  }

  /** The thread's wait pipe: our read end (wineserver writes) and the client's write end. */
  attachWaitPipe(fromServer: number, toClient: number): void {
    this.wait?.reader.close();
    this.wait?.writer.close();
    this.wait = this.makeLeg(fromServer, toClient, 'wait', (chunk) => this.onWaitBytes(chunk));
  }

  setTid(tid: number): void {
    if (this.tid === tid) return;
    this.tid = tid;
    this.context.tid = tid;
    this.log = this.log.child({ tid });
    this.host.recorder.record(RecordKind.ThreadId, Direction.None, this.context, -1, 0, Buffer.alloc(0));
  }

  /** Updates the process identity carried by this thread's records. */
  setProcessIdentity(pid: number, unixPid: number): void {
    this.context.pid = pid;
    this.context.unixPid = unixPid;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Sends a request of the proxy's own to wineserver on this thread's pipes
   * and resolves with wineserver's reply frame, which the client never sees.
   * Only while a routed request of this thread is being answered (the thread
   * is held, and the client is blocked reading its reply pipe), so that the
   * request is wineserver's `current` thread's and nothing of the client's
   * interleaves. The frame must be a whole request (header + data).
   */
  callServer(request: Buffer): Promise<Buffer> {
    if (this.closed) return Promise.reject(new ServerCallError('WK_SERVER_CALL_THREAD_CLOSED', 'the thread is gone'));
    if (!this.holding || !this.reply) {
      return Promise.reject(new ServerCallError('WK_SERVER_CALL_NOT_HELD', 'server calls are made only while a routed request of the thread is answered'));
    }
    if (request.length < 64 || request.length !== 64 + request.readUInt32LE(4)) {
      return Promise.reject(new ServerCallError('WK_SERVER_CALL_BAD_FRAME', `server call frame of ${request.length} bytes does not match its header`));
    }
    const code = request.readInt32LE(0);
    return new Promise<Buffer>((resolve, reject) => {
      if (!this.serverCallsMade) {
        this.serverCallsMade = true;
        for (let i = 0; i < this.outstanding.length; i++) this.callWaiters.push(null);
      }
      this.host.recorder.record(RecordKind.Request, Direction.ClientToServer, this.context, code, AUX_SERVER_CALL, request);
      if (this.traceEnabled) this.log.trace({ code, size: request.length }, 'server call');
      this.outstanding.push(code);
      this.callWaiters.push({ resolve, reject });
      this.replyFramer.expect(request.readUInt32LE(8));
      this.request.writer.write(request);
    });
  }

  /**
   * Writes a wake-up of the proxy's own (16 bytes: cookie, signaled status,
   * padding) to the client's wait pipe: the end of a wait the proxy answered
   * with STATUS_PENDING (a select on proxy objects). Recorded flagged as
   * translated. False when the thread has no wait pipe (any more).
   */
  deliverWakeup(cookie: bigint, signaled: number): boolean {
    if (this.closed || !this.wait) return false;
    // From Node's pool, as reply frames (a small Buffer.alloc would be copied out of the JS heap by the write).
    const bytes = Buffer.allocUnsafe(WAKE_UP_REPLY_SIZE).fill(0);
    bytes.writeBigUInt64LE(BigInt.asUintN(64, cookie), 0);
    bytes.writeInt32LE(signaled | 0, 8);
    this.host.recorder.record(RecordKind.Wakeup, Direction.ServerToClient, this.context, -1, AUX_TRANSLATED, bytes);
    this.wait.writer.write(bytes);
    return true;
  }

  /** Closes every pipe end the proxy holds for this thread. */
  close(reason: string): void {
    if (this.closed) return;
    for (const leg of [this.request, this.reply, this.wait]) {
      leg?.reader.close();
      leg?.writer.close();
    }
    this.finish(reason);
  }

  /** A snapshot of what the thread waits for (for the state dump; not on any hot path). */
  describe(now = Date.now()): ThreadRelayState {
    return {
      key: this.key,
      tid: this.tid,
      first: this.isFirst,
      outstanding: [...this.outstanding],
      serverCalls: this.callWaiters.filter((waiter) => waiter !== null).length,
      routing: this.routing ? { code: this.routing.code, forMs: now - this.routing.since } : null,
      held: this.held.length,
      pipes: { request: !this.request.reader.isClosed, reply: !!this.reply && !this.reply.reader.isClosed, wait: !!this.wait && !this.wait.reader.isClosed },
    };
  }

  /** Descriptors the proxy holds for this thread (for leak accounting). */
  openDescriptors(): number {
    let count = 0;
    for (const leg of [this.request, this.reply, this.wait]) {
      if (!leg) continue;
      if (!leg.reader.isClosed) count++;
      if (!leg.writer.isClosed) count++;
    }
    return count;
  }

  /**
   * Reads what wineserver has written on this thread's reply pipe now,
   * outside the loop's order. wineserver closes the pipe of a thread it
   * kills before it answers the killer, so after a terminate_thread reply an
   * end found here ends the victim's translated state (threadEnding) before
   * the killer goes on.
   */
  readServerRepliesNow(): void {
    this.reply?.reader.drainNow();
  }

  private makeLeg(
    readFd: number,
    writeFd: number,
    name: 'request' | 'reply' | 'wait',
    onData: (chunk: Buffer, reader: FdReader) => void,
  ): PipeLeg {
    const leg = {} as PipeLeg;
    leg.writer = new FdWriter(writeFd, {
      error: (error) => {
        // The reading side is gone: nothing more can be delivered this way.
        if (this.traceEnabled) this.log.trace({ pipe: name, err: error.message }, 'pipe peer gone');
        leg.reader.close();
        this.checkDone(`${name} pipe peer closed`);
      },
      drain: () => leg.reader.resume(),
    });
    leg.reader = new FdReader(readFd, {
      data: (chunk) => {
        onData(chunk, leg.reader);
        // Backpressure: stop reading while the other side cannot keep up.
        if (leg.writer.pending > 1024 * 1024) leg.reader.pause();
      },
      end: (error) => {
        if (error) this.log.warn({ pipe: name, err: error.message }, 'pipe read failed');
        // The client's thread is gone (its request pipe ended: the host ends
        // what it keeps for the thread before wineserver can learn of the
        // death from this pipe), or wineserver killed it (it closed the
        // thread's reply pipe: TerminateThread from another thread).
        if (name === 'request' || name === 'reply') this.host.threadEnding?.(this);
        leg.writer.end();
        this.checkDone(`${name} pipe closed`);
      },
    });
    return leg;
  }

  private onRequestFrame(frame: RequestFrame): void {
    if (this.closed) return;
    if (this.holding) {
      this.held.push(retainFrameBytes(frame));
      // Reading on while held costs nothing (a client waits for each reply);
      // stopping the watcher only bounds what a runaway client makes us keep.
      if (this.held.length >= MAX_HELD_FRAMES_BEFORE_PAUSE) this.request.reader.pause();
      return;
    }
    if (!this.reply || !this.host.routeRequest) {
      this.forwardPrepared(frame, false);
      return;
    }
    // Held from before the router runs: a translator may make server calls
    // (callServer) before its promise is even returned.
    this.hold();
    let routed: Awaitable<Buffer | null>;
    try {
      routed = this.host.routeRequest(this, frame, this.outstanding.length === 0);
    } catch (error) {
      routed = Promise.reject(error);
    }
    if (routed === null) {
      this.holding = false;
      this.forwardPrepared(frame, false);
    } else if (!isPromise(routed)) {
      // Answered without waiting: the reply goes out in this call stack.
      this.answerLocally(frame, routed);
      this.release();
    } else {
      this.awaitRouted(retainFrameBytes(frame), routed);
    }
  }

  /**
   * A routed request whose answer has to wait. Nothing of this thread passes
   * until the proxy's answer is out: the client waits for replies in request
   * order.
   */
  private awaitRouted(frame: RequestFrame, routed: Promise<Buffer | null>): void {
    this.routing = { code: frame.code, since: Date.now() };
    routed.then(
      (reply) => {
        this.routing = null;
        if (this.closed) return;
        if (reply) {
          this.answerLocally(frame, reply);
          this.release();
        } else this.forwardPrepared(frame, true);
      },
      (error: Error) => {
        this.routing = null;
        this.log.error({ code: frame.code, err: error.message }, 'routing failed; forwarding the request');
        if (!this.closed) this.forwardPrepared(frame, true);
      },
    );
  }

  /** Forwards once the host has prepared the request's descriptors; `held`: the thread is held already. */
  private forwardPrepared(frame: RequestFrame, held: boolean): void {
    frame = this.host.rewriteRequest?.(this, frame) ?? frame;
    let kept: RequestFrame | null = null;
    // Held while the host prepares: it may make server calls first.
    this.hold();
    const ready = this.host.prepareRequest(this, frame, () => {
      if (this.closed) return;
      this.forwardRequest(kept ?? frame);
      this.release();
    });
    if (!ready) {
      // Forwarded later, after the read buffer has moved on.
      kept = retainFrameBytes(frame);
      return;
    }
    this.forwardRequest(frame);
    if (held) this.release();
    else this.holding = false;
  }

  /**
   * Keeps the thread's later requests back until `release`. The reader is not
   * paused at once: a routed request usually resolves within the same loop
   * turn, and stopping and restarting the watcher would cost two epoll_ctl
   * calls per request.
   */
  private hold(): void {
    this.holding = true;
  }

  private release(): void {
    this.holding = false;
    if (this.closed) return;
    if (this.held.length === 0) {
      this.request.reader.resume();
      return;
    }
    const waiting = this.held.splice(0);
    for (const frame of waiting) this.onRequestFrame(frame);
    if (!this.holding) this.request.reader.resume();
  }

  /** The proxy's own reply to a translated request: recorded (flagged) and written to the client's reply pipe. */
  private answerLocally(frame: RequestFrame, reply: Buffer): void {
    this.host.recorder.record(RecordKind.Request, Direction.ClientToServer, this.context, frame.code, AUX_TRANSLATED, frame.bytes);
    this.host.recorder.record(RecordKind.Reply, Direction.ServerToClient, this.context, frame.code, AUX_TRANSLATED, reply);
    if (this.traceEnabled) this.log.trace({ code: frame.code, size: reply.length }, 'translated');
    this.reply?.writer.write(reply);
  }

  private forwardRequest(frame: RequestFrame): void {
    this.host.recorder.record(RecordKind.Request, Direction.ClientToServer, this.context, frame.code, 0, frame.bytes);
    if (this.traceEnabled) this.log.trace({ code: frame.code, size: frame.bytes.length }, 'request');
    this.outstanding.push(frame.code);
    if (this.serverCallsMade) this.callWaiters.push(null);
    this.replyFramer.expect(frame.replySize);
    this.request.writer.write(frame.bytes);
  }

  private onReplyFrame(frame: ReplyFrame): void {
    const code = this.outstanding.length > 0 ? this.outstanding.shift()! : -1;
    const waiter = this.serverCallsMade ? this.callWaiters.shift() : null;
    if (waiter) {
      this.host.recorder.record(RecordKind.Reply, Direction.ServerToClient, this.context, code, AUX_SERVER_CALL, frame.bytes);
      waiter.resolve(Buffer.from(frame.bytes));
      return;
    }
    this.host.recorder.record(RecordKind.Reply, Direction.ServerToClient, this.context, code, 0, frame.bytes);
    if (this.traceEnabled) this.log.trace({ code, error: frame.error, size: frame.bytes.length }, 'reply');
    this.host.inspectReply(this, code, frame);
    this.reply?.writer.write(frame.bytes);
  }

  private onWaitBytes(chunk: Buffer): void {
    // Wake-ups are fixed-size records; forward whole ones so a record of the
    // recording always equals one wake-up the client reads.
    let at = 0;
    if (this.waitPartialLength > 0) {
      const take = Math.min(WAKE_UP_REPLY_SIZE - this.waitPartialLength, chunk.length);
      chunk.copy(this.waitPartial, this.waitPartialLength, 0, take);
      this.waitPartialLength += take;
      at = take;
      if (this.waitPartialLength < WAKE_UP_REPLY_SIZE) return;
      this.forwardWakeup(this.waitPartial);
      this.waitPartialLength = 0;
    }
    while (chunk.length - at >= WAKE_UP_REPLY_SIZE) {
      this.forwardWakeup(chunk.subarray(at, at + WAKE_UP_REPLY_SIZE));
      at += WAKE_UP_REPLY_SIZE;
    }
    if (at < chunk.length) {
      chunk.copy(this.waitPartial, 0, at);
      this.waitPartialLength = chunk.length - at;
    }
  }

  /** `bytes` may be a view of a reused buffer: the recorder and the writer copy what they keep. */
  private forwardWakeup(bytes: Buffer): void {
    this.host.recorder.record(RecordKind.Wakeup, Direction.ServerToClient, this.context, -1, 0, bytes);
    if (this.traceEnabled) this.log.trace({ cookie: bytes.readBigUInt64LE(0).toString(16), signaled: bytes.readInt32LE(8) }, 'wakeup');
    this.wait?.writer.write(bytes);
  }

  private checkDone(reason: string): void {
    if (this.closed) return;
    for (const leg of [this.request, this.reply, this.wait]) {
      if (leg && !leg.reader.isClosed) return;
    }
    // Readers all closed; writers are closed or close themselves once flushed.
    this.finish(reason);
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.callWaiters.splice(0)) {
      waiter?.reject(new ServerCallError('WK_SERVER_CALL_THREAD_CLOSED', `the thread closed (${reason}) before wineserver answered a server call`));
    }
    this.host.recorder.note(this.context, RecordKind.ThreadClose, { reason });
    this.host.threadClosed(this);
  }
}
