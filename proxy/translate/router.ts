// Routing live (`winekernel run/serve --translate`): for each request frame a
// thread relay asks the router whether the proxy answers it itself. The
// router decides with `dispatch` in mode 'live' over the live catalog
// (live/index.ts): the registry, owned by the proxy for the whole session,
// is translated; every family whose state is shared with forwarded requests
// stays forwarded.
//
// One backend session per client process (closed when the process goes, so
// its locks and handles are cleaned up), all attached to one instance per
// proxy, named from the prefix. The registry is loaded from the prefix's
// .reg files at start and saved back by `stop()` (after wineserver is gone,
// so that its saves never come after ours).

import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Logger } from 'pino';
import { WinekernelError } from '../../errors/winekernel-error.ts';
import { WK_ATTACH_CREATE, type Backend, type Session } from '../../backends/primitives.ts';
import type { Catalog } from '../../mappings/catalog/index.ts';
import { dispatch, splitDomains, type Dispatch } from '../../mappings/dispatch.ts';
import { ProxyHandleTable } from '../../mappings/handles.ts';
import { initRegistryFromPrefix, saveHivesToPrefix } from '../../mappings/registry/init.ts';
import { registryFor } from '../../mappings/registry/translators.ts';
import { encodeReplyFor } from '../../mappings/replay.ts';
import { isPromise, type Awaitable, type ServerChannel, type TranslationContext } from '../../mappings/translator.ts';
import { loadProtocol, type DecodedRequest, type Protocol } from '../../requests/protocol.ts';
import { bridgeToTwins, closeProxyHandleQuietly, duplicateProxyHandle, liveCatalog, liveFamilies, type LiveFamily } from './live/index.ts';
import { ENTRY_INHERIT, PROCESS_CREATE_FLAGS_INHERIT_HANDLES, PROXY_HANDLE_BOTTOM, PROXY_HANDLE_TOP } from '../../mappings/handles.ts';
import type { ElementList } from '../../requests/kinds/element-list.ts';
import { setTwin, twinOf } from '../../mappings/namespace/server-twins.ts';

/**
 * A reply that carries only a status: every field zero, no variable data —
 * what wineserver sends when a handler fails before filling anything (it
 * zeroes the reply first). Built by hand, not by the reply encoder, which
 * needs every field and vararg of the reply type.
 */
function statusOnlyReply(status: number): Buffer {
  // From Node's pool: a 64-byte Buffer.alloc lives on the JS heap and is copied out on every write.
  const frame = Buffer.allocUnsafe(64).fill(0);
  frame.writeUInt32LE(status >>> 0, 0);
  return frame;
}

export class TranslationRouterError extends WinekernelError<'WK_ROUTER_ATTACH' | 'WK_ROUTER_REGISTRY'> {}

export interface RouterOptions {
  backend: Backend;
  prefix: string;
  protocolVersion: number;
  log: Logger;
  /** Instance name (default: derived from the prefix's real path). */
  kernid?: string;
  /**
   * Milliseconds between saves of a changed registry into the prefix while
   * the proxy runs (default 30 s, wineserver's period), so that a crash of
   * the proxy loses at most that much; 0: only at stop().
   */
  savePeriodMs?: number;
}

/** One client process's side of translation. */
interface ProcessTranslation {
  session: Session;
  handles: ProxyHandleTable;
  pid: number;
}

export interface RouterStats {
  translated: Record<string, number>;
  refused: Record<string, number>;
  failed: number;
}

/** The instance name of a prefix: one per prefix, so `run` and `serve` on the same prefix would share it. */
export function kernidForPrefix(prefix: string): string {
  let real = prefix;
  try {
    real = fs.realpathSync(prefix);
  } catch {
    /* not created yet: the given path names it */
  }
  return `wine-${crypto.createHash('sha256').update(real).digest('hex').slice(0, 16)}`;
}

/**
 * Where a request's frame holds handle values that could stand for a proxy
 * object wineserver has a twin of: its obj_handle_t fields, and the root
 * directory of its object attributes, the first vararg wherever there is one
 * (right after the 64-byte fixed part). Empty: it names no handle that way.
 */
