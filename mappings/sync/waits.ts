// select on proxy mutexes, live (docs/mutexes.md, "Live"): every wait that
// names at least one proxy handle, answered by the proxy.
//
//  * Only proxy mutexes (any or all, 1..64 handles, SELECT_SIGNAL_AND_WAIT
//    of two proxy mutexes): answered at once when it can be satisfied or has
//    timed out; otherwise STATUS_PENDING now and a wake-up on the thread's
//    wait pipe later. A wait on one mutex queues on its primitive lock (FIFO,
//    as wineserver's wait queue); a wait on several tries again whenever a
//    mutex may have become free (mutex-state.ts, onMutexesChanged).
//  * Proxy mutexes and wineserver objects together (SELECT_WAIT and
//    SELECT_WAIT_ALL): neither side can wait for the other's objects, so the
//    proxy keeps the select's reply back and polls: each round takes what
//    the proxy side has (tentatively) and asks wineserver, through a server
//    call of the same thread with timeout 0, for its side; a round that
//    cannot be satisfied is undone and retried after a short sleep (or at
//    once when a proxy mutex becomes free) until the deadline.
//  * SELECT_SIGNAL_AND_WAIT across the two sides: releasing a proxy mutex and
//    waiting for a wineserver object (wineserver's own select does the
//    wait), or signalling a wineserver object and waiting for a proxy mutex
//    (wineserver signals it in a select of its own that is satisfied at
//    once; the proxy does the wait).
//
// Wineserver's rules reproduced (server/thread.c select_on, check_wait,
// end_wait; server/mutex.c): handles are checked first (INVALID_HANDLE,
// ACCESS_DENIED without SYNCHRONIZE, OBJECT_TYPE_MISMATCH for what cannot be
// waited on), a wait for any object takes the lowest index that is
// signalled, a wait for all takes all or nothing, an abandoned mutex adds
// STATUS_ABANDONED_WAIT_0 (to the index, or to 0 for a wait for all), and a
// mutex listed twice in a wait for all is acquired twice.

import { handleOwner } from '../handles.ts';
import { STATUS_ACCESS_DENIED, STATUS_INVALID_HANDLE, STATUS_INVALID_PARAMETER, STATUS_NOT_SUPPORTED, STATUS_SUCCESS } from '../ntstatus.ts';
import { STATUS_OBJECT_TYPE_MISMATCH } from '../namespace/records.ts';
import type { TranslatedReply, TranslationContext } from '../translator.ts';
import type { DecodedRequest } from '../../requests/protocol.ts';
import { isMalformed } from '../../requests/kinds/malformed.ts';
import { encodeSelectOp, SELECT_NONE, SELECT_SIGNAL_AND_WAIT, SELECT_WAIT, SELECT_WAIT_ALL, type SelectOp } from '../../requests/kinds/select-op.ts';
import { acquireMutex, cancelAcquire, onMutexesChanged, releaseMutex, tryTakeMutex, type TakenMutex } from './mutex-state.ts';
import {
  callerOf,
  MUTANT_TYPE,
  mutexOf,
  selectReply,
  STATUS_ABANDONED_WAIT_0,
  STATUS_MUTANT_NOT_OWNED,
  STATUS_PENDING,
  STATUS_TIMEOUT,
  statusOf,
  SYNCHRONIZE,
  SYSTEM_WAIT_CLOCK,
  timeoutNsFor,
  type WaitClock,
  type WakeUp,
} from './mutexes.ts';

/** select flags (protocol.def). */
export const SELECT_ALERTABLE = 1;
export const SELECT_INTERRUPTIBLE = 2;
/** The current thread's pseudo-handle: a thread object, never signalled while the thread runs. */
const CURRENT_THREAD = 0xfffffffe;
/** The cookie of the signal-only select (signalServerObject): satisfied at once, so no wake-up ever carries it. */
const SIGNAL_ONLY_COOKIE = 1n;
/** Mixed waits: the first pause between two polls of wineserver, doubled up to the last. */
const POLL_FIRST_MS = 1;
const POLL_MAX_MS = 8;
/** setTimeout's largest delay; longer waits re-arm. */
const MAX_TIMER_MS = 0x7fffffff;

