// Translators for Wine's mutexes (NT "Mutant" objects): create_mutex,
// open_mutex, release_mutex, query_mutex, and `selectOnMutex`, the answer
// to a select that waits on exactly one proxy mutex. Behaviour as Wine
// 8.0's wineserver (server/mutex.c, thread.c; facts only, our own code);
// mutex-state.ts holds the state and ownership rules, docs/mutexes.md the
// design and what the proxy's relay must do with a pending wait.

import { CLOCK_MONOTONIC_RAW, fdAddon } from '../../proxy/native.ts';
import { handleOwner, type ProxyHandleEntry } from '../handles.ts';
import { closeNamespaceHandle, handleObject, namespaceHandle } from '../namespace/proxy-handles.ts';
import { FLAG_PERMANENT } from '../namespace/records.ts';
import { createNamedObject, openNamedObject, unicodeBytes } from '../namespace/translators.ts';
import { STATUS_INVALID_PARAMETER, STATUS_SUCCESS } from '../ntstatus.ts';
import type { PrimitiveCall, TranslatedEntry, TranslatedReply, TranslationContext } from '../translator.ts';
import type { DecodedRequest } from '../../requests/protocol.ts';
import type { ObjectAttributesField } from '../../requests/kinds/object-attributes.ts';
import type { UnicodeStr } from '../../requests/kinds/text.ts';
import { SELECT_WAIT, SELECT_WAIT_ALL } from '../../requests/kinds/select-op.ts';
import { isMalformed } from '../../requests/kinds/malformed.ts';
import { acquireMutex, cancelAcquire, openState, queryMutex, releaseMutex, type AcquireResult, type Caller } from './mutex-state.ts';
import { WinekernelError } from '../../errors/winekernel-error.ts';

export const MUTANT_TYPE = 'Mutant';
export const MUTANT_QUERY_STATE = 0x1;
export const SYNCHRONIZE = 0x100000;
export const STATUS_ABANDONED_WAIT_0 = 0x80;
export const STATUS_TIMEOUT = 0x102;
export const STATUS_PENDING = 0x103;
export const STATUS_MUTANT_NOT_OWNED = 0xc0000046;
/** abstime_t meaning "no timeout". */
export const TIMEOUT_INFINITE = 0x7fffffffffffffffn;

// ---------------------------------------------------------------------------
// The state object behind each Wine handle

export interface MutexHandle {
  /** This handle's primitive handle on the state object. */
  state: number;
  /** The namespace entry's sequence: the mutex's identity in the instance. */
  seq: number;
}
const mutexHandles = new WeakMap<ProxyHandleEntry, MutexHandle>();

/** The state handle of a namespace handle to a mutex, opened on first use (duplicated/inherited handles). */
export function mutexOf(ctx: TranslationContext, entry: ProxyHandleEntry): MutexHandle {
  let known = mutexHandles.get(entry);
  if (!known) {
    const node = namespaceHandle(entry)!.node;
    known = { seq: node.record.seq, state: openState(ctx.session, node.record.seq, (node.record.flags & FLAG_PERMANENT) !== 0) };
    mutexHandles.set(entry, known);
  }
  return known;
}

/**
 * Closes a proxy handle to a mutex (what close_handle must call for it):
 * the state handle, then the namespace part. Ownership is not affected, as
 * in Wine (a thread may own a mutex it holds no handle to).
 */
export function closeMutexHandle(ctx: TranslationContext, value: number): number {
  const entry = ctx.handles.get(value);
  const known = entry && mutexHandles.get(entry);
  if (known) {
    ctx.session.close(known.state);
    mutexHandles.delete(entry);
  }
  return closeNamespaceHandle(ctx, value);
}

/**
 * close_handle's part for a mutex handle whose value the caller has already
 * released from the table and whose primitive it closes itself (the live
 * close_handle, proxy/translate/live/index.ts): the state handle and the
 * namespace anchors.
 */
export function closeMutexEntry(ctx: TranslationContext, entry: ProxyHandleEntry): void {
  const known = mutexHandles.get(entry);
  if (known) {
    ctx.session.close(known.state);
    mutexHandles.delete(entry);
  }
  for (const anchor of namespaceHandle(entry)?.anchors ?? []) ctx.session.close(anchor);
}

export const callerOf = (ctx: TranslationContext): Caller => ({ session: ctx.session, pid: ctx.pid, tid: ctx.tid });

// ---------------------------------------------------------------------------
// Requests

