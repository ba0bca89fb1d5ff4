// One client process as seen by the proxy: its socket (descriptor messages
// both ways) and its threads' pipes. This is where the proxy inserts itself:
//
// * wineserver's first message on a new connection carries the write end of
//   the first thread's request pipe (with SERVER_PROTOCOL_VERSION as data).
//   The proxy keeps it and hands the client the write end of a pipe of its
//   own instead.
// * init_first_thread / init_thread name the thread's reply and wait pipes,
//   new_thread the read end of a new thread's request pipe, new_process a
//   socket for the child process: the proxy sends wineserver ends of pipes
//   (a socket pair) of its own under the same fd numbers and relays between
//   the two.
// * every other descriptor (alloc_file_handle's, get_handle_fd's) passes
//   unchanged.

import type { Logger } from 'pino';
import { REQUEST_FIXED_SIZE, type ReplyFrame, type RequestFrame } from '../../requests/framing.ts';
import type { ProtocolError } from '../../requests/errors.ts';
import { fdAddon, type FdMessage } from '../native.ts';
import { FdSocket } from '../io/fd-socket.ts';
import { Direction, FdRoleCode, RecordKind, ViolationChannel } from '../recording/format.ts';
import type { Recorder, RecordContext } from '../recording/writer.ts';
import type { FdField, ProxyProtocol } from '../protocol-adapter.ts';
import { InflightFds, type InflightFd } from './inflight-fds.ts';
import { ThreadRelay, type ThreadHost, type ThreadRelayState } from './thread-relay.ts';
import type { TranslationRouter } from '../translate/router.ts';
import type { Awaitable } from '../../mappings/translator.ts';
import { PROCESS_CREATE_FLAGS_INHERIT_HANDLES } from '../../mappings/handles.ts';
import type { ElementList } from '../../requests/kinds/element-list.ts';
import { ServerFdError, ThreadServerChannel, type FdClaim, type ServerFdClaims } from '../translate/server-channel.ts';

/** How a connection came to be. */
export type ConnectionOrigin = 'accepted' | 'adopted' | 'child';

export interface ConnectionEnvironment {
  readonly protocol: ProxyProtocol;
  readonly recorder: Recorder;
  readonly log: Logger;
  nextConnectionId(): number;
  nextThreadKey(): number;
  connectionOpened(connection: ClientConnection): void;
  connectionClosed(connection: ClientConnection): void;
  /** wineserver announced a protocol version (first message of a connection). */
  protocolAnnounced(version: number): void;
  /** Present with `--translate`: decides which requests the proxy answers itself (proxy/translate/). */
  readonly router?: TranslationRouter | null;
}

const SEND_FD_SIZE = 8;

/** A translator waiting for the descriptor wineserver sends for a handle. */
interface PendingFdClaim {
  handle: number;
  resolve(fd: number): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** ClientConnection.describe(): a client process and its threads, request codes named. */
export interface ClientConnectionState {
  connection: number;
  pid: number;
  unixPid: number;
  origin: ConnectionOrigin;
  parent: number | null;
  /** Which ends of the process socket are still open. */
  socket: { client: boolean; server: boolean };
  unclaimedFds: number;
  threads: Array<Omit<ThreadRelayState, 'outstanding' | 'routing'> & { outstanding: string[]; routing: { request: string; forMs: number } | null }>;
}

/** What a new_process asks the child to inherit (translation on). */
interface InheritanceAsked {
  /** The explicit handle list (PROC_THREAD_ATTRIBUTE_HANDLE_LIST), or null for every inheritable handle. */
  list: number[] | null;
  /** The handle of the process named as the parent (PROC_THREAD_ATTRIBUTE_PARENT_PROCESS), 0 for the caller. */
  parentProcess: number;
  /** The client connection whose handles are inherited: the caller's, or the named parent's once resolved. */
  from: number;
}

export class ClientConnection implements ThreadHost, ServerFdClaims {
  readonly id: number;
  readonly context: RecordContext;
  log: Logger;
  /** Wine process id, once a reply has told us. */
  winePid = 0;
  unixPid = 0;