export type WaitAnswer =
  /** Answered now: write the reply. */
  | { kind: 'reply'; reply: TranslatedReply }
  /** STATUS_PENDING now; `wakeup` resolves with the wake-up to write on the wait pipe, or null (cancelled: write nothing). */
  | { kind: 'pending'; reply: TranslatedReply; wakeup: Promise<WakeUp | null> }
  /** Not answerable by either side: answer `status` (STATUS_NOT_SUPPORTED) and nothing else. */
  | { kind: 'refuse'; status: number; detail: string };

interface SelectBody {
  flags: number;
  cookie: bigint;
  timeout: bigint;
  size: number;
  prev_apc: number;
  result: { type: number; raw?: Buffer } | null;
  data: SelectOp | null;
  contexts: { contexts?: unknown[]; fragment?: Buffer } | null;
}

/** A proxy mutex of a wait: its index in the select and its state. */
interface Target {
  index: number;
  state: number;
  seq: number;
}

const reply = (error: number, signaled = 1): WaitAnswer => ({ kind: 'reply', reply: selectReply(error, signaled) });
const refuse = (detail: string): WaitAnswer => ({ kind: 'refuse', status: STATUS_NOT_SUPPORTED, detail });

// ---------------------------------------------------------------------------
// Pending waits, per thread (cancelled when the thread ends)

const pendingWaits = new WeakMap<object, Map<number, () => void>>();

function registerWait(ctx: TranslationContext, cancel: () => void): () => void {
  let map = pendingWaits.get(ctx.session);
  if (!map) pendingWaits.set(ctx.session, (map = new Map()));
  map.get(ctx.tid)?.();
  map.set(ctx.tid, cancel);
  const own = map;
  return () => {
    if (own.get(ctx.tid) === cancel) own.delete(ctx.tid);
  };
}

/** The thread `tid` of this session ended: its pending or polling wait ends without a wake-up. */
export function cancelThreadWait(session: object, tid: number): void {
  const map = pendingWaits.get(session);
  const cancel = map?.get(tid);
  if (!cancel) return;
  map!.delete(tid);
  cancel();
}

/** A timer that may run longer than setTimeout allows. */
function armTimer(ms: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = (left: number) => {
    timer = setTimeout(() => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : fn()), Math.min(left, MAX_TIMER_MS));
  };
  arm(Math.max(0, ms));
  return () => clearTimeout(timer);
}

// ---------------------------------------------------------------------------
// Checking the handles

/** The state of a proxy handle waited on, or the status wineserver fails the select with. */
function waitTarget(ctx: TranslationContext, handle: number, index: number): Target | { status: number } {
  const entry = ctx.handles.get(handle);
  if (!entry) return { status: STATUS_INVALID_HANDLE };
  if ((entry.access & SYNCHRONIZE) !== SYNCHRONIZE) return { status: STATUS_ACCESS_DENIED };
  // Directories, links and keys cannot be waited on (no_add_queue).
  if (entry.type !== MUTANT_TYPE) return { status: STATUS_OBJECT_TYPE_MISMATCH };
  const mutex = mutexOf(ctx, entry);
  return { index, state: mutex.state, seq: mutex.seq };
}

/** Takes what a proxy-only wait can have now: the status it ends with, or null. */
function attempt(ctx: TranslationContext, targets: readonly Target[], all: boolean): number | null {
  const caller = callerOf(ctx);
  if (!all) {
    for (const t of targets) {
      const taken = tryTakeMutex(caller, t.state, t.seq);
      if (taken) return (taken.abandoned ? STATUS_ABANDONED_WAIT_0 : 0) + t.index;
    }
    return null;
  }
  const taken = takeAll(ctx, targets);
  return taken ? (taken.some((t) => t.abandoned) ? STATUS_ABANDONED_WAIT_0 : STATUS_SUCCESS) : null;
}

/** All of them or none: the takes, or null after undoing those already made. */
function takeAll(ctx: TranslationContext, targets: readonly Target[]): TakenMutex[] | null {
  const caller = callerOf(ctx);
  const taken: TakenMutex[] = [];
  for (const t of targets) {
    const one = tryTakeMutex(caller, t.state, t.seq);
    if (!one) {
      undoAll(taken);
      return null;
    }
    taken.push(one);
  }
  return taken;
}