interface CreateMutexRequest {
  access: number;
  owned: number;
  objattr: ObjectAttributesField;
}
interface OpenMutexRequest {
  access: number;
  attributes: number;
  rootdir: number;
  name: UnicodeStr;
}
interface HandleRequest {
  handle: number;
}

const CREATE: readonly PrimitiveCall[] = ['object_create', 'object_open', 'lockobject', 'unlock', 'size', 'getdata', 'setdata', 'object_list', 'setacl', 'object_close'];
const OPEN: readonly PrimitiveCall[] = ['object_create', 'object_open', 'lockobject', 'unlock', 'size', 'getdata', 'object_list', 'object_close'];
const STATE: readonly PrimitiveCall[] = ['object_open', 'lockobject', 'unlock', 'getdata', 'setdata', 'object_close'];

export const createMutex: TranslatedEntry<CreateMutexRequest, { handle: number }> = {
  request: 'create_mutex',
  family: 'sync objects',
  status: 'translated',
  domains: ['sync-objects', 'object-namespace'],
  primitives: CREATE,
  async translate(request, ctx) {
    const { access, owned, objattr } = request.body;
    // The creator of a new mutex is not access-checked; opening an existing one (OBJ_OPENIF) is.
    const { status, handle } = await createNamedObject(ctx, { type: MUTANT_TYPE, access, objattr, checkCreator: false });
    if (!handle) return { error: status, body: { handle: 0 } };
    const mutex = mutexOf(ctx, ctx.handles.get(handle)!);
    // Initial ownership only for a mutex this call created (an existing one keeps its state).
    if (status === STATUS_SUCCESS && owned) {
      const taken = await acquireMutex(callerOf(ctx), mutex.state, mutex.seq, 0);
      if (!taken.acquired) ctx.log?.warn({ seq: mutex.seq }, 'a new mutex was taken before its creator could own it');
    }
    return { error: status, body: { handle } };
  },
};

export const openMutex: TranslatedEntry<OpenMutexRequest, { handle: number }> = {
  request: 'open_mutex',
  family: 'sync objects',
  status: 'translated',
  domains: ['sync-objects', 'object-namespace'],
  primitives: OPEN,
  async translate(request, ctx) {
    const { access, attributes, rootdir } = request.body;
    const { status, handle } = await openNamedObject(ctx, { type: MUTANT_TYPE, access, attributes, rootdir, name: unicodeBytes(request.body.name) });
    if (handle) mutexOf(ctx, ctx.handles.get(handle)!);
    return { error: status, body: { handle } };
  },
};

export const releaseMutexEntry: TranslatedEntry<HandleRequest, { prev_count: number }> = {
  request: 'release_mutex',
  family: 'sync objects',
  status: 'translated',
  domains: ['sync-objects'],
  primitives: STATE,
  translate(request, ctx) {
    // Releasing needs no access right, only a mutex handle.
    const found = handleObject(ctx, request.body.handle, 0, MUTANT_TYPE);
    if (!found.entry) return { error: found.status, body: { prev_count: 0 } };
    const mutex = mutexOf(ctx, found.entry);
    const prev = releaseMutex(callerOf(ctx), mutex.state, mutex.seq);
    if (prev === null) return { error: STATUS_MUTANT_NOT_OWNED, body: { prev_count: 0 } };
    return { error: STATUS_SUCCESS, body: { prev_count: prev } };
  },
};

export const queryMutexEntry: TranslatedEntry<HandleRequest, { count: number; owned: number; abandoned: number }> = {
  request: 'query_mutex',
  family: 'sync objects',
  status: 'translated',
  domains: ['sync-objects'],
  primitives: STATE,
  translate(request, ctx) {
    const found = handleObject(ctx, request.body.handle, MUTANT_QUERY_STATE, MUTANT_TYPE);
    if (!found.entry) return { error: found.status, body: { count: 0, owned: 0, abandoned: 0 } };
    const mutex = mutexOf(ctx, found.entry);
    const s = queryMutex(callerOf(ctx), mutex.state, mutex.seq);
    const owned = s.count > 0 && s.ownerPid === ctx.pid && s.ownerTid === ctx.tid;
    return { error: STATUS_SUCCESS, body: { count: s.count, owned: owned ? 1 : 0, abandoned: s.abandoned ? 1 : 0 } };
  },
};

export const MUTEX_TRANSLATORS = [createMutex, openMutex, releaseMutexEntry, queryMutexEntry] as const;

// ---------------------------------------------------------------------------
// select on one mutex

