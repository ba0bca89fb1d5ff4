// Waits on the replay's mutexes (docs/mutexes.md). A select that waits on
// exactly one mutex the replay holds is answered by selectOnMutex on the
// recording's clock and compared like a translated reply; when both sides
// answered STATUS_PENDING, the wake-up wineserver later wrote on the
// thread's wait pipe (a Wakeup record) is compared with ours (cookie and
// status). A select naming one of our mutexes among objects the replay does
// not hold cannot be answered by either side alone (live, dispatch refuses
// such a mix): it is listed as unanswerable and its outcome mirrored — when
// wineserver's result says our mutex was the object acquired, the replay
// acquires it for that thread at once, which must give the same
// abandoned-or-not.
//
// Order. A wake-up may be recorded before the reply to the request that
// caused it (wineserver writes the waiter's wait pipe, then the releaser's
// reply pipe, and the proxy reads them in its own order), so a recorded
// wake-up is compared only when the woken thread's next reply comes, when
// the thread ends, or at the end of the recording. And a thread or process
// dies for wineserver when it says it is exiting, which the proxy records
// (ThreadClose, ConnectionClose) only later: a thread's mutexes are
// abandoned at its own terminate_thread, a process's at its last
// terminate_process (the client exits right after both), other threads of a
// process at the terminate_process that kills them.

import type { RecordEntry, RecordingHeader } from '../../proxy/recording/format.ts';
import type { DecodedRequest, Protocol } from '../../requests/protocol.ts';
import { SELECT_SIGNAL_AND_WAIT, SELECT_WAIT, SELECT_WAIT_ALL } from '../../requests/kinds/select-op.ts';
import { handleOwner } from '../handles.ts';
import { abandonThreadMutexes } from '../sync/mutex-state.ts';
import { MUTANT_TYPE, selectOnMutex, STATUS_ABANDONED_WAIT_0, STATUS_PENDING, type WaitClock, type WakeUp } from '../sync/mutexes.ts';
import type { TranslatedReply, TranslationContext } from '../translator.ts';
import { callContext, ourHandle, type RecordedCall, type ReplayProcess } from './processes.ts';
import type { ReportBuilder } from './report.ts';

/** How long the replay waits for its own side of a wake-up wineserver delivered. */
const WAKEUP_GRACE_MS = 5000;
const EPOCH_1601_TO_1970_100NS = 116444736000000000n;

/**
 * The clocks as they were when a record was written: monotonic time on
 * Wine's raw clock (record time plus the raw-clock offset of the recording
 * machine), system time from the recording's start. `offset100ns` is asked
 * only when a relative deadline is met.
 */
export function recordingClock(header: RecordingHeader, offset100ns: () => bigint): (timeNs: bigint) => WaitClock {
  const startNs = BigInt(header.monotonicStartNs);
  const created = Date.parse(header.createdAt);
  const startSystem100ns = (Number.isNaN(created) ? 0n : BigInt(created) * 10000n) + EPOCH_1601_TO_1970_100NS;
  return (timeNs) => ({
    monotonic100ns: () => timeNs / 100n + offset100ns(),
    system100ns: () => startSystem100ns + (timeNs - startNs) / 100n,
  });
}

interface PendingWait {
  line: string;
  ctx: TranslationContext;
  /** The wake-up wineserver wrote, once recorded. */
  woken?: WakeUp;
  /** ours: a wait selectOnMutex left pending; mirror: an unanswerable select whose outcome comes later. */
  ours?: { wakeup: Promise<WakeUp | null>; cancel(): void };
  /** mirror: the select's handles, ours or 0 for those the replay does not hold. */
  handles?: number[];
}

export class MutexWaits {
  private readonly waits = new Map<number, PendingWait>();

  constructor(
    private readonly protocol: Protocol,
    private readonly report: ReportBuilder,
    private readonly clockAt: (timeNs: bigint) => WaitClock,
    /** Compares our reply to a select with the recorded one (as for translated types). */
    private readonly compare: (call: RecordedCall, reply: TranslatedReply) => Promise<void>,
  ) {}

  /** A recorded select: answered and compared when it waits on one of the replay's mutexes. */
  async select(call: RecordedCall): Promise<void> {
    const { request, recorded, proc, tid, record } = call;
    const data = request.body.data as { op?: number; handles?: number[]; wait?: number; signal?: number } | null;
    if (!data) return;
    const ctx = callContext(proc, tid);
    const mutexOf = (h: unknown): number => {
      const v = ourHandle(proc, h);
      return v && handleOwner(v) === 'proxy' && ctx.handles.get(v)?.type === MUTANT_TYPE ? v : 0;
    };
    const line = () => `${this.protocol.formatRequest(tid, request)} -> ${this.protocol.formatReply(tid, recorded)}`;
    if (data.op === SELECT_SIGNAL_AND_WAIT) {
      // Signalling one of our mutexes releases it: neither side can do that alone (refused live).
      if (mutexOf(data.wait) || mutexOf(data.signal)) this.report.report.unanswerable.push(line());
      return;
    }
    if ((data.op !== SELECT_WAIT && data.op !== SELECT_WAIT_ALL) || !Array.isArray(data.handles)) return;
    const mapped = data.handles.map(mutexOf);
    if (!mapped.some(Boolean)) return;
    if (mapped.length > 1) {
      this.report.report.unanswerable.push(line());
      const pending: PendingWait = { line: line(), ctx, handles: mapped };
      if (recorded.error === STATUS_PENDING) this.waits.set(record.threadKey, pending);
      else await this.mirrorOutcome(pending, recorded.error);
      return;
    }
    const mappedRequest: DecodedRequest = { ...request, body: { ...request.body, data: { ...data, handles: mapped } } };
    const outcome = await selectOnMutex(mappedRequest, ctx, this.clockAt(record.timeNs));
    if (outcome.kind === 'not-mine') {
      this.report.skip('select', `select: ${outcome.detail}`);
      return;
    }
    await this.compare(call, outcome.reply);
    if (outcome.kind === 'pending') {
      if (recorded.error === STATUS_PENDING) this.waits.set(record.threadKey, { line: this.protocol.formatRequest(tid, request), ctx, ours: outcome });
      else outcome.cancel();
    }
  }