function undoAll(taken: readonly TakenMutex[]): void {
  for (let i = taken.length - 1; i >= 0; i--) taken[i].undo();
}

// ---------------------------------------------------------------------------
// The select

/**
 * Answers a select that names at least one proxy handle. `ctx.server` (the
 * thread's way to wineserver) is needed for APC results and alertable
 * waits on proxy mutexes, and for every mixed wait; without it (replay)
 * those are refused.
 */
export async function selectLive(request: DecodedRequest, ctx: TranslationContext, clock: WaitClock = SYSTEM_WAIT_CLOCK): Promise<WaitAnswer> {
  const body = request.body as unknown as SelectBody;
  const data = body.data;
  const contexts = body.contexts;
  if (contexts && ((contexts.contexts?.length ?? 0) > 0 || (contexts.fragment?.length ?? 0) > 0)) {
    return refuse('a select carrying a thread context (a suspend) on proxy handles');
  }
  if (body.cookie === 0n) return reply(STATUS_INVALID_PARAMETER, 0);
  if (!data || isMalformed(data as never)) return refuse('a select with an unreadable operation on proxy handles');
  if (data.op === SELECT_SIGNAL_AND_WAIT) return signalAndWait(body, data, ctx, clock);
  if (data.op !== SELECT_WAIT && data.op !== SELECT_WAIT_ALL) return refuse(`select operation ${data.op} on proxy handles`);
  const all = data.op === SELECT_WAIT_ALL;
  const handles = data.handles.map((h) => h >>> 0);
  const serverIndexes = handles.map((h, i) => (handleOwner(h) === 'proxy' ? -1 : i)).filter((i) => i >= 0);
  const targets: Target[] = [];
  for (const [index, h] of handles.entries()) {
    if (handleOwner(h) !== 'proxy') continue;
    const target = waitTarget(ctx, h, index);
    if ('status' in target) return reply(target.status);
    targets.push(target);
  }
  if (serverIndexes.length) return mixedWait({ body, handles, serverIndexes, targets, ctx }, all, clock);
  return proxyWait(body, all, targets, ctx, clock);
}

/**
 * Hands a previous APC's result to wineserver and checks for queued APCs
 * before a wait on proxy objects (select with SELECT_NONE and timeout 0, the
 * client's flags): null when nothing is due (TIMEOUT), else wineserver's
 * reply, which is the answer (an APC to run, or an error).
 */
async function settleApcs(body: SelectBody, ctx: TranslationContext): Promise<WaitAnswer | null> {
  const hasResult = body.prev_apc !== 0 || (body.result !== null && body.result.type !== 0);
  if (!hasResult && !(body.flags & SELECT_ALERTABLE)) return null;
  if (!ctx.server) return refuse('an APC result or an alertable wait on proxy mutexes needs wineserver');
  const answer = await serverSelect(ctx, body, { op: SELECT_NONE }, true);
  return answer.error === STATUS_TIMEOUT ? null : { kind: 'reply', reply: answer };
}

/** select on wineserver's side, as the calling thread, timeout 0; `first` carries the client's APC result. */
function serverSelect(ctx: TranslationContext, body: SelectBody, op: SelectOp, first: boolean): Promise<TranslatedReply> {
  return callSelect(ctx, { flags: body.flags, cookie: body.cookie, timeout: 0n, prevApc: first ? body.prev_apc : 0, result: first ? body.result : null, op });
}

/** What a select the proxy sends to wineserver as the calling thread carries (no thread context). */
interface SelectCall {
  flags: number;
  cookie: bigint;
  timeout: bigint;
  prevApc: number;
  result: SelectBody['result'];
  op: SelectOp;
}

async function callSelect(ctx: TranslationContext, call: SelectCall): Promise<TranslatedReply> {
  const decoded = await ctx.server!.call('select', {
    flags: call.flags,
    cookie: call.cookie,
    timeout: call.timeout,
    size: encodeSelectOp(call.op).length,
    prev_apc: call.prevApc,
    result: call.result ?? { type: 0, raw: Buffer.alloc(40) },
    data: call.op,
    contexts: { contexts: [], fragment: Buffer.alloc(0) },
  });
  return { error: decoded.error >>> 0, body: decoded.body as Record<string, unknown> };
}