/** The 16-byte record wineserver writes on a thread's wait pipe to end a pending select. */
export interface WakeUp {
  cookie: bigint;
  /** The status the wait ends with: 0, STATUS_ABANDONED_WAIT_0 or STATUS_TIMEOUT. */
  signaled: number;
}

export const WAKE_UP_REPLY_SIZE = 16;

/** struct wake_up_reply: u64 cookie, i32 signaled, u32 padding. */
export function encodeWakeUp(w: WakeUp): Buffer {
  const out = Buffer.alloc(WAKE_UP_REPLY_SIZE);
  out.writeBigUInt64LE(BigInt.asUintN(64, w.cookie), 0);
  out.writeInt32LE(w.signaled | 0, 8);
  return out;
}

/** The clocks a timeout is measured with, in 100 ns units (Wine's). */
export interface WaitClock {
  /** Monotonic time (negative abstime_t deadlines count on it). */
  monotonic100ns(): bigint;
  /** System time since 1601 (positive abstime_t deadlines). */
  system100ns(): bigint;
}

const EPOCH_1601_TO_1970_100NS = 116444736000000000n;

/** The wait clock cannot be read (the fd addon lacks clockGettime: rebuild it with `npm run build:native`). */
export class WaitClockError extends WinekernelError<'WK_WAIT_CLOCK'> {
  constructor(message: string) {
    super('WK_WAIT_CLOCK', message);
  }
}

/** CLOCK_MONOTONIC_RAW now, in ns, read through the fd addon (Node reads only CLOCK_MONOTONIC). */
export function monotonicRawNs(): bigint {
  if (typeof fdAddon.clockGettime !== 'function') throw new WaitClockError('the fd addon has no clockGettime (an old build)');
  return fdAddon.clockGettime(CLOCK_MONOTONIC_RAW);
}

let rawOffset: bigint | undefined;

/**
 * CLOCK_MONOTONIC_RAW minus CLOCK_MONOTONIC (process.hrtime), in 100 ns
 * units, read once. Wine's client computes relative deadlines on the raw
 * clock; the two drift apart by the NTP slew accumulated since boot (57 ms
 * after a day and a half on the development machine), more than a short
 * wait lasts. Live waits read the raw clock directly (SYSTEM_WAIT_CLOCK);
 * the offset maps a recording's CLOCK_MONOTONIC timestamps (clockAt).
 */
export function monotonicRawOffset100ns(): bigint {
  if (rawOffset !== undefined) return rawOffset;
  const raw = monotonicRawNs();
  const mono = process.hrtime.bigint();
  rawOffset = (raw - mono) / 100n;
  return rawOffset;
}

/** The process's clocks, on Wine's time bases. */
export const SYSTEM_WAIT_CLOCK: WaitClock = {
  monotonic100ns: () => monotonicRawNs() / 100n,
  system100ns: () => BigInt(Date.now()) * 10000n + EPOCH_1601_TO_1970_100NS,
};

/** The clocks as they were at a CLOCK_MONOTONIC instant in ns (a recording's timestamps), for replay. */
export function clockAt(monotonicNs: bigint): WaitClock {
  const monotonic = monotonicNs / 100n + monotonicRawOffset100ns();
  return { monotonic100ns: () => monotonic, system100ns: SYSTEM_WAIT_CLOCK.system100ns };
}

export type SelectOutcome =
  /** Answered at once (acquired, abandoned, timed out or refused with wineserver's status). */
  | { kind: 'reply'; reply: TranslatedReply }
  /**
   * The wait blocks: send `reply` (STATUS_PENDING, signaled=0) now; when
   * `wakeup` resolves with a value, write encodeWakeUp(value) on the thread's
   * wait pipe; null means the wait was cancelled (the thread or process is
   * gone) and nothing must be written. `cancel()` ends the wait.
   */
  | { kind: 'pending'; reply: TranslatedReply; wakeup: Promise<WakeUp | null>; cancel(): void }
  /** Not a select this function answers (see isMutexSelect); the caller keeps its routing. */
  | { kind: 'not-mine'; detail: string };

interface SelectBody {
  flags: number;
  cookie: bigint;
  timeout: bigint;
  size: number;
  prev_apc: number;
  result: { type: number } | unknown;
  data: unknown;
  contexts: { contexts: unknown[]; fragment: Buffer } | unknown;
}