  /** A wake-up wineserver wrote on a thread's wait pipe: compared when that thread goes on (settle). */
  wakeup(record: RecordEntry): void {
    const pending = this.waits.get(record.threadKey);
    if (pending && !pending.woken) pending.woken = { cookie: record.payload.readBigUInt64LE(0), signaled: record.payload.readInt32LE(8) };
  }

  /** Before the thread's next reply, at its end and at the end of the recording: compares a recorded wake-up with ours. */
  async settle(threadKey: number): Promise<void> {
    const pending = this.waits.get(threadKey);
    if (!pending?.woken) return;
    this.waits.delete(threadKey);
    const real = pending.woken;
    if (!pending.ours) {
      await this.mirrorOutcome(pending, real.signaled);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'none'>((resolve) => (timer = setTimeout(() => resolve('none'), WAKEUP_GRACE_MS)));
    const ours = await Promise.race([pending.ours.wakeup, late]);
    clearTimeout(timer);
    if (ours === 'none') pending.ours.cancel();
    const fmt = (w: WakeUp | null | 'none') => (w === null || w === 'none' ? String(w) : `cookie=${w.cookie.toString(16)} signaled=${w.signaled}`);
    const same = ours !== 'none' && ours !== null && ours.cookie === real.cookie && ours.signaled === real.signaled;
    this.report.counted(this.report.report.wakeups, same ? null : `${pending.line} (wake-up)\n  recorded: ${fmt(real)}\n  replayed: ${fmt(ours)}`);
  }

  /** A thread ended: its mutexes are abandoned (abandon_mutexes), a wait it left pending without a wake-up ends. */
  async threadEnded(proc: ReplayProcess | undefined, tid: number, threadKey: number): Promise<void> {
    await this.settle(threadKey);
    const pending = this.waits.get(threadKey);
    if (pending) {
      pending.ours?.cancel();
      this.waits.delete(threadKey);
    }
    if (proc && !proc.ctx.session.ended) abandonThreadMutexes(proc.ctx.session, proc.pid, tid);
  }

  /**
   * The reply to a terminate_thread or terminate_process: what wineserver
   * kills now, or what the client ends right after (the thread or process
   * that asked). Returns true when the calling process itself ends.
   */
  async terminated(call: RecordedCall): Promise<boolean> {
    const { request, recorded, proc, tid, record } = call;
    if (recorded.error !== 0 || !recorded.body.self) return false;
    if (request.name === 'terminate_thread') {
      await this.threadEnded(proc, tid, record.threadKey);
      return false;
    }
    if (request.body.handle) return true;
    // handle 0: every other thread of the calling process is killed now.
    for (const other of proc.threads) if (other !== tid && !proc.ctx.session.ended) abandonThreadMutexes(proc.ctx.session, proc.pid, other);
    return false;
  }

  /** The end of the recording: recorded wake-ups are compared; a wait of ours still pending was never woken by wineserver. */
  async finish(): Promise<void> {
    for (const threadKey of [...this.waits.keys()]) await this.settle(threadKey);
    for (const pending of this.waits.values()) {
      if (!pending.ours) continue;
      pending.ours.cancel();
      this.report.counted(this.report.report.wakeups, `${pending.line}: wineserver never woke this wait in the recording, the thread did not end`);
    }
    this.waits.clear();
  }

  /** An unanswerable select ended with `status`: when it acquired one of our mutexes, acquire it on our side too. */
  private async mirrorOutcome(pending: PendingWait, status: number): Promise<void> {
    const handles = pending.handles!;
    const index = status < STATUS_ABANDONED_WAIT_0 ? status : status - STATUS_ABANDONED_WAIT_0;
    if (status >= 0x100 || index >= handles.length || !handles[index]) return;
    const request: DecodedRequest = {
      code: this.protocol.codeOf('select'),
      name: 'select',
      replySize: 0,
      body: { flags: 2, cookie: 1n, timeout: 0n, size: 8, prev_apc: 0, result: { type: 0, raw: Buffer.alloc(40) }, data: { op: SELECT_WAIT, handles: [handles[index]] }, contexts: { contexts: [], fragment: Buffer.alloc(0) } },
    };
    const outcome = await selectOnMutex(request, pending.ctx, { monotonic100ns: () => 0n, system100ns: () => 0n });
    const got = outcome.kind === 'reply' ? outcome.reply.error : -1;
    const wanted = status >= STATUS_ABANDONED_WAIT_0 ? STATUS_ABANDONED_WAIT_0 : 0;
    this.report.counted(
      this.report.report.mirrored,
      got === wanted ? null : `${pending.line}\n  wineserver acquired index ${index} with ${status.toString(16)}; ours: ${got.toString(16)}`,
    );
  }
}