/** A wait on proxy mutexes only. */
async function proxyWait(body: SelectBody, all: boolean, targets: Target[], ctx: TranslationContext, clock: WaitClock): Promise<WaitAnswer> {
  const apcs = await settleApcs(body, ctx);
  if (apcs) return apcs;
  const timeoutNs = timeoutNsFor(body.timeout, clock);
  if (targets.length === 1) return singleWait(body.cookie, targets[0], ctx, timeoutNs);
  const now = attempt(ctx, targets, all);
  if (now !== null) return reply(now);
  if (timeoutNs === 0) return reply(STATUS_TIMEOUT);
  const cookie = body.cookie;
  const wakeup = new Promise<WakeUp | null>((resolve) => {
    let done = false;
    const finish = (signaled: number | null) => {
      if (done) return;
      done = true;
      unsubscribe();
      stopTimer();
      unregister();
      resolve(signaled === null ? null : { cookie, signaled });
    };
    const unsubscribe = onMutexesChanged(() => {
      const got = attempt(ctx, targets, all);
      if (got !== null) finish(got);
    });
    const stopTimer = timeoutNs < 0 ? () => {} : armTimer(Math.ceil(timeoutNs / 1e6), () => finish(attempt(ctx, targets, all) ?? STATUS_TIMEOUT));
    const unregister = registerWait(ctx, () => finish(null));
  });
  return { kind: 'pending', reply: selectReply(STATUS_PENDING, 0), wakeup };
}

/** A wait on one proxy mutex: queued on its primitive lock, first come first served. */
function singleWait(cookie: bigint, target: Target, ctx: TranslationContext, timeoutNs: number): WaitAnswer {
  const caller = callerOf(ctx);
  const result = acquireMutex(caller, target.state, target.seq, timeoutNs);
  if (!(result instanceof Promise)) return reply(statusOf(result) + (result.acquired ? target.index : 0));
  const unregister = registerWait(ctx, () => cancelAcquire(caller, target.seq));
  const wakeup = result.then((r) => {
    unregister();
    if (!r.acquired && r.why === 'cancelled') return null;
    return { cookie, signaled: statusOf(r) + (r.acquired ? target.index : 0) };
  });
  return { kind: 'pending', reply: selectReply(STATUS_PENDING, 0), wakeup };
}

/** signal_object on a proxy mutex (SignalObjectAndWait's release): 0, or the status the select ends with. */
function signalProxyMutex(ctx: TranslationContext, signal: number): number {
  const entry = ctx.handles.get(signal);
  if (!entry) return STATUS_INVALID_HANDLE;
  if (entry.type !== MUTANT_TYPE) return STATUS_OBJECT_TYPE_MISMATCH;
  if ((entry.access & SYNCHRONIZE) !== SYNCHRONIZE) return STATUS_ACCESS_DENIED;
  const mutex = mutexOf(ctx, entry);
  return releaseMutex(callerOf(ctx), mutex.state, mutex.seq) === null ? STATUS_MUTANT_NOT_OWNED : 0;
}

/**
 * SignalObjectAndWait with a proxy mutex to release: waiting for a proxy
 * mutex, or for a wineserver object. wineserver sets the wait up first (its
 * handle errors come before the release), then signals.
 */
async function signalAndWait(body: SelectBody, op: { wait: number; signal: number }, ctx: TranslationContext, clock: WaitClock): Promise<WaitAnswer> {
  const wait = op.wait >>> 0;
  const signal = op.signal >>> 0;
  if (handleOwner(wait) !== 'proxy') return signalThenServerWait(body, wait, signal, ctx);
  const target = waitTarget(ctx, wait, 0);
  if ('status' in target) return reply(target.status);
  if (signal) {
    const status = handleOwner(signal) === 'proxy' ? signalProxyMutex(ctx, signal) : await signalServerObject(ctx, signal);
    if (status) return reply(status);
  }
  const apcs = await settleApcs(body, ctx);
  if (apcs) return apcs;
  return singleWait(body.cookie, target, ctx, timeoutNsFor(body.timeout, clock));
}