  private readonly client: FdSocket;
  private readonly server: FdSocket;
  private readonly threads = new Map<number, ThreadRelay>();
  private firstThread: ThreadRelay | null = null;
  private readonly inflight = new InflightFds();
  private sawServerGreeting = false;
  private clientEnded = false;
  private serverEnded = false;
  private closed = false;
  /**
   * Child connections created by new_process requests, waiting for the
   * reply's pid; with translation, the handles the child inherits (null: all
   * inheritable ones, a list: those of PROC_THREAD_ATTRIBUTE_HANDLE_LIST)
   * when the request asked for inheritance from this process.
   */
  private readonly pendingChildren = new Map<ThreadRelay, { child: ClientConnection; inherit: InheritanceAsked | null }>();
  /** Threads created by new_thread requests, waiting for the reply's tid. */
  private readonly pendingNewThreads = new Map<ThreadRelay, ThreadRelay>();
  /** Descriptors claimed by server calls (get_handle_fd), oldest first. */
  private readonly fdClaims: PendingFdClaim[] = [];
  /** Each thread's way to wineserver for translators (server calls), made on first use. */
  private readonly serverChannels = new Map<ThreadRelay, ThreadServerChannel>();

  constructor(
    private readonly env: ConnectionEnvironment,
    clientFd: number,
    serverFd: number,
    readonly origin: ConnectionOrigin,
    readonly parent: ClientConnection | null = null,
  ) {
    this.id = env.nextConnectionId();
    this.context = { connection: this.id, threadKey: 0, tid: 0, pid: 0, unixPid: 0 };
    this.log = env.log.child({ conn: this.id });
    this.client = new FdSocket(clientFd, {
      message: (message) => this.onClientMessage(message),
      end: (error) => this.onClientEnd(error),
    });
    this.server = new FdSocket(serverFd, {
      message: (message) => this.onServerMessage(message),
      end: (error) => this.onServerEnd(error),
    });
    env.recorder.note(this.context, RecordKind.ConnectionOpen, { origin, parent: parent?.id ?? null });
    this.log.debug({ origin, parent: parent?.id }, 'client connection opened');
    env.connectionOpened(this);
  }

