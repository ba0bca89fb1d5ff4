// The translation layer's framework: what a translator is, what it may use,
// and how a request type that is not translated says why.
//
// Every request type of the protocol has exactly one catalog entry
// (mappings/catalog/). An entry is either
//  * 'translated': it carries translate(), which answers the decoded request
//    from the primitives exactly as wineserver would (same status, same reply
//    fields, same variable data), or
//  * 'forwarded': the proxy relays it to wineserver, and the entry says why,
//    in a closed set of categories with a one-line specific explanation, and
//    which primitives a translation would use (or which are missing).
// docs/translation.md describes the design; docs/coverage.md the report.

import type { Logger } from 'pino';
import type { Session } from '../backends/primitives.ts';
import type { DecodedReply, DecodedRequest } from '../requests/protocol.ts';
import type { RequestInfo } from '../requests/protocol-types.ts';
import type { ProxyHandleTable } from './handles.ts';
import { WinekernelError } from '../errors/winekernel-error.ts';

/** The calls of docs/primitives.md, by their contract names. */
export const PRIMITIVE_CALLS = [
  'attach_to_kernel',
  'instance_setacl',
  'object_create',
  'object_open',
  'object_close',
  'object_unlink',
  'namesize',
  'getname',
  'size',
  'getdata',
  'setdata',
  'lockobject',
  'unlock',
  'setacl',
  'getacl',
  'attach_native_file',
  'get_native_file',
  'object_list',
  'register_server',
  'read_events',
] as const;
export type PrimitiveCall = (typeof PRIMITIVE_CALLS)[number];

/**
 * Capabilities a request needs that the primitive set does not have. Each is
 * a candidate for a new primitive; the coverage report counts how many
 * requests each one would unlock.
 */
export const MISSING_PRIMITIVES = {
  'wait-multiple': 'a wait on several objects at once (any or all), with a timeout, interruptible by APCs',
  'signal-wakeup': "setting an object's signalled state and waking the threads that wait on it",
  'message-queue': 'a queue with blocking receive and wake-ups (window messages, debug events, IRPs, console and completion packets)',
  timer: 'a deadline that signals an object when it passes',
  'change-notification': 'being told when a watched object (registry key, directory) changes',
  'process-control': 'creating, suspending, resuming and killing processes and threads, and reading or writing their registers and memory',
  'async-io': 'I/O that completes later and reports through an APC, an event or a completion port',
  'byte-range-lock': 'locks on a byte range of a file (shared or exclusive, waited for), where the primitive locks cover a whole object',
  'nt-security': 'NT tokens and security descriptors (SIDs, groups, privileges, integrity levels, access checks); the primitive ACLs know only uid, gid and nine rights',
} as const;
export type MissingPrimitive = keyof typeof MISSING_PRIMITIVES;

/** Why a request type is forwarded to wineserver. */
export const REASON_CATEGORIES = {
  'missing-primitive': 'needs a capability the primitives lack (named in `missing`)',
  'os-bound': 'the state lives in the OS (processes, threads, signals, memory, ptrace, unix fds and files served by the kernel)',
  'window-system': 'window manager, message and input state of user32/win32u',
  'device/ioctl/async': 'device drivers, ioctls and asynchronous I/O',
  'token/security-context': 'NT tokens and security descriptors',
  'shared-state': 'expressible with the primitives, but shares state with forwarded requests, so it must move with them',
  'not-yet-translated': 'expressible with the primitives named; no translator has been written yet',
} as const;
export type ReasonCategory = keyof typeof REASON_CATEGORIES;

export interface ForwardReason {
  category: ReasonCategory;
  /** The missing capabilities; required for 'missing-primitive', allowed for every category. */
  missing?: readonly MissingPrimitive[];
  /** One line, specific to this request. */
  detail: string;
}

/**
 * Pieces of wineserver state that several request types read or write. A
 * domain must be served by one side: if some of its requests are translated
 * and others forwarded, the two sides see different tables (the coverage
 * report flags such split domains, and the router must not split them live).
 */
export const STATE_DOMAINS = {
  'global-atom-table': 'the global atom table (server/atom.c): atoms, and the window-class and window-property atoms user32 keeps in the same table',
  'object-namespace': 'the object directory tree (\\BaseNamedObjects, \\Device, \\??, symbolic links) every named object lives in',
  registry: 'the registry tree (server/registry.c), loaded from and saved to the prefix\'s .reg files',
  'handle-tables': 'the per-process handle tables (values, access masks, flags, inheritance)',
  'sync-objects': 'events, mutexes, semaphores, keyed events, timers and completion ports: everything select waits on',
  'fd-objects': 'files, sockets, pipes, mailslots, devices and their pending asynchronous I/O, sharing modes and locks',
  'memory-views': 'file mappings and the views each process has mapped',
  processes: 'processes, threads, APCs, debug objects and jobs',
  'window-tree': 'windows, classes, hooks, message queues, desktops, window stations and input state',
  clipboard: "a window station's clipboard: owner, viewer, listeners and formats",
  tokens: 'access tokens: users, groups, privileges, default DACLs, integrity levels',
} as const;
export type StateDomain = keyof typeof STATE_DOMAINS;