function handleOffsets(protocol: Protocol, code: number): number[] {
  const info = protocol.requests[code];
  if (!info) return [];
  const offsets = info.request.fields.filter((field) => field.type === 'obj_handle_t').map((field) => field.offset);
  if (info.request.varargs[0]?.kind === 'object_attributes') offsets.push(64);
  return offsets;
}

/** Whether any of the words at `offsets` is a value in the proxy's handle range. */
function namesProxyHandleAt(frame: Buffer, offsets: readonly number[]): boolean {
  for (const at of offsets) {
    if (at + 4 > frame.length) continue;
    const value = frame.readUInt32LE(at) & ~3;
    if (value >= PROXY_HANDLE_BOTTOM && value <= PROXY_HANDLE_TOP) return true;
  }
  return false;
}

/** Whether a request of this code has a field through which it could name a handle (see handlesNamedBy). */
function canNameHandles(protocol: Protocol, code: number): boolean {
  const info = protocol.requests[code];
  if (!info) return true;
  if (info.request.fields.some((field) => field.type === 'obj_handle_t')) return true;
  return info.request.varargs.some((vararg) => vararg.kind === 'object_attributes' || vararg.kind === 'select_op');
}

export class TranslationRouter {
  readonly stats: RouterStats = { translated: {}, refused: {}, failed: 0 };
  private readonly processes = new Map<number, ProcessTranslation>();
  /** Request codes the catalog could ever translate; everything else is forwarded without decoding. */
  private readonly candidates: Uint8Array;
  /** Families' cheap checks on a candidate's frame, by request code. */
  private readonly prefilters = new Map<number, (frame: Buffer) => boolean>();
  private readonly dispatchOptions = { mode: 'live', bridge: bridgeToTwins } as const;
  private stopped = false;
  private saveTimer: NodeJS.Timeout | null = null;
  /** The registry's change counter at the last save (or the load). */
  private savedChanges: number;
  private saving: Promise<void> | null = null;

  private constructor(
    private readonly options: RouterOptions,
    readonly kernid: string,
    readonly protocol: Protocol,
    private readonly catalog: Catalog,
    private readonly owner: Session,
    private readonly families: readonly LiveFamily[],
  ) {
    this.savedChanges = registryFor(owner).info().changes;
    const period = options.savePeriodMs ?? 30_000;
    if (period > 0) {
      this.saveTimer = setInterval(() => void this.saveIfChanged(), period);
      this.saveTimer.unref();
    }
    this.candidates = new Uint8Array(protocol.requests.length);
    const split = splitDomains(catalog);
    for (const entry of catalog.entries()) {
      if (entry.status !== 'translated') continue;
      const code = protocol.codeOf(entry.request);
      // Live dispatch forwards a translated request of a split domain unless
      // it names a proxy handle; one that can name no handle at all (the atom
      // requests) is therefore always forwarded: decide that here, once, and
      // spare each such request the decoding and the promise.
      const splitDomain = entry.domains.some((d) => split.has(d));
      const alwaysForwarded = splitDomain && !canNameHandles(protocol, code);
      if (!alwaysForwarded) this.candidates[code] = 1;
      // Routed by the handles it names (a generic handle request, a mutex's
      // release): only a frame naming a value in the proxy's range can be
      // the proxy's; the rest (every close_handle or get_handle_fd of
      // wineserver's handles) passes undecoded.
      if (splitDomain && !entry.liveRouting) {
        const offsets = handleOffsets(protocol, code);
        if (offsets.length) this.prefilters.set(code, (frame) => namesProxyHandleAt(frame, offsets));
      }
    }
    for (const family of families) for (const [name, check] of Object.entries(family.prefilters ?? {})) this.prefilters.set(protocol.codeOf(name), check);
    // Forwarded requests are looked at only when they name a proxy handle:
    // wineserver answers those about the handle's server twin (dispatch's
    // bridge), or they are refused; everything else passes undecoded.
    for (const entry of catalog.entries()) {
      if (entry.status !== 'forwarded') continue;
      const code = protocol.codeOf(entry.request);
      const offsets = handleOffsets(protocol, code);
      if (!offsets.length || this.prefilters.has(code)) continue;
      this.candidates[code] = 1;
      this.prefilters.set(code, (frame) => namesProxyHandleAt(frame, offsets));
    }
  }

