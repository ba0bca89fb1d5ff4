// The state of a Wine mutex (an NT "Mutant") on the primitives, shared by
// every process of one instance. Wine's rules (facts from reading Wine 8.0's
// server/mutex.c and thread.c; the code is our own):
//  * a mutex is owned by a thread, recursively: every successful wait of the
//    owner adds one to the count, every release removes one, and at zero
//    the mutex is free;
//  * only the owning thread may release (else MUTANT_NOT_OWNED);
//  * when the owner thread ends holding it, the count drops to zero, the
//    mutex is marked abandoned, and the next thread that acquires it gets
//    STATUS_ABANDONED_WAIT_0 (the flag is then cleared); query_mutex reports
//    the flag meanwhile.
//
// Layout: the namespace entry (mappings/namespace) holds the name, type and
// descriptor; the mutex's own state is a second object
//   ntmutex:<entry sequence, hex>   20 bytes: u32 magic 'wkm1', u32 count,
//                                   u32 owner pid, u32 owner tid, u32 abandoned
// Its primitive lock stands for ownership across processes: the owning
// thread holds it exclusively, through a primitive handle of its own (one
// per thread and mutex, "lock handles"), so two threads of one process
// contend on the lock like two processes do (a lock belongs to the handle
// it was taken through). Waiters queue on the lock in FIFO order. The data
// is written only by the lock holder. A process that dies holding the lock
// leaves -EOWNERDEAD to the next taker: that is abandonment too.

import {
  WK_CREATE_OPEN_EXISTING,
  WK_CREATE_PERMANENT,
  WK_EAGAIN,
  WK_EOWNERDEAD,
  WK_ETIMEDOUT,
  WK_LOCK_EXCLUSIVE,
  WK_SETDATA_TRUNCATE,
  type Session,
} from '../../backends/primitives.ts';
import { WinekernelError } from '../../errors/winekernel-error.ts';

const STATE_MAGIC = 0x316d6b77; // 'wkm1'
const STATE_SIZE = 20;

/** A primitive call on mutex state failed in a way no Wine status describes (a broken instance). */
export class MutexStoreError extends WinekernelError<'WK_MUTEX_STORE'> {
  constructor(message: string) {
    super('WK_MUTEX_STORE', message);
  }
}

export interface MutexState {
  count: number;
  ownerPid: number;
  ownerTid: number;
  abandoned: boolean;
}

export const FREE_STATE: MutexState = { count: 0, ownerPid: 0, ownerTid: 0, abandoned: false };

export const mutexStateName = (seq: number) => `ntmutex:${seq.toString(16)}`;

export function encodeState(s: MutexState): Buffer {
  const out = Buffer.alloc(STATE_SIZE);
  [STATE_MAGIC, s.count, s.ownerPid, s.ownerTid, s.abandoned ? 1 : 0].forEach((v, i) => out.writeUInt32LE(v >>> 0, i * 4));
  return out;
}

export function readState(session: Session, handle: number): MutexState {
  const buf = Buffer.alloc(STATE_SIZE);
  const got = session.getdata(handle, buf, 0);
  if (got !== STATE_SIZE || buf.readUInt32LE(0) !== STATE_MAGIC) throw new MutexStoreError(`mutex state is not a winekernel mutex (read ${got})`);
  return { count: buf.readUInt32LE(4), ownerPid: buf.readUInt32LE(8), ownerTid: buf.readUInt32LE(12), abandoned: buf.readUInt32LE(16) !== 0 };
}

export function writeState(session: Session, handle: number, s: MutexState): void {
  const written = session.setdata(handle, encodeState(s), 0, WK_SETDATA_TRUNCATE);
  if (written < 0) throw new MutexStoreError(`writing mutex state failed (${written})`);
}

/** Opens (creating it free if missing) the state object of the mutex entry `seq`. */
export function openState(session: Session, seq: number, permanent: boolean): number {
  const h = session.create(mutexStateName(seq), encodeState(FREE_STATE), WK_CREATE_OPEN_EXISTING | (permanent ? WK_CREATE_PERMANENT : 0));
  if (h < 0) throw new MutexStoreError(`opening ${mutexStateName(seq)} failed (${h})`);
  return h;
}

// ---------------------------------------------------------------------------
// Lock handles: one primitive handle per (session, mutex, thread)

const lockHandles = new WeakMap<Session, Map<string, { seq: number; tid: number; handle: number }>>();

function threadLocks(session: Session): Map<string, { seq: number; tid: number; handle: number }> {
  let map = lockHandles.get(session);
  if (!map) lockHandles.set(session, (map = new Map()));
  return map;
}