/** Families the catalog groups request types into (report order). */
export const FAMILIES = [
  'processes/threads',
  'sync objects',
  'timers',
  'completion ports',
  'files/fds',
  'sockets/pipes/mailslots',
  'console',
  'devices/async/ioctl',
  'registry',
  'atoms',
  'directories/symlinks/objects',
  'handles',
  'memory/mappings',
  'debug',
  'windows/messages/hooks/classes',
  'desktops/winstations/input',
  'clipboard',
  'tokens/security',
  'jobs',
  'misc',
] as const;
export type Family = (typeof FAMILIES)[number];

/**
 * A value, or a promise of it when it had to wait. Translation answers most
 * requests without waiting (a registry read, a handle closed); those return
 * the plain value, so that the proxy writes the reply in the same call stack
 * as it read the request, with no promise made or awaited on the way.
 */
export type Awaitable<T> = T | Promise<T>;

/** Whether an Awaitable had to wait (translators return native promises: async functions). */
export function isPromise<T>(value: Awaitable<T>): value is Promise<T> {
  return value instanceof Promise;
}

/** The reply a translator produces: what `Protocol.encodeReply` writes for the client. */
export interface TranslatedReply<B = Record<string, unknown>> {
  /** NTSTATUS, as wineserver would set it (0 on success). */
  error: number;
  /** Every reply field and vararg, as wineserver would fill them (it zeroes the reply first). */
  body: B;
}

/** The protocol facts a translator may consult (a type-only view of `Protocol`). */
export interface ProtocolView {
  readonly wineVersion: string;
  readonly protocolVersion: number;
  readonly requests: readonly RequestInfo[];
}

/** An unix descriptor wineserver handed over for one of the caller's handles (get_handle_fd). */
export interface ServerFd {
  /** Owned by the translator: it must close it (fdAddon.close / fs.closeSync). */
  fd: number;
  /** get_handle_fd's reply: the file type, the handle's access rights and open options. */
  type: number;
  access: number;
  options: number;
}

/**
 * wineserver, reached on the caller's own thread while the caller waits for
 * the reply to its translated request (live translation only; absent in
 * replay). What wineserver answers is what it would answer that thread: the
 * calls act with the caller's process, handles and token. docs/translation.md,
 * "Server calls".
 */
export interface ServerChannel {
  /** Sends request `name` with every request field in `body`; resolves with wineserver's decoded reply. */
  call(name: string, body: Record<string, unknown>, replySize?: number): Promise<DecodedReply>;
  /** get_handle_fd of one of the caller's wineserver handles: the descriptor, or the status wineserver refused with. */
  handleFd(handle: number): Promise<ServerFd | { error: number }>;
  /**
   * Ends a wait the translator answered STATUS_PENDING: writes the 16-byte
   * wake-up (cookie, status) on the calling thread's wait pipe, at any later
   * time. False when the thread is gone.
   */
  deliverWakeup?(cookie: bigint, signaled: number): boolean;
}

/** What a translator is given besides the request. */
export interface TranslationContext {
  /** The client process's session on the primitives backend. */
  readonly session: Session;
  /** Wine process id and thread id of the caller. */
  readonly pid: number;
  readonly tid: number;
  /** The proxy-minted handles of the calling process (docs/translation.md, handle spaces). */
  readonly handles: ProxyHandleTable;
  readonly protocol: ProtocolView;
  readonly log?: Logger;
  /** Present when translating live: requests to wineserver as the calling thread. */
  readonly server?: ServerChannel;
  /** Present when translating live: every client process's proxy handle table (handle counts across processes). */
  readonly allHandleTables?: () => Iterable<ProxyHandleTable>;
  /**
   * Present when translating live: another client process's side of
   * translation, by Wine pid (its session and proxy handles; no server
   * channel: server calls are made only as the caller). Null when no client
   * of this proxy has that pid.
   */
  readonly processContext?: (pid: number) => TranslationContext | null;
}

interface EntryBase {
  /** The request's name in protocol.def. */
  request: string;
  family: Family;
  /** The primitive calls the translation uses (translated) or would use (forwarded; may be empty). */
  primitives: readonly PrimitiveCall[];
  /** The shared wineserver state this request reads or writes (the first is its home). */
  domains: readonly StateDomain[];
}