  static async start(options: RouterOptions): Promise<TranslationRouter> {
    const protocol = loadProtocol(options.protocolVersion);
    const families = liveFamilies();
    const catalog = liveCatalog(protocol.requests.map((r) => r.name), families);
    const kernid = options.kernid ?? kernidForPrefix(options.prefix);
    const owner = options.backend.openSession();
    const rc = owner.attach(kernid, WK_ATTACH_CREATE);
    if (rc < 0) throw new TranslationRouterError('WK_ROUTER_ATTACH', `cannot attach to winekernel instance ${kernid} (${rc})`);
    try {
      const started = Date.now();
      const init = await initRegistryFromPrefix(registryFor(owner), options.prefix);
      options.log.info({ kernid, arch: init.arch, ms: Date.now() - started }, 'registry loaded from the prefix; the proxy owns it');
    } catch (error) {
      owner.end();
      throw new TranslationRouterError('WK_ROUTER_REGISTRY', `cannot load the registry of ${options.prefix}: ${(error as Error).message}`);
    }
    return new TranslationRouter(options, kernid, protocol, catalog, owner, families);
  }

  /**
   * Cheap check on the hot path: could this request code be answered by the
   * proxy? With the frame, a family's prefilter may also say no (a select
   * naming no proxy handle).
   */
  isCandidate(code: number, frame?: Buffer): boolean {
    if (!(code >= 0 && code < this.candidates.length && this.candidates[code] === 1)) return false;
    const prefilter = frame ? this.prefilters.get(code) : undefined;
    return !prefilter || prefilter(frame!);
  }

  /** A thread of a client process ended: its families cancel its waits and abandon what it owns. */
  endThread(connection: number, tid: number): void {
    const proc = this.processes.get(connection);
    if (!proc || !tid) return;
    for (const family of this.families) family.onThreadEnd?.(proc.session, proc.pid, tid);
  }