/**
 * signal_object on a wineserver object (SignalObjectAndWait signalling an
 * event, a semaphore or a mutex of wineserver's and waiting for a proxy
 * mutex): 0, or the status the select ends with. wineserver has no request
 * that only signals, so the proxy makes it run its own signal-and-wait as the
 * calling thread, waiting for a fresh manual-reset event created signalled
 * (satisfied at once, with no side effect) and closed after: wineserver
 * applies its own access checks and each type's signal (event set,
 * semaphore released by one, mutex released), with its own errors
 * (ACCESS_DENIED, SEMAPHORE_LIMIT_EXCEEDED, MUTANT_NOT_OWNED,
 * OBJECT_TYPE_MISMATCH, INVALID_HANDLE). The flags are 0: not alertable nor
 * interruptible, so no APC can take the place of the answer.
 */
async function signalServerObject(ctx: TranslationContext, signal: number): Promise<number> {
  if (!ctx.server) return STATUS_NOT_SUPPORTED;
  const created = await ctx.server.call('create_event', {
    access: SYNCHRONIZE,
    manual_reset: 1,
    initial_state: 1,
    objattr: { rootdir: 0, attributes: 0, sd: null, name: '' },
  });
  if (created.error) return created.error >>> 0;
  const always = (created.body as { handle: number }).handle;
  try {
    const op: SelectOp = { op: SELECT_SIGNAL_AND_WAIT, wait: always, signal };
    return (await callSelect(ctx, { flags: 0, cookie: SIGNAL_ONLY_COOKIE, timeout: 0n, prevApc: 0, result: null, op })).error;
  } finally {
    await ctx.server.call('close_handle', { handle: always });
  }
}

/**
 * Release a proxy mutex, then wait for a wineserver object: the wait is
 * wineserver's own select of the calling thread (its flags, cookie, timeout
 * and APC result), whose reply is the answer and whose later wake-up
 * reaches the client through its wait pipe as for any forwarded select. The
 * wait handle is checked first (get_object_info: INVALID_HANDLE, and
 * ACCESS_DENIED without SYNCHRONIZE), so that a bad one leaves the mutex
 * owned, as in wineserver.
 */
async function signalThenServerWait(body: SelectBody, wait: number, signal: number, ctx: TranslationContext): Promise<WaitAnswer> {
  if (!ctx.server) return refuse('SignalObjectAndWait on a wineserver object needs wineserver');
  if (handleOwner(wait) === 'server') {
    const info = await ctx.server.call('get_object_info', { handle: wait });
    if (info.error) return reply(info.error >>> 0);
    if (((info.body as { access: number }).access & SYNCHRONIZE) !== SYNCHRONIZE) return reply(STATUS_ACCESS_DENIED);
  }
  const status = signalProxyMutex(ctx, signal);
  if (status) return reply(status);
  const op: SelectOp = { op: SELECT_WAIT, handles: [wait] };
  const answer = await callSelect(ctx, { flags: body.flags, cookie: body.cookie, timeout: body.timeout, prevApc: body.prev_apc, result: body.result, op });
  return { kind: 'reply', reply: answer };
}

/**
 * A wait on proxy mutexes and wineserver objects: answered by polling both
 * sides while the reply is held back (the client waits for it on its reply
 * pipe; wineserver is reached through server calls of the same thread).
 */
/** A wait on both sides: the select, its handles, which of them are wineserver's, the proxy mutexes. */
interface MixedWait {
  body: SelectBody;
  handles: readonly number[];
  serverIndexes: readonly number[];
  targets: readonly Target[];
  ctx: TranslationContext;
}