  get recorder(): Recorder {
    return this.env.recorder;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get threadCount(): number {
    return this.threads.size;
  }

  /**
   * What this client's threads wait for, request codes named (the state dump
   * of `winekernel run/serve` on SIGUSR2: which request of which thread a
   * stuck program waits on, and whether wineserver or the proxy has it).
   */
  describe(now = Date.now()): ClientConnectionState {
    const name = (code: number) => this.env.protocol.requestName(code);
    return {
      connection: this.id,
      pid: this.winePid,
      unixPid: this.unixPid,
      origin: this.origin,
      parent: this.parent?.id ?? null,
      socket: { client: !this.clientEnded, server: !this.serverEnded },
      unclaimedFds: this.inflight.size,
      threads: [...this.threads.values()].map((thread) => {
        const state = thread.describe(now);
        return {
          ...state,
          outstanding: state.outstanding.map(name),
          routing: state.routing ? { request: name(state.routing.code), forMs: state.routing.forMs } : null,
        };
      }),
    };
  }

  /** Descriptors the proxy holds for this client (for leak accounting). */
  openDescriptors(): number {
    let count = (this.client.isClosed ? 0 : 1) + (this.server.isClosed ? 0 : 1) + this.inflight.size;
    for (const thread of this.threads.values()) count += thread.openDescriptors();
    return count;
  }

  /** Tears down everything at once (proxy shutdown, or a violating client). */
  close(reason: string): void {
    if (this.closed) return;
    for (const thread of [...this.threads.values()]) thread.close(reason);
    this.client.close();
    this.server.close();
    this.clientEnded = this.serverEnded = true;
    this.finish(reason);
  }

  // ---- socket: client -> server -------------------------------------------

  private onClientMessage(message: FdMessage): void {
    if (message.extraFds > 0 || message.truncated) {
      this.log.warn({ extraFds: message.extraFds, truncated: message.truncated }, 'client sent a malformed descriptor message');
    }
    if (message.data.length !== SEND_FD_SIZE || message.fd < 0) {
      // Not what a Wine client sends; wineserver judges it (it kills the
      // process for a partial message). Passing it on keeps behaviour identical.
      this.recorder.record(RecordKind.ProtocolViolation, Direction.ClientToServer, this.context, -1, ViolationChannel.Socket, message.data);
      this.forwardToServer(message.fd, message.data, FdRoleCode.Plain, this.context);
      return;
    }
    const overflow = this.inflight.add({
      tid: message.data.readUInt32LE(0),
      clientFd: message.data.readInt32LE(4),
      fd: message.fd,
      data: message.data,
    });
    // Far more unclaimed descriptors than wineserver would keep: pass the
    // oldest on; wineserver drops it (or keeps it) exactly as without us.
    if (overflow) this.forwardToServer(overflow.fd, overflow.data, FdRoleCode.Plain, this.context);
  }

  private forwardToServer(fd: number, data: Buffer, role: FdRoleCode, context: RecordContext): void {
    this.recorder.record(RecordKind.FdToServer, Direction.ClientToServer, context, -1, role, data);
    this.server.send(fd, data, true);
  }

  private onClientEnd(error?: Error): void {
    if (error) this.log.warn({ err: error.message }, 'client socket failed');
    this.clientEnded = true;
    // The process is gone (its threads' pipes may not have been seen closing
    // yet): its translated state ends first, so that no waiter wineserver
    // wakes for the process's end finds a proxy mutex still held by it.
    this.endTranslatedThreads([...this.threads.values()]);
    // wineserver learns that the process is gone by the end of its socket.
    this.server.close();
    this.serverEnded = true;
    for (const entry of this.inflight.takeAll()) this.dropInflight(entry);
    this.checkDone('client closed its socket');
  }

  // ---- socket: server -> client -------------------------------------------

  private onServerMessage(message: FdMessage): void {
    if (!this.sawServerGreeting) {
      this.sawServerGreeting = true;
      if (message.fd >= 0 && message.data.length === 4) {
        this.startFirstThread(message);
        return;
      }
      this.log.error({ size: message.data.length, fd: message.fd }, 'unexpected first message from wineserver');
    }
    if (this.fdClaims.length > 0 && message.fd >= 0 && message.data.length === 4 && this.takeClaimedFd(message)) return;
    this.recorder.record(RecordKind.FdToClient, Direction.ServerToClient, this.context, -1, FdRoleCode.Plain, message.data);
    this.client.send(message.fd, message.data, true);
  }

  /** Hands a descriptor to the server call that claimed it; false if none did. */
  private takeClaimedFd(message: FdMessage): boolean {
    const handle = message.data.readUInt32LE(0);
    const index = this.fdClaims.findIndex((claim) => claim.handle === handle);
    if (index < 0) return false;
    const [claim] = this.fdClaims.splice(index, 1);
    clearTimeout(claim.timer);
    this.recorder.record(RecordKind.FdToClient, Direction.ServerToClient, this.context, -1, FdRoleCode.ServerCall, message.data);
    claim.resolve(message.fd);
    return true;
  }

  claimServerFd(handle: number, timeoutMs: number): FdClaim {
    let entry!: PendingFdClaim;
    const fd = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.dropClaim(entry);
        reject(new ServerFdError(`wineserver sent no descriptor for handle ${handle.toString(16)} within ${timeoutMs} ms`));
      }, timeoutMs);
      entry = { handle: handle >>> 0, resolve, reject, timer };
    });
    this.fdClaims.push(entry);
    return {
      fd,
      cancel: () => {
        clearTimeout(entry.timer);
        this.dropClaim(entry);
      },
    };
  }

  private dropClaim(entry: PendingFdClaim): void {
    const index = this.fdClaims.indexOf(entry);
    if (index >= 0) this.fdClaims.splice(index, 1);
  }

  /** wineserver writes the descriptor before the reply; read it now if it is already in the socket. */
  receivePendingServerMessages(): void {
    this.server.drainNow();
  }

  private startFirstThread(message: FdMessage): void {
    const version = message.data.readInt32LE(0);
    this.env.protocolAnnounced(version);
    if (version !== this.env.protocol.protocolVersion) {
      this.log.error(
        { serverVersion: version, proxyVersion: this.env.protocol.protocolVersion },
        'wineserver speaks another protocol version than the proxy decodes; relaying without interpretation is not possible',
      );
    }
    const [ourRead, clientWrite] = fdAddon.pipe();
    const thread = new ThreadRelay(this.env.nextThreadKey(), true, this, this.context, this.log, ourRead, message.fd);
    this.threads.set(thread.key, thread);
    this.firstThread = thread;
    this.recorder.record(RecordKind.FdToClient, Direction.ServerToClient, thread.context, -1, FdRoleCode.FirstRequestPipe, message.data);
    this.client.send(clientWrite, message.data, true);
  }

  private onServerEnd(error?: Error): void {
    if (error) this.log.warn({ err: error.message }, 'server socket failed');
    this.serverEnded = true;
    // The client learns that wineserver dropped it by the end of its socket.
    this.client.close();
    this.clientEnded = true;
    for (const entry of this.inflight.takeAll()) this.dropInflight(entry);
    this.checkDone('wineserver closed the socket');
  }

  private dropInflight(entry: InflightFd): void {
    this.recorder.record(RecordKind.FdDropped, Direction.ClientToServer, this.context, -1, 0, entry.data);
    fdAddon.close(entry.fd);
  }

  // ---- requests and replies (ThreadHost) ----------------------------------

  prepareRequest(thread: ThreadRelay, frame: RequestFrame, resume: () => void): boolean {
    const fields = this.env.protocol.fdFields.get(frame.code);
    if (!fields) return true;
    if (frame.code === this.env.protocol.codes.initFirstThread && frame.bytes.length >= 64) {
      this.noteUnixPid(frame.bytes.readInt32LE(this.env.protocol.requestOffsets.initFirstThreadUnixPid));
    }
    // The descriptors were sent before the request, but their messages may
    // still wait in the socket buffer: take them in first.
    this.client.drainNow();
    for (const field of fields) this.claimField(thread, frame, field);
    const resolving = this.resolveNamedParent(thread);
    const flushed = this.server.pendingSends === 0;
    if (flushed && !resolving) return true;
    // wineserver must find the descriptors on its socket when it handles the
    // request; a named parent is resolved (a server call) before it goes.
    let waiting = (flushed ? 0 : 1) + (resolving ? 1 : 0);
    const ready = () => {
      if (--waiting === 0) resume();
    };
    if (!flushed) this.server.whenFlushed(ready);
    void resolving?.then(ready);
    return false;
  }

  /**
   * A new_process naming another process as the child's parent: which client
   * that is (get_process_info as the caller), so that the child inherits that
   * client's proxy handles at the reply. Never rejects: a parent the proxy
   * cannot tell gives the child no proxy handle (and is logged).
   */
  private resolveNamedParent(thread: ThreadRelay): Promise<void> | null {
    const pending = this.pendingChildren.get(thread);
    const inherit = pending?.inherit;
    const router = this.env.router;
    if (!pending || !inherit || !inherit.parentProcess || !router) return null;
    return router.connectionOfProcessHandle(this.serverChannelOf(thread), inherit.parentProcess).then(
      (connection) => {
        if (connection === null) pending.inherit = null;
        else inherit.from = connection;
      },
      (error: Error) => {
        this.log.warn({ tid: thread.tid, err: error.message }, 'the parent process named by new_process not resolved; no proxy handle is inherited');
        pending.inherit = null;
      },
    );
  }

  private claimField(thread: ThreadRelay, frame: RequestFrame, field: FdField): void {
    if (frame.bytes.length < field.offset + 4) return;
    const clientFd = frame.bytes.readInt32LE(field.offset);
    if (clientFd === -1) return;
    const entry = this.inflight.claim(clientFd, thread.tid, thread.isFirst);
    if (!entry) {
      // wineserver will look for it in vain and fail the request itself.
      this.log.warn({ request: this.env.protocol.requestName(frame.code), field: field.name, clientFd }, 'request names a descriptor the client did not send');
      return;
    }
    switch (field.role) {
      case 'plain':
        this.forwardToServer(entry.fd, entry.data, FdRoleCode.Plain, thread.context);
        return;
      case 'reply_pipe': {
        const [fromServer, serverWrite] = fdAddon.pipe();
        thread.attachReplyPipe(fromServer, entry.fd);
        this.forwardToServer(serverWrite, entry.data, FdRoleCode.ReplyPipe, thread.context);
        return;
      }
      case 'wait_pipe': {
        const [fromServer, serverWrite] = fdAddon.pipe();
        thread.attachWaitPipe(fromServer, entry.fd);
        this.forwardToServer(serverWrite, entry.data, FdRoleCode.WaitPipe, thread.context);
        return;
      }
      case 'request_pipe': {
        const [serverRead, toServer] = fdAddon.pipe();
        const created = new ThreadRelay(this.env.nextThreadKey(), false, this, this.context, this.log, entry.fd, toServer);
        created.setProcessIdentity(this.winePid, this.unixPid);
        this.threads.set(created.key, created);
        this.pendingNewThreads.set(thread, created);
        this.forwardToServer(serverRead, entry.data, FdRoleCode.RequestPipe, thread.context);
        return;
      }
      case 'process_socket': {
        const [ours, serverEnd] = fdAddon.socketpair();
        const child = new ClientConnection(this.env, entry.fd, ours, 'child', this);
        this.pendingChildren.set(thread, { child, inherit: this.inheritanceAsked(frame) });
        this.forwardToServer(serverEnd, entry.data, FdRoleCode.ProcessSocket, thread.context);
        return;
      }
    }
  }

  /**
   * With translation on, a new_process naming an explicit handle list gets
   * the twins of the proxy handles it lists added to the list, so that
   * wineserver gives the child the twins at the same values as the proxy
   * gives it the handles (TranslationRouter.listTwinsForChild).
   */
  rewriteRequest(thread: ThreadRelay, frame: RequestFrame): RequestFrame | null {
    const router = this.env.router;
    if (!router || frame.code !== this.env.protocol.codes.newProcess) return null;
    let bytes: Buffer | null;
    try {
      bytes = router.listTwinsForChild(this.id, frame.bytes);
    } catch (error) {
      this.log.warn({ tid: thread.tid, err: (error as Error).message }, 'new_process handle list not rewritten; the child gets no twins');
      return null;
    }
    return bytes && { code: frame.code, requestSize: bytes.length - REQUEST_FIXED_SIZE, replySize: frame.replySize, bytes };
  }

  routeRequest(thread: ThreadRelay, frame: RequestFrame, idle: boolean): Awaitable<Buffer | null> {
    const router = this.env.router;
    // Only requests of a known process and thread, with nothing of the thread
    // outstanding at wineserver, and of a type the proxy could answer.
    if (!router || !idle || !this.winePid || !thread.tid || !router.isCandidate(frame.code, frame.bytes)) return null;
    // The frame is a view of the read buffer; the router may keep what it decodes.
    return router.route(this.id, this.winePid, thread.tid, Buffer.from(frame.bytes), this.serverChannelOf(thread));
  }

  /** The thread's way to make server calls (translation on). */
  private serverChannelOf(thread: ThreadRelay): ThreadServerChannel {
    let channel = this.serverChannels.get(thread);
    if (!channel) {
      channel = new ThreadServerChannel(thread, this, this.env.router!.protocol);
      this.serverChannels.set(thread, channel);
    }
    return channel;
  }

  inspectReply(thread: ThreadRelay, code: number, frame: ReplyFrame): void {
    const { codes, replyOffsets } = this.env.protocol;
    const ok = frame.error === 0;
    if (code === codes.initFirstThread && ok) {
      this.winePid = frame.bytes.readUInt32LE(replyOffsets.initFirstThreadPid);
      this.context.pid = this.winePid;
      this.env.router?.noteProcess(this.id, this.winePid);
      for (const t of this.threads.values()) t.setProcessIdentity(this.winePid, this.unixPid);
      thread.setTid(frame.bytes.readUInt32LE(replyOffsets.initFirstThreadTid));
      this.log = this.log.child({ pid: this.winePid, unixPid: this.unixPid });
      thread.log = this.log.child({ tid: thread.tid });
      this.log.debug('process initialised');
    } else if (code === codes.newThread) {
      const created = this.pendingNewThreads.get(thread);
      this.pendingNewThreads.delete(thread);
      if (created && ok) created.setTid(frame.bytes.readUInt32LE(replyOffsets.newThreadTid));
    } else if (code === codes.terminateProcess && ok && this.env.router) {
      // The caller's own process is ending: wineserver has killed its other
      // threads (and abandoned their mutexes) already; theirs in the proxy
      // end now, before the reply lets the caller go on. The caller itself
      // runs on (DLL detach) until its pipes close (threadEnding).
      const self = replyOffsets.terminateProcessSelf;
      if (frame.bytes.length >= self + 4 && frame.bytes.readInt32LE(self)) {
        this.endTranslatedThreads([...this.threads.values()].filter((other) => other !== thread));
      }
    } else if (code === codes.terminateThread && ok && this.env.router) {
      // Another thread of the process was killed: wineserver closed its pipes
      // (and abandoned its mutexes) before this reply; its proxy mutexes are
      // abandoned now, before the reply lets the caller go on.
      const self = replyOffsets.terminateThreadSelf;
      if (frame.bytes.length >= self + 4 && !frame.bytes.readInt32LE(self)) {
        for (const other of [...this.threads.values()]) if (other !== thread) other.readServerRepliesNow();
      }
    } else if (code === codes.newProcess) {
      const pending = this.pendingChildren.get(thread);
      this.pendingChildren.delete(thread);
      if (pending && ok) {
        const childPid = frame.bytes.readUInt32LE(replyOffsets.newProcessPid);
        pending.child.setWinePid(childPid);
        // Before the child runs (the parent starts it after this reply): its table is empty.
        if (pending.inherit) {
          try {
            const inherited = this.env.router!.inheritHandles(pending.inherit.from, pending.child.id, childPid, pending.inherit.list);
            if (inherited) this.log.debug({ childPid, inherited }, 'proxy handles inherited by a new process');
          } catch (error) {
            // A broken backend costs the child its proxy handles, not the relay.
            this.log.error({ childPid, err: (error as Error).message }, 'copying inherited proxy handles failed');
          }
        }
      }
    }
  }

  /** Ends the translated state of threads (their waits, the mutexes they own); again when their pipes close, harmlessly. */
  private endTranslatedThreads(threads: readonly ThreadRelay[]): void {
    const router = this.env.router;
    if (!router) return;
    for (const thread of threads) {
      try {
        router.endThread(this.id, thread.tid);
      } catch (error) {
        // Called from the relay's own callbacks: a broken backend must not take the relay down.
        this.log.error({ tid: thread.tid, err: (error as Error).message }, 'ending a thread\'s translated state failed');
      }
    }
  }

  /** Called on the init_first_thread request: the unix pid of the client. */
  noteUnixPid(unixPid: number): void {
    if (this.unixPid === unixPid) return;
    this.unixPid = unixPid;
    this.context.unixPid = unixPid;
    for (const t of this.threads.values()) t.setProcessIdentity(this.winePid, unixPid);
  }

  private setWinePid(pid: number): void {
    this.winePid = pid;
    this.env.router?.noteProcess(this.id, pid);
    this.context.pid = pid;
    for (const t of this.threads.values()) t.setProcessIdentity(pid, this.unixPid);
    this.log = this.log.child({ pid });
  }

  /**
   * Whether a new_process request has the child inherit handles (only looked
   * at with translation on: the proxy's own handles are copied at the
   * reply): from this process, or from the one named as its parent
   * (PROC_THREAD_ATTRIBUTE_PARENT_PROCESS, resolved by resolveNamedParent).
   */
  private inheritanceAsked(frame: RequestFrame): InheritanceAsked | null {
    const router = this.env.router;
    if (!router) return null;
    try {
      const body = router.protocol.decodeRequest(Buffer.from(frame.bytes)).body as { flags: number; parent_process: number; handles_size: number; handles: ElementList<number> };
      if (!(body.flags & PROCESS_CREATE_FLAGS_INHERIT_HANDLES)) return null;
      return { list: body.handles_size ? body.handles.items : null, parentProcess: body.parent_process >>> 0, from: this.id };
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'new_process request not decoded; no proxy handle is inherited');
      return null;
    }
  }

  protocolViolation(thread: ThreadRelay, channel: ViolationChannel, error: ProtocolError): void {
    // Policy (docs/architecture.md): a client whose request stream cannot be
    // framed is disconnected. wineserver then ends the process as it ends one
    // whose pipes closed, and no garbage of unbounded size is buffered.
    this.log.error({ tid: thread.tid, channel: ViolationChannel[channel], code: error.code, err: error.message }, 'protocol violation; closing this client');
    this.recorder.record(RecordKind.ProtocolViolation, channel === ViolationChannel.RequestPipe ? Direction.ClientToServer : Direction.ServerToClient, thread.context, -1, channel, Buffer.from(JSON.stringify({ code: error.code, message: error.message })));
    queueMicrotask(() => this.close(`protocol violation: ${error.code}`));
  }

  threadEnding(thread: ThreadRelay): void {
    // wineserver learns of the death when the proxy closes its end of the
    // request pipe, and may then signal the thread or process to a waiter at
    // once: the thread's proxy mutexes are abandoned before that.
    this.endTranslatedThreads([thread]);
  }

  threadClosed(thread: ThreadRelay): void {
    // Translated state of the thread (its mutexes, its wait) ends with it.
    this.endTranslatedThreads([thread]);
    this.threads.delete(thread.key);
    this.pendingNewThreads.delete(thread);
    this.pendingChildren.delete(thread);
    this.serverChannels.delete(thread);
    if (this.firstThread === thread) this.firstThread = null;
    this.checkDone('threads closed');
  }

  private checkDone(reason: string): void {
    if (this.closed || !this.clientEnded || !this.serverEnded || this.threads.size > 0) return;
    this.finish(reason);
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const entry of this.inflight.takeAll()) this.dropInflight(entry);
    for (const claim of this.fdClaims.splice(0)) {
      clearTimeout(claim.timer);
      claim.reject(new ServerFdError('the client connection closed before wineserver sent the descriptor'));
    }
    // The process is gone: its translation session ends too (handles, abandoned locks).
    this.env.router?.endProcess(this.id);
    this.recorder.note(this.context, RecordKind.ConnectionClose, { reason });
    this.log.debug({ reason }, 'client connection closed');
    this.env.connectionClosed(this);
  }
}