/** The one handle of a select that waits for exactly one object, or null. */
function singleWaitHandle(body: SelectBody): number | null {
  const data = body.data as { op?: number; handles?: number[] } | null;
  if (!data || isMalformed(data as never) || (data.op !== SELECT_WAIT && data.op !== SELECT_WAIT_ALL)) return null;
  return data.handles?.length === 1 ? data.handles[0] >>> 0 : null;
}

/**
 * Whether `selectOnMutex` answers this select: a wait (any or all) on
 * exactly one proxy handle, with no APC result to hand back and no thread
 * context. (Which handle type it is gets checked by selectOnMutex itself,
 * answering as wineserver would.)
 */
export function isMutexSelect(request: DecodedRequest): boolean {
  if (request.name !== 'select') return false;
  const body = request.body as unknown as SelectBody;
  const handle = singleWaitHandle(body);
  const contexts = body.contexts as { contexts?: unknown[]; fragment?: Buffer } | null;
  const noContexts = !contexts || ((contexts.contexts?.length ?? 0) === 0 && (contexts.fragment?.length ?? 0) === 0);
  const result = body.result as { type?: number } | null;
  return handle !== null && handleOwner(handle) === 'proxy' && body.prev_apc === 0 && noContexts && (!result || result.type === 0);
}

/** The wait's timeout in ns for the primitives: -1 forever, 0 only try. */
export function timeoutNsFor(when: bigint, clock: WaitClock): number {
  if (when === TIMEOUT_INFINITE) return -1;
  const left100 = when >= 0n ? when - clock.system100ns() : -when - clock.monotonic100ns();
  if (left100 <= 0n) return 0;
  const ns = left100 * 100n;
  // Beyond what a double holds exactly, the wait is forever in practice.
  return ns > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(ns);
}

/** sizeof(apc_call_t) in the select reply. */
const APC_CALL_SIZE = 48;

export function selectReply(error: number, signaled: number): TranslatedReply {
  // wineserver zeroes the reply: no APC call, no APC handle, no contexts.
  const call = { type: 0, raw: Buffer.alloc(APC_CALL_SIZE) };
  return { error, body: { call, apc_handle: 0, signaled, contexts: { contexts: [], fragment: Buffer.alloc(0) } } };
}

export const statusOf = (r: AcquireResult): number => (r.acquired ? (r.abandoned ? STATUS_ABANDONED_WAIT_0 : STATUS_SUCCESS) : STATUS_TIMEOUT);

/**
 * select (SELECT_WAIT or SELECT_WAIT_ALL) on exactly one proxy mutex handle,
 * as wineserver answers it: acquired now (0, or STATUS_ABANDONED_WAIT_0 for
 * an abandoned mutex) and STATUS_TIMEOUT when it cannot be had before the
 * deadline has passed, all with signaled=1; otherwise STATUS_PENDING with
 * signaled=0 and a wake-up to deliver later on the wait pipe.
 */
export async function selectOnMutex(request: DecodedRequest, ctx: TranslationContext, clock: WaitClock = SYSTEM_WAIT_CLOCK): Promise<SelectOutcome> {
  if (!isMutexSelect(request)) return { kind: 'not-mine', detail: 'not a wait on exactly one proxy handle without APC result or context' };
  const body = request.body as unknown as SelectBody;
  if (body.cookie === 0n) return { kind: 'reply', reply: selectReply(STATUS_INVALID_PARAMETER, 0) };
  const handle = singleWaitHandle(body)!;
  // Waits on the proxy's other objects (directories, keys) are not this function's.
  const named = ctx.handles.get(handle);
  if (named && named.type !== MUTANT_TYPE) return { kind: 'not-mine', detail: `select on a proxy ${named.type}, not a mutex` };
  const found = handleObject(ctx, handle, SYNCHRONIZE, null);
  if (!found.entry) return { kind: 'reply', reply: selectReply(found.status, 1) };
  const mutex = mutexOf(ctx, found.entry);
  const caller = callerOf(ctx);
  const attempt = acquireMutex(caller, mutex.state, mutex.seq, timeoutNsFor(body.timeout, clock));
  if (!(attempt instanceof Promise)) return { kind: 'reply', reply: selectReply(statusOf(attempt), 1) };
  const cookie = body.cookie;
  return {
    kind: 'pending',
    reply: selectReply(STATUS_PENDING, 0),
    wakeup: attempt.then((r) => (!r.acquired && r.why === 'cancelled' ? null : { cookie, signaled: statusOf(r) })),
    cancel: () => cancelAcquire(caller, mutex.seq),
  };
}