async function mixedWait(wait: MixedWait, all: boolean, clock: WaitClock): Promise<WaitAnswer> {
  const { body, ctx } = wait;
  if (!ctx.server) return refuse('a wait on proxy mutexes and wineserver objects needs wineserver');
  const timeoutNs = timeoutNsFor(body.timeout, clock);
  const started = process.hrtime.bigint();
  const left = () => (timeoutNs < 0 ? Infinity : timeoutNs - Number(process.hrtime.bigint() - started));
  let cancelled = false;
  let wake: (() => void) | null = null;
  const unregister = registerWait(ctx, () => {
    cancelled = true;
    wake?.();
  });
  try {
    let pause = POLL_FIRST_MS;
    for (let first = true; ; first = false) {
      const round = all ? await mixedRoundAll(wait, first) : await mixedRoundAny(wait, first);
      if (round) return { kind: 'reply', reply: round };
      if (cancelled) return { kind: 'reply', reply: selectReply(STATUS_TIMEOUT, 1) };
      const remaining = left();
      if (remaining <= 0) return reply(STATUS_TIMEOUT);
      await new Promise<void>((resolve) => {
        const stop = onMutexesChanged(() => done());
        const timer = setTimeout(() => done(), Math.min(pause, Math.ceil(remaining / 1e6)));
        function done() {
          stop();
          clearTimeout(timer);
          wake = null;
          resolve();
        }
        wake = done;
      });
      if (cancelled) return reply(STATUS_TIMEOUT);
      pause = Math.min(pause * 2, POLL_MAX_MS);
    }
  } finally {
    unregister();
  }
}

/** One round of a mixed wait for any object: the reply when it is satisfied (or wineserver has something else to say), else null. */
async function mixedRoundAny({ body, handles, serverIndexes, targets, ctx }: MixedWait, first: boolean): Promise<TranslatedReply | null> {
  const caller = callerOf(ctx);
  let taken: TakenMutex | null = null;
  let takenIndex = -1;
  for (const t of targets) {
    taken = tryTakeMutex(caller, t.state, t.seq);
    if (taken) {
      takenIndex = t.index;
      break;
    }
  }
  // Only objects before the mutex taken can win over it.
  const below = serverIndexes.filter((i) => takenIndex < 0 || i < takenIndex);
  if (below.length || (first && (body.prev_apc !== 0 || (body.result?.type ?? 0) !== 0))) {
    let answer: TranslatedReply;
    try {
      answer = await serverSelect(ctx, body, below.length ? { op: SELECT_WAIT, handles: below.map((i) => handles[i]) } : { op: SELECT_NONE }, first);
    } catch (error) {
      taken?.undo();
      throw error;
    }
    const status = answer.error;
    if (below.length && status < below.length) {
      taken?.undo();
      return selectReply(below[status], 1);
    }
    if (below.length && status >= STATUS_ABANDONED_WAIT_0 && status < STATUS_ABANDONED_WAIT_0 + below.length) {
      taken?.undo();
      return selectReply(STATUS_ABANDONED_WAIT_0 + below[status - STATUS_ABANDONED_WAIT_0], 1);
    }
    if (status !== STATUS_TIMEOUT) {
      taken?.undo();
      return answer;
    }
  }
  if (taken) return selectReply((taken.abandoned ? STATUS_ABANDONED_WAIT_0 : 0) + takenIndex, 1);
  return null;
}

/** One round of a mixed wait for all objects. */
async function mixedRoundAll({ body, handles, serverIndexes, targets, ctx }: MixedWait, first: boolean): Promise<TranslatedReply | null> {
  const taken = takeAll(ctx, targets);
  const serverHandles = serverIndexes.map((i) => handles[i]);
  // Without the proxy side, ask wineserver something that checks its handles
  // and the thread's APCs but cannot consume anything: the calling thread is
  // never signalled while it runs.
  const op: SelectOp = { op: SELECT_WAIT_ALL, handles: taken ? serverHandles : [...serverHandles, CURRENT_THREAD] };
  let answer: TranslatedReply;
  try {
    answer = await serverSelect(ctx, body, op, first);
  } catch (error) {
    if (taken) undoAll(taken);
    throw error;
  }
  const status = answer.error;
  if (taken && (status === STATUS_SUCCESS || status === STATUS_ABANDONED_WAIT_0)) {
    const abandoned = status === STATUS_ABANDONED_WAIT_0 || taken.some((t) => t.abandoned);
    return selectReply(abandoned ? STATUS_ABANDONED_WAIT_0 : STATUS_SUCCESS, 1);
  }
  if (taken) undoAll(taken);
  return status === STATUS_TIMEOUT ? null : answer;
}