export interface TranslatedEntry<Req = any, Rep = any> extends EntryBase {
  status: 'translated';
  /**
   * Live routing (dispatch in mode 'live'), for entries that reach wineserver
   * themselves through ctx.server: 'any' answers every request of the type,
   * whatever handles it names and whatever its domains; 'mixed' also answers
   * requests naming handles of both the proxy and wineserver (those naming
   * only wineserver's are still forwarded). Absent: the usual rules.
   */
  liveRouting?: 'any' | 'mixed';
  /**
   * Request fields that name the caller's wineserver handles which the
   * translator uses through server calls (live only): routing by handles
   * ignores them, so a request naming a proxy key and a wineserver file is
   * not refused as mixed.
   */
  serverHandleFields?: readonly string[];
  /**
   * The translation makes server calls (ctx.server): it runs only live, and
   * replay counts its requests as skipped (wineserver's side of the calls is
   * not in a recording as something to answer).
   */
  needsServer?: boolean;
  /**
   * The reply, as a plain value when nothing had to wait (the fast path: see
   * Awaitable), or a promise. A broken store may throw or reject: dispatch
   * treats both alike.
   */
  translate(request: DecodedRequest<Req>, ctx: TranslationContext): Awaitable<TranslatedReply<Rep>>;
}

export interface ForwardedEntry extends EntryBase {
  status: 'forwarded';
  reason: ForwardReason;
}

export type Translator = TranslatedEntry | ForwardedEntry;
export type TranslationStatus = Translator['status'];

/** A catalog that does not match the protocol or breaks the rules above. */
export class CatalogError extends WinekernelError<'WK_CATALOG_INVALID'> {
  constructor(readonly problems: string[]) {
    super('WK_CATALOG_INVALID', `translation catalog is invalid:\n  ${problems.join('\n  ')}`);
  }
}

/** A request reached a translator it does not belong to, or a translator threw. */
export class TranslationError extends WinekernelError<'WK_NO_TRANSLATOR' | 'WK_NOT_TRANSLATED' | 'WK_TRANSLATOR_FAILED'> {}

/** The problems of a list of entries against the protocol's request names (empty = valid). */
export function validateCatalog(entries: readonly Translator[], requestNames: readonly string[]): string[] {
  const problems: string[] = [];
  const wanted = new Set(requestNames);
  const seen = new Set<string>();
  const primitiveSet = new Set<string>(PRIMITIVE_CALLS);
  for (const entry of entries) {
    if (seen.has(entry.request)) problems.push(`${entry.request}: listed twice`);
    seen.add(entry.request);
    if (!wanted.has(entry.request)) problems.push(`${entry.request}: not a request of the protocol`);
    if (!FAMILIES.includes(entry.family)) problems.push(`${entry.request}: unknown family '${entry.family}'`);
    for (const p of entry.primitives) if (!primitiveSet.has(p)) problems.push(`${entry.request}: unknown primitive '${p}'`);
    if (!entry.domains?.length) problems.push(`${entry.request}: names no state domain`);
    for (const d of entry.domains ?? []) if (!(d in STATE_DOMAINS)) problems.push(`${entry.request}: unknown domain '${d}'`);
    if (entry.status === 'translated') {
      if (typeof entry.translate !== 'function') problems.push(`${entry.request}: translated without translate()`);
      if (!entry.primitives.length) problems.push(`${entry.request}: translated but names no primitive`);
    } else if (entry.status === 'forwarded') {
      const reason = entry.reason;
      if (!reason || !(reason.category in REASON_CATEGORIES)) problems.push(`${entry.request}: forwarded without a known reason category`);
      else {
        if (!reason.detail || reason.detail.trim().length < 10 || reason.detail.includes('\n')) {
          problems.push(`${entry.request}: reason detail must be one specific line`);
        }
        if (reason.category === 'missing-primitive' && !reason.missing?.length) {
          problems.push(`${entry.request}: 'missing-primitive' must name the missing capability`);
        }
        for (const m of reason.missing ?? []) if (!(m in MISSING_PRIMITIVES)) problems.push(`${entry.request}: unknown missing primitive '${m}'`);
        if ((reason.category === 'not-yet-translated' || reason.category === 'shared-state') && !entry.primitives.length) {
          problems.push(`${entry.request}: '${reason.category}' must name the primitives a translation would use`);
        }
        if ((reason.category === 'not-yet-translated' || reason.category === 'shared-state') && reason.missing?.length) {
          problems.push(`${entry.request}: '${reason.category}' cannot also miss a primitive`);
        }
      }
    } else {
      problems.push(`${(entry as Translator).request}: unknown status`);
    }
  }
  for (const name of requestNames) if (!seen.has(name)) problems.push(`${name}: no catalog entry`);
  return problems;
}
