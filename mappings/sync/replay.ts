// Replay verification of the mutex translators against a recording of real
// wineserver traffic (`winekernel run --record`, docs/fixture-format.md).
// Every create_mutex, open_mutex, release_mutex and query_mutex of the
// recording, of every process, is answered by the translators on a fresh
// in-process instance in the order wineserver answered them, each with the
// recorded thread as caller, and the trace line of our reply is compared
// with wineserver's. A select that waits on exactly one mutex the replay
// holds is answered by selectOnMutex: its immediate reply is compared, and
// when both sides answered STATUS_PENDING, the wake-up wineserver later
// wrote on the thread's wait pipe (a Wakeup record) is compared with ours.
//
// Around them, the replay keeps what the answers depend on:
//  * the namespace requests that yield root directories (open_directory,
//    create_directory, ...) run through their translators, uncompared;
//  * close_handle of a handle the replay holds, dup_handle within one
//    process, the end of a thread (ThreadClose: its mutexes are abandoned,
//    as wineserver's abandon_mutexes does) and of a process (its session
//    ends: held locks are abandoned);
//  * a select naming one of our mutexes together with handles the replay
//    does not hold (a wineserver event, a thread) cannot be answered by the
//    translators (dispatch refuses such a mix live); the replay lists it in
//    `unanswerable` and mirrors its outcome: when wineserver's result says
//    our mutex was the object acquired, the replay acquires it for that
//    thread (timeout 0), and that must give the same abandoned-or-not.
// Handle values are learnt per process from replies, as in
// mappings/namespace/replay.ts; requests naming a handle the replay does
// not hold are skipped and counted.

import { createInProcessBackend } from '../../backends/inprocess/index.ts';
import { WK_ATTACH_CREATE } from '../../backends/primitives.ts';
import { RecordKind, type RecordEntry } from '../../proxy/recording/format.ts';
import type { Recording } from '../../proxy/recording/reader.ts';
import type { DecodedRequest, Protocol } from '../../requests/protocol.ts';
import { handleOwner, ProxyHandleTable } from '../handles.ts';
import { duplicateNamespaceHandle } from '../namespace/proxy-handles.ts';
import { NAMESPACE_TRANSLATORS } from '../namespace/translators.ts';
import type { TranslatedEntry, TranslationContext } from '../translator.ts';
import { abandonThreadMutexes } from './mutex-state.ts';
import { clockAt, closeMutexHandle, MUTANT_TYPE, MUTEX_TRANSLATORS, selectOnMutex, STATUS_ABANDONED_WAIT_0, STATUS_PENDING, type WakeUp } from './mutexes.ts';

const COMPARED: Record<string, TranslatedEntry> = Object.fromEntries(MUTEX_TRANSLATORS.map((t) => [t.request, t as TranslatedEntry]));
const SUPPORTING: Record<string, TranslatedEntry> = Object.fromEntries(NAMESPACE_TRANSLATORS.map((t) => [t.request, t as TranslatedEntry]));

/** How long the replay waits for its own side of a wake-up wineserver delivered. */
const WAKEUP_GRACE_MS = 5000;

export interface MutexReplayReport {
  /** Mutex requests and selects answered and compared (immediate replies). */
  compared: number;
  /** Pending selects whose wake-up was compared. */
  wakeupsCompared: number;
  mismatches: string[];
  /** Requests skipped because they name a handle the replay does not hold, by request name. */
  skipped: Record<string, number>;
  /** Selects mixing our mutexes with handles we do not hold (not answerable), with their recorded outcome. */
  unanswerable: string[];
  /** Outcomes of unanswerable selects mirrored onto our side, and those that disagreed. */
  mirrored: number;
  mirrorMismatches: string[];
  /** Every compared line (wineserver's). */
  lines: string[];
}

interface ProcessState {
  ctx: TranslationContext;
  /** wineserver's handle value → ours */
  handles: Map<number, number>;
}

interface PendingWait {
  line: string;
  kind: 'ours' | 'mirror';
  ctx: TranslationContext;
  /** ours: our wake-up; mirror: the handles of the select (real values mapped, 0 for ones we lack). */
  wakeup?: Promise<WakeUp | null>;
  handles?: number[];
}

const DUPLICATE_CLOSE_SOURCE = 0x1;
const DUPLICATE_SAME_ACCESS = 0x2;
const OBJ_INHERIT = 0x2;