  /**
   * The reply frame when the proxy answers the request, or null to forward
   * it. `connection` identifies the client process (its session), `pid`/`tid`
   * the caller as wineserver knows it. A plain value when nothing had to wait
   * (the caller writes the reply in the same call stack), else a promise. It
   * never throws: a frame that cannot be decoded or a session that cannot be
   * opened is a rejected promise (the relay forwards the request and logs).
   */
  route(connection: number, pid: number, tid: number, frame: Buffer, server?: ServerChannel): Awaitable<Buffer | null> {
    if (this.stopped) return null;
    try {
      const request = this.protocol.decodeRequest(frame);
      const proc = this.processOf(connection, pid);
      const ctx: TranslationContext = { session: proc.session, pid, tid, handles: proc.handles, protocol: this.protocol, log: this.options.log, server, allHandleTables: this.allHandleTables, processContext: this.processContext };
      const decision = dispatch(this.catalog, request, ctx, this.dispatchOptions);
      if (!isPromise(decision)) return this.replyFor(request, decision);
      return decision.then(
        (decided) => this.replyFor(request, decided),
        (error: unknown) => this.translatorFailed(request, error),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The reply frame for a decision, or null to forward. */
  private replyFor(request: DecodedRequest, decision: Dispatch): Buffer | null {
    if (decision.action === 'forward') return null;
    if (decision.action === 'refuse') {
      this.stats.refused[request.name] = (this.stats.refused[request.name] ?? 0) + 1;
      this.options.log.debug({ request: request.name, detail: decision.detail }, 'request refused');
      return statusOnlyReply(decision.status);
    }
    this.stats.translated[request.name] = (this.stats.translated[request.name] ?? 0) + 1;
    return encodeReplyFor(this.protocol, request, decision.reply.error, decision.reply.body);
  }

  /** A broken store: that one request fails, the client and the proxy go on. */
  private translatorFailed(request: DecodedRequest, error: unknown): Buffer {
    this.stats.failed++;
    this.options.log.error({ request: request.name, err: (error as Error).message }, 'translator failed');
    return statusOnlyReply(0xc0000001 /* STATUS_UNSUCCESSFUL */);
  }

  /** Connections of client processes by Wine pid (noteProcess), whether or not they have routed a request yet. */
  private readonly connectionsByPid = new Map<number, number>();

  /** A client connection learnt its process's Wine pid (new_process or init_first_thread reply). */
  noteProcess(connection: number, pid: number): void {
    if (pid) this.connectionsByPid.set(pid, connection);
  }

  /**
   * The client connection of the process that a process handle of the
   * caller names (get_process_info as the caller, through `server`); null
   * when the handle names no process or one that is not a client of the
   * proxy. For new_process with PROC_THREAD_ATTRIBUTE_PARENT_PROCESS.
   */
  async connectionOfProcessHandle(server: ServerChannel, handle: number): Promise<number | null> {
    const info = await server.call('get_process_info', { handle });
    if (info.error) return null;
    return this.connectionsByPid.get((info.body as { pid: number }).pid) ?? null;
  }

  /** Another client process's context (ctx.processContext): its session and handles, no server channel. */
  private readonly processContext = (pid: number): TranslationContext | null => {
    const connection = this.connectionsByPid.get(pid);
    return connection === undefined ? null : this.contextOf(this.processOf(connection, pid));
  };

  private contextOf(proc: ProcessTranslation): TranslationContext {
    return { session: proc.session, pid: proc.pid, tid: 0, handles: proc.handles, protocol: this.protocol, log: this.options.log, allHandleTables: this.allHandleTables, processContext: this.processContext };
  }

  /**
   * A new process was created (new_process's reply): with
   * PROCESS_CREATE_FLAGS_INHERIT_HANDLES, the parent's inheritable proxy
   * handles are copied into the child's table at the same values, as
   * wineserver copies its own (all of them, or those of the explicit list
   * that are inheritable). Each family copies its own objects
   * (LiveFamily.duplicate); a handle whose object cannot be reached from
   * the child is left out. Returns how many were inherited.
   */
  inheritHandles(parentConnection: number, childConnection: number, childPid: number, list: readonly number[] | null): number {
    const parent = this.processes.get(parentConnection);
    this.noteProcess(childConnection, childPid);
    if (!parent || !parent.handles.size || this.stopped) return 0;
    const from = this.contextOf(parent);
    const to = this.contextOf(this.processOf(childConnection, childPid));
    const listed = list ? new Set(list.map((value) => (value >>> 0) & ~3)) : null;
    let inherited = 0;
    for (const [value, entry] of [...parent.handles]) {
      if (!(entry.flags & ENTRY_INHERIT) || (listed && !listed.has(value))) continue;
      const copy = duplicateProxyHandle(this.families, from, value, to, null, entry.flags);
      if (!copy) {
        this.options.log.debug({ value, type: entry.type }, 'an inheritable proxy handle could not be copied into the child');
        continue;
      }
      if (!to.handles.move(copy, value)) {
        closeProxyHandleQuietly(this.families, to, copy);
        continue;
      }
      // wineserver copied the twin (inheritable exactly when its proxy handle is) at its own value,
      // when no list was given or the list names it (listTwinsForChild adds the twins).
      const twin = twinOf(entry);
      if (twin !== undefined && (!listed || listed.has(twin & ~3))) setTwin(to.handles.get(value)!, twin);
      inherited++;
    }
    return inherited;
  }

  /**
   * A new_process request of `connection` with an explicit handle list
   * (PROC_THREAD_ATTRIBUTE_HANDLE_LIST) naming inheritable proxy handles
   * that have twins: the request re-encoded with those twins added to the
   * list, so that wineserver gives them to the child at their values beside
   * the proxy handles inheritHandles copies. Null when nothing is to add
   * (no inheritance, another parent named, no list, no twin listed).
   */
  listTwinsForChild(connection: number, frame: Buffer): Buffer | null {
    const proc = this.processes.get(connection);
    if (!proc || !proc.handles.size || this.stopped) return null;
    const request = this.protocol.decodeRequest(frame);
    const body = request.body as { flags: number; parent_process: number; handles_size: number; handles: ElementList<number> };
    if (!(body.flags & PROCESS_CREATE_FLAGS_INHERIT_HANDLES) || body.parent_process || !body.handles_size || body.handles.trailing.length) return null;
    const listed = new Set(body.handles.items.map((value) => (value >>> 0) & ~3));
    const twins: number[] = [];
    for (const value of listed) {
      const entry = proc.handles.get(value);
      const twin = entry && entry.flags & ENTRY_INHERIT ? twinOf(entry) : undefined;
      if (twin !== undefined && !listed.has(twin & ~3) && !twins.includes(twin)) twins.push(twin);
    }
    if (!twins.length) return null;
    const items = [...body.handles.items, ...twins];
    return this.protocol.encodeRequest({ ...request, body: { ...body, handles_size: items.length * 4, handles: { ...body.handles, items } } });
  }

  /** Every client process's proxy handle table (for handle counts across processes). */
  private readonly allHandleTables = () => Array.from(this.processes.values(), (proc) => proc.handles);

  private processOf(connection: number, pid: number): ProcessTranslation {
    let proc = this.processes.get(connection);
    if (!proc) {
      const session = this.options.backend.openSession();
      const rc = session.attach(this.kernid, 0);
      if (rc < 0) throw new TranslationRouterError('WK_ROUTER_ATTACH', `cannot attach a process session to ${this.kernid} (${rc})`);
      proc = { session, handles: new ProxyHandleTable(), pid };
      this.processes.set(connection, proc);
    }
    return proc;
  }

  /** The client process is gone: its handles close and its session ends (abandoned locks are released). */
  endProcess(connection: number): void {
    for (const [pid, known] of this.connectionsByPid) if (known === connection) this.connectionsByPid.delete(pid);
    const proc = this.processes.get(connection);
    if (!proc) return;
    this.processes.delete(connection);
    for (const family of this.families) family.onProcessEnd?.(proc.pid);
    for (const [value, entry] of [...proc.handles]) {
      proc.handles.release(value);
      proc.session.close(entry.primitive);
    }
    proc.session.end();
  }

  /**
   * Saves the registry into the prefix if it changed since the last save
   * (periodic save). wineserver's own copy is never written meanwhile: no
   * registry request reaches it, so it never becomes dirty.
   */
  saveIfChanged(): Promise<void> {
    if (this.saving || this.stopped) return this.saving ?? Promise.resolve();
    const store = registryFor(this.owner);
    const changes = store.info().changes;
    if (changes === this.savedChanges) return Promise.resolve();
    this.saving = saveHivesToPrefix(store, this.options.prefix, { inPlace: true }).then(
      (written) => {
        this.savedChanges = changes;
        this.options.log.debug({ files: written.length, changes }, 'registry saved into the prefix (periodic)');
      },
      (error: Error) => this.options.log.error({ err: error.message }, 'periodic registry save failed; retried at the next period'),
    ).finally(() => {
      this.saving = null;
    });
    return this.saving;
  }

  /** Saves the registry into the prefix and ends every session. Call after wineserver has exited. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    if (this.saveTimer) clearInterval(this.saveTimer);
    await this.saving;
    this.stopped = true;
    for (const connection of [...this.processes.keys()]) this.endProcess(connection);
    try {
      const written = await saveHivesToPrefix(registryFor(this.owner), this.options.prefix, { inPlace: true });
      this.options.log.info({ files: written, stats: this.stats }, 'registry saved into the prefix');
    } finally {
      this.owner.end();
    }
  }
}