function lockHandle(session: Session, seq: number, tid: number): number {
  const map = threadLocks(session);
  const key = `${seq}/${tid}`;
  const known = map.get(key);
  if (known) return known.handle;
  const handle = session.open(mutexStateName(seq));
  if (handle < 0) throw new MutexStoreError(`opening ${mutexStateName(seq)} for a lock failed (${handle})`);
  map.set(key, { seq, tid, handle });
  return handle;
}

function dropLockHandle(session: Session, seq: number, tid: number): void {
  const map = threadLocks(session);
  const key = `${seq}/${tid}`;
  const known = map.get(key);
  if (!known) return;
  map.delete(key);
  session.close(known.handle);
}

// ---------------------------------------------------------------------------
// Change notification: waits on several mutexes (mappings/sync/waits.ts) do
// not queue on one primitive lock; they try again whenever a mutex may have
// become free. Every such change happens in this process (the proxy), so a
// listener set is enough: releases to count 0, abandonment, rolled-back
// tentative takes, and the end of a session (its locks are released by the
// backend; the caller of Session.end notifies).

const changeListeners = new Set<() => void>();
let notifyQueued = false;

/** Calls `listener` (soon, not synchronously) after any mutex may have become free; returns the unsubscribe function. */
export function onMutexesChanged(listener: () => void): () => void {
  changeListeners.add(listener);
  return () => changeListeners.delete(listener);
}

/** Some mutex may have become free: wake every waiter on several mutexes to try again. */
export function notifyMutexesChanged(): void {
  if (notifyQueued || changeListeners.size === 0) return;
  notifyQueued = true;
  setImmediate(() => {
    notifyQueued = false;
    for (const listener of [...changeListeners]) listener();
  });
}

// ---------------------------------------------------------------------------
// Operations

/** Who is asking: the process's session and the Wine thread. */
export interface Caller {
  session: Session;
  pid: number;
  tid: number;
}

const ownedBy = (s: MutexState, c: Caller) => s.count > 0 && s.ownerPid === c.pid && s.ownerTid === c.tid;

/** Outcome of an acquisition: 'acquired' (abandoned: the previous owner died holding it), or the wait ended without it. */
export type AcquireResult = { acquired: true; abandoned: boolean } | { acquired: false; why: 'timeout' | 'cancelled' };

/** The caller takes the lock it just won: record it as owner (count 1) and report abandonment. */
function takeOwnership(caller: Caller, state: number, lockResult: number): AcquireResult {
  const before = readState(caller.session, state);
  // Stale ownership in the data (count > 0 with a free lock) can only be left by a holder that died.
  const abandoned = lockResult === -WK_EOWNERDEAD || before.abandoned || before.count > 0;
  writeState(caller.session, state, { count: 1, ownerPid: caller.pid, ownerTid: caller.tid, abandoned: false });
  return { acquired: true, abandoned };
}

function settle(caller: Caller, state: number, seq: number, result: number): AcquireResult {
  if (result === 0 || result === -WK_EOWNERDEAD) return takeOwnership(caller, state, result);
  dropLockHandle(caller.session, seq, caller.tid);
  if (result === -WK_EAGAIN || result === -WK_ETIMEDOUT) return { acquired: false, why: 'timeout' };
  // -EINTR (the session ended), -EBADF (the wait was cancelled by closing its handle).
  return { acquired: false, why: 'cancelled' };
}

/**
 * mutex_satisfied for the caller's thread: the owner re-acquires at once
 * (count + 1); otherwise the thread's lock handle takes the lock, with
 * `timeoutNs` (0: only try; -1: forever). Returns the result, or a Promise
 * of it when the lock has to be waited for.
 */
export function acquireMutex(caller: Caller, state: number, seq: number, timeoutNs: number): AcquireResult | Promise<AcquireResult> {
  const current = readState(caller.session, state);
  if (ownedBy(current, caller)) {
    writeState(caller.session, state, { ...current, count: current.count + 1 });
    return { acquired: true, abandoned: false };
  }
  const lock = lockHandle(caller.session, seq, caller.tid);
  if (timeoutNs === 0) return settle(caller, state, seq, caller.session.tryLock(lock, WK_LOCK_EXCLUSIVE));
  const result = caller.session.lock(lock, WK_LOCK_EXCLUSIVE, timeoutNs);
  if (typeof result === 'number') return settle(caller, state, seq, result);
  return result.then((r) => (caller.session.ended ? { acquired: false as const, why: 'cancelled' as const } : settle(caller, state, seq, r)));
}

/** Ends a pending acquisition of the caller's thread (its wait resolves as cancelled). */
export function cancelAcquire(caller: Caller, seq: number): void {
  const current = threadLocks(caller.session).get(`${seq}/${caller.tid}`);
  if (!current) return;
  dropLockHandle(caller.session, seq, caller.tid);
}