/** Replays `recording` through the mutex translators; see the header. */
export async function replayMutexes(recording: Recording, protocol: Protocol, kernid = 'mutex-replay'): Promise<MutexReplayReport> {
  const backend = createInProcessBackend();
  const processes = new Map<number, ProcessState>();
  const report: MutexReplayReport = { compared: 0, wakeupsCompared: 0, mismatches: [], skipped: {}, unanswerable: [], mirrored: 0, mirrorMismatches: [], lines: [] };
  const requests = new Map<number, RecordEntry>();
  const waits = new Map<number, PendingWait>();
  const skip = (name: string) => (report.skipped[name] = (report.skipped[name] ?? 0) + 1);

  const processOf = (pid: number): ProcessState => {
    let state = processes.get(pid);
    if (!state) {
      const session = backend.openSession({ pid });
      const attached = session.attach(kernid, WK_ATTACH_CREATE);
      if (attached < 0) throw new Error(`mutex replay: attaching to ${kernid} failed (${attached})`);
      state = { ctx: { session, pid, tid: 0, handles: new ProxyHandleTable(), protocol }, handles: new Map() };
      processes.set(pid, state);
    }
    return state;
  };

  for (const record of recording.records) {
    if (record.kind === RecordKind.ConnectionClose && record.pid) {
      const state = processes.get(record.pid);
      if (state) {
        state.ctx.session.end();
        processes.delete(record.pid);
      }
      continue;
    }
    if (record.kind === RecordKind.ThreadClose && record.pid && record.tid) {
      const state = processes.get(record.pid);
      if (state && !state.ctx.session.ended) abandonThreadMutexes(state.ctx.session, record.pid, record.tid);
      continue;
    }
    if (record.kind === RecordKind.Wakeup) {
      const pending = waits.get(record.threadKey);
      if (!pending) continue;
      waits.delete(record.threadKey);
      const real: WakeUp = { cookie: record.payload.readBigUInt64LE(0), signaled: record.payload.readInt32LE(8) };
      if (pending.kind === 'ours') {
        const ours = await Promise.race([pending.wakeup!, new Promise<'none'>((resolve) => setTimeout(() => resolve('none'), WAKEUP_GRACE_MS))]);
        report.wakeupsCompared++;
        const fmt = (w: WakeUp | null | 'none') => (w === null || w === 'none' ? String(w) : `cookie=${w.cookie.toString(16)} signaled=${w.signaled}`);
        if (ours === 'none' || ours === null || ours.cookie !== real.cookie || ours.signaled !== real.signaled) {
          report.mismatches.push(`${pending.line} (wake-up)\n  wineserver: ${fmt(real)}\n  translator: ${fmt(ours)}`);
        }
      } else await mirrorOutcome(pending, real.signaled);
      continue;
    }
    if (record.kind === RecordKind.Request) {
      requests.set(record.threadKey, record);
      continue;
    }
    if (record.kind !== RecordKind.Reply) continue;
    const requestRecord = requests.get(record.threadKey);
    requests.delete(record.threadKey);
    if (!requestRecord || requestRecord.code !== record.code || !requestRecord.pid) continue;
    const request = protocol.decodeRequest(requestRecord.payload);
    const real = protocol.decodeReply(record.code, record.payload);
    const proc = processOf(requestRecord.pid);
    const tid = requestRecord.tid;
    const ctx = { ...proc.ctx, tid };
    const ours = (value: unknown): number | undefined => {
      const v = (value as number) >>> 0;
      if (!v) return 0;
      if (handleOwner(v) === 'pseudo') return v;
      return proc.handles.get(v & ~3);
    };
    const learn = (realHandle: unknown, ourHandle: number) => {
      const r = (realHandle as number) >>> 0;
      if (r && ourHandle) proc.handles.set(r & ~3, ourHandle);
    };

    const translator = COMPARED[request.name] ?? SUPPORTING[request.name];
    if (translator) {
      const body = mapHandles(request.body as Record<string, unknown>, ours);
      if (!body) {
        skip(request.name);
        continue;
      }
      const reply = await translator.translate({ ...request, body }, ctx);
      const decoded = protocol.decodeReply(record.code, protocol.encodeReply({ code: record.code, error: reply.error, body: reply.body }));
      const replyBody = decoded.body as Record<string, unknown>;
      if (typeof replyBody.handle === 'number' && replyBody.handle) {
        if (real.body.handle) learn(real.body.handle, replyBody.handle);
        else closeMutexHandle(ctx, replyBody.handle);
        replyBody.handle = real.body.handle;
      }
      if (!COMPARED[request.name]) continue;
      const wanted = protocol.formatReply(tid, real);
      const got = protocol.formatReply(tid, decoded);
      report.compared++;
      report.lines.push(wanted);
      if (wanted !== got) report.mismatches.push(`${protocol.formatRequest(tid, request)}\n  wineserver: ${wanted}\n  translator: ${got}`);
      continue;
    }

    if (request.name === 'select') {
      const data = (request.body as { data?: { op?: number; handles?: number[] } }).data;
      if (!data || (data.op !== 1 && data.op !== 2) || !Array.isArray(data.handles)) continue;
      const mapped = data.handles.map((h) => {
        const v = ours(h);
        return v && handleOwner(v) === 'proxy' && ctx.handles.get(v)?.type === MUTANT_TYPE ? v : 0;
      });
      if (!mapped.some(Boolean)) continue;
      const line = `${protocol.formatRequest(tid, request)} -> ${protocol.formatReply(tid, real)}`;
      if (mapped.length === 1) {
        const mappedRequest: DecodedRequest = { ...request, body: { ...(request.body as object), data: { ...data, handles: mapped } } as never };
        const outcome = await selectOnMutex(mappedRequest, ctx, clockAt(requestRecord.timeNs));
        if (outcome.kind === 'not-mine') {
          skip('select');
          continue;
        }
        const wanted = protocol.formatReply(tid, real);
        const got = protocol.formatReply(tid, protocol.decodeReply(record.code, protocol.encodeReply({ code: record.code, error: outcome.reply.error, body: outcome.reply.body as never })));
        report.compared++;
        report.lines.push(wanted);
        if (wanted !== got) report.mismatches.push(`${protocol.formatRequest(tid, request)}\n  wineserver: ${wanted}\n  translator: ${got}`);
        if (outcome.kind === 'pending') {
          if (real.error === STATUS_PENDING) waits.set(record.threadKey, { line: protocol.formatRequest(tid, request), kind: 'ours', ctx, wakeup: outcome.wakeup });
          else outcome.cancel();
        }
        continue;
      }
      report.unanswerable.push(line);
      const pending: PendingWait = { line, kind: 'mirror', ctx, handles: mapped };
      if (real.error === STATUS_PENDING) waits.set(record.threadKey, pending);
      else await mirrorOutcome(pending, real.error);
      continue;
    }

    if (request.name === 'close_handle') {
      const value = ((request.body as { handle: number }).handle >>> 0) & ~3;
      const mapped = proc.handles.get(value);
      if (mapped !== undefined && real.error === 0) {
        closeMutexHandle(ctx, mapped);
        proc.handles.delete(value);
      }
    } else if (request.name === 'dup_handle' && real.error === 0) {
      const body = request.body as { src_process: number; src_handle: number; dst_process: number; access: number; attributes: number; options: number };
      const source = ours(body.src_handle);
      const samePid = handleOwner(body.src_process) === 'pseudo' && handleOwner(body.dst_process) === 'pseudo';
      if (source && handleOwner(source) === 'proxy' && samePid && real.body.handle) {
        const copy = duplicateNamespaceHandle(ctx, source, ctx, body.options & DUPLICATE_SAME_ACCESS ? null : body.access, body.attributes & OBJ_INHERIT);
        if (copy) learn(real.body.handle, copy);
      }
      if (source && handleOwner(source) === 'proxy' && body.options & DUPLICATE_CLOSE_SOURCE && handleOwner(body.src_process) === 'pseudo') {
        closeMutexHandle(ctx, source);
        proc.handles.delete((body.src_handle >>> 0) & ~3);
      }
    }
  }
  for (const pending of waits.values()) if (pending.kind === 'ours') report.mismatches.push(`${pending.line}: wineserver never woke this wait in the recording`);
  for (const state of processes.values()) state.ctx.session.end();
  return report;

  async function mirrorOutcome(pending: PendingWait, status: number): Promise<void> {
    const index = status < STATUS_ABANDONED_WAIT_0 ? status : status - STATUS_ABANDONED_WAIT_0;
    if (status >= 0x100 || index >= pending.handles!.length || !pending.handles![index]) return;
    const handle = pending.handles![index];
    report.mirrored++;
    const code = protocol.codeOf('select');
    const request = protocol.decodeRequest(
      protocol.encodeRequest({
        code,
        replySize: 0,
        body: { flags: 2, cookie: 1n, timeout: 0n, size: 8, prev_apc: 0, result: { type: 0, raw: Buffer.alloc(40) }, data: { op: 1, handles: [handle] }, contexts: { contexts: [], fragment: Buffer.alloc(0) } } as never,
      }),
    );
    const outcome = await selectOnMutex(request, pending.ctx);
    const got = outcome.kind === 'reply' ? outcome.reply.error : -1;
    const wanted = status >= STATUS_ABANDONED_WAIT_0 ? STATUS_ABANDONED_WAIT_0 : 0;
    if (got !== wanted) report.mirrorMismatches.push(`${pending.line}\n  wineserver acquired index ${index} with ${status.toString(16)}; ours: ${got.toString(16)}`);
  }
}

/** The request body with handles mapped to ours, or null when it names one the replay does not hold. */
function mapHandles(body: Record<string, unknown>, ours: (value: unknown) => number | undefined): Record<string, unknown> | null {
  const out = { ...body };
  for (const field of ['handle', 'rootdir'] as const) {
    if (field in out) {
      const mapped = ours(out[field]);
      if (mapped === undefined) return null;
      out[field] = mapped;
    }
  }
  const objattr = out.objattr as { rootdir?: number } | null | undefined;
  if (objattr && typeof objattr === 'object' && 'rootdir' in objattr && objattr.rootdir) {
    const mapped = ours(objattr.rootdir);
    if (mapped === undefined) return null;
    out.objattr = { ...objattr, rootdir: mapped };
  }
  return out;
}
