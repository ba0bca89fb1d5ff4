// Mutexes, translated live (docs/mutexes.md, "Live"): a mutex created
// through the proxy lives only in the proxy; its name is reserved in
// wineserver's namespace by a placeholder (mappings/sync/live-names.ts), and
// every wait naming a proxy mutex is answered here (mappings/sync/waits.ts):
// on proxy mutexes only with STATUS_PENDING and a later wake-up of the
// proxy's own on the thread's wait pipe, together with wineserver objects by
// polling both sides. A thread that ends abandons the mutexes it owns and
// its wait is cancelled; a process that ends leaves its locks to the
// backend, which abandons them.

import { PROXY_HANDLE_BOTTOM, PROXY_HANDLE_TOP } from '../../../mappings/handles.ts';
import type { Session } from '../../../backends/primitives.ts';
import { abandonThreadMutexes, notifyMutexesChanged } from '../../../mappings/sync/mutex-state.ts';
import { MUTANT_TYPE, queryMutexEntry, releaseMutexEntry } from '../../../mappings/sync/mutexes.ts';
import { closeMutexLive, createMutexLive, dupMutexHandleLive, duplicateMutexHandle, getSecurityObjectLive, openMutexLive, setSecurityObjectLive } from '../../../mappings/sync/live-names.ts';
import { cancelThreadWait, selectLive } from '../../../mappings/sync/waits.ts';
import type { TranslatedEntry } from '../../../mappings/translator.ts';
import type { LiveFamily } from './family.ts';

/** Where a select's operation starts in its frame: the 64-byte header, then one apc_result_t (40 bytes). */
const SELECT_OP_OFFSET = 64 + 40;

/**
 * Whether a select frame could name a proxy handle: any 32-bit word of its
 * operation in the proxy's range. Cheap, on the hot path of every wait; a
 * false positive (a keyed event's key) only costs a decode.
 */
export function selectMayNameProxyHandle(frame: Buffer): boolean {
  if (frame.length < 64) return false;
  const size = frame.readUInt32LE(32);
  const end = Math.min(frame.length, SELECT_OP_OFFSET + size) & ~3;
  for (let at = SELECT_OP_OFFSET + 4; at + 4 <= end; at += 4) {
    const base = frame.readUInt32LE(at) & ~3;
    if (base >= PROXY_HANDLE_BOTTOM && base <= PROXY_HANDLE_TOP) return true;
  }
  return false;
}

const selectEntry: TranslatedEntry = {
  request: 'select',
  family: 'sync objects',
  status: 'translated',
  domains: ['sync-objects'],
  primitives: ['lockobject', 'unlock', 'getdata', 'setdata', 'object_open', 'object_close'],
  liveRouting: 'mixed',
  async translate(request, ctx) {
    const answer = await selectLive(request, ctx);
    if (answer.kind === 'refuse') {
      ctx.log?.debug({ detail: answer.detail }, 'select refused');
      return { error: answer.status, body: {} };
    }
    if (answer.kind === 'pending') {
      const thread = ctx.server;
      void answer.wakeup.then((wakeup) => {
        if (wakeup && !thread?.deliverWakeup?.(wakeup.cookie, wakeup.signaled)) ctx.log?.debug({ tid: ctx.tid }, 'wake-up for a thread that is gone');
      });
    }
    return answer.reply;
  },
};

/** The thread `tid` of a process ended: cancel its wait, abandon what it owns (waking the next waiter). */
export function endMutexThread(session: Session, pid: number, tid: number): void {
  cancelThreadWait(session, tid);
  if (!session.ended) abandonThreadMutexes(session, pid, tid);
}

export const syncLive: LiveFamily = {
  name: 'mutexes',
  entries: [
    { ...createMutexLive, liveRouting: 'any' },
    { ...openMutexLive, liveRouting: 'any' },
    releaseMutexEntry,
    queryMutexEntry,
    selectEntry,
    dupMutexHandleLive,
    getSecurityObjectLive,
    setSecurityObjectLive,
  ],
  onClose: {
    [MUTANT_TYPE]: (ctx, _value, entry) => closeMutexLive(ctx, entry),
  },
  duplicate: { [MUTANT_TYPE]: duplicateMutexHandle },
  prefilters: { select: selectMayNameProxyHandle },
  onThreadEnd: (session, pid, tid) => endMutexThread(session, pid, tid),
  // The backend releases the process's locks as abandoned when its session ends: waiters on several mutexes look again.
  onProcessEnd: () => notifyMutexesChanged(),
};