/** release_mutex: the previous count, or null when the caller's thread does not own it. */
export function releaseMutex(caller: Caller, state: number, seq: number): number | null {
  const current = readState(caller.session, state);
  if (!ownedBy(current, caller)) return null;
  if (current.count > 1) {
    writeState(caller.session, state, { ...current, count: current.count - 1 });
    return current.count;
  }
  writeState(caller.session, state, FREE_STATE);
  const lock = threadLocks(caller.session).get(`${seq}/${caller.tid}`);
  if (!lock) throw new MutexStoreError(`thread ${caller.tid} owns ${mutexStateName(seq)} without its lock handle`);
  const unlocked = caller.session.unlock(lock.handle);
  if (unlocked < 0) throw new MutexStoreError(`unlocking ${mutexStateName(seq)} failed (${unlocked})`);
  dropLockHandle(caller.session, seq, caller.tid);
  notifyMutexesChanged();
  return current.count;
}

/**
 * The state as query_mutex reports it. An owner recorded in the data whose
 * lock is free (its process died, leaving -EOWNERDEAD) is turned into what
 * wineserver shows after abandon_mutexes: count 0, abandoned.
 */
export function queryMutex(caller: Caller, state: number, seq: number): MutexState {
  const current = readState(caller.session, state);
  if (current.count === 0 || ownedBy(current, caller)) return current;
  const probe = caller.session.open(mutexStateName(seq));
  if (probe < 0) throw new MutexStoreError(`opening ${mutexStateName(seq)} failed (${probe})`);
  try {
    const r = caller.session.tryLock(probe, WK_LOCK_EXCLUSIVE);
    if (r !== 0 && r !== -WK_EOWNERDEAD) return current; // held: the data is the owner's
    const abandoned: MutexState = { ...FREE_STATE, abandoned: true };
    writeState(caller.session, state, abandoned);
    caller.session.unlock(probe);
    return abandoned;
  } finally {
    caller.session.close(probe);
  }
}

/**
 * abandon_mutexes: the thread `tid` of this session ended. Every mutex it
 * owns becomes free and abandoned; its pending waits are cancelled.
 * Returns how many mutexes it owned.
 */
export function abandonThreadMutexes(session: Session, pid: number, tid: number): number {
  let owned = 0;
  for (const [key, lock] of [...threadLocks(session)]) {
    if (lock.tid !== tid) continue;
    const s = readState(session, lock.handle);
    if (s.count > 0 && s.ownerPid === pid && s.ownerTid === tid) {
      writeState(session, lock.handle, { ...FREE_STATE, abandoned: true });
      session.unlock(lock.handle);
      owned++;
    }
    threadLocks(session).delete(key);
    session.close(lock.handle);
  }
  if (owned) notifyMutexesChanged();
  return owned;
}

/** A mutex taken by tryTakeMutex: whether it was abandoned, and how to give it back exactly as it was. */
export interface TakenMutex {
  abandoned: boolean;
  /** Restores the state before the take (count, owner, abandoned flag) and frees the lock if the take acquired it. */
  undo(): void;
}

/**
 * mutex_satisfied without waiting, for waits on several objects: the owner
 * re-acquires (count + 1), a free (or abandoned) mutex is taken; null when
 * another thread holds it. The take can be rolled back (a wait for all
 * objects that cannot have them all, a wait for any object that another
 * object satisfied first): undo() restores the previous count, owner and
 * abandoned flag, so a rolled-back take is invisible except for its timing.
 */
export function tryTakeMutex(caller: Caller, state: number, seq: number): TakenMutex | null {
  const current = readState(caller.session, state);
  if (ownedBy(current, caller)) {
    writeState(caller.session, state, { ...current, count: current.count + 1 });
    return {
      abandoned: false,
      undo: () => {
        const now = readState(caller.session, state);
        writeState(caller.session, state, { ...now, count: now.count - 1 });
      },
    };
  }
  const lock = lockHandle(caller.session, seq, caller.tid);
  const result = caller.session.tryLock(lock, WK_LOCK_EXCLUSIVE);
  if (result !== 0 && result !== -WK_EOWNERDEAD) {
    dropLockHandle(caller.session, seq, caller.tid);
    return null;
  }
  const taken = takeOwnership(caller, state, result);
  if (!taken.acquired) return null;
  return {
    abandoned: taken.abandoned,
    undo: () => {
      // The backend reported EOWNERDEAD only once: the abandonment stays in the data.
      writeState(caller.session, state, { ...FREE_STATE, abandoned: taken.abandoned });
      caller.session.unlock(lock);
      dropLockHandle(caller.session, seq, caller.tid);
      notifyMutexesChanged();
    },
  };
}
