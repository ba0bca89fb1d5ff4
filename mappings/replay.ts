// Replay verification: the requests of a recording (`winekernel run --record`,
// docs/fixture-format.md) answered again by the translators of every
// translated family (registry, atoms, object namespace, object security,
// mutexes), each reply compared with the one the recording holds
// (docs/replay.md).
//
// Order: the requests are answered in the order their *replies* appear in
// the recording (the order in which wineserver, or the proxy, answered
// them), per process session, with the thread of each request as its
// caller. Forwarded requests are not run, except those whose effect on
// translated state must be mirrored: close_handle of a handle the replay
// holds, the forwarded requests that name objects in the namespace
// (replay/namespace.ts), waits on the replay's mutexes (replay/mutexes.ts),
// and the end of a thread (its mutexes are abandoned) or of a process (its
// session ends, its handles go).
//
// What differs by design is mapped or masked by one rule per family
// (replay/families.ts; handle values in replay/processes.ts); everything
// else of the reply trace line must be identical, and a reply with nothing
// mapped or masked must also be the recorded frame byte for byte.

import { WK_ATTACH_CREATE, type Backend } from '../backends/primitives.ts';
import { AUX_TRANSLATED, RecordKind, type RecordEntry } from '../proxy/recording/format.ts';
import type { Recording } from '../proxy/recording/reader.ts';
import type { DecodedRequest, Protocol } from '../requests/protocol.ts';
import { initRegistry, type HiveTexts } from './registry/init.ts';
import { registryFor } from './registry/translators.ts';
import { monotonicRawOffset100ns } from './sync/mutexes.ts';
import type { TranslatedEntry, TranslatedReply } from './translator.ts';
import { familyRules, replayFamily, REPLAYED_TRANSLATORS, type FamilyRules } from './replay/families.ts';
import { MutexWaits, recordingClock } from './replay/mutexes.ts';
import { NamespaceMirror } from './replay/namespace.ts';
import { callContext, closeOurHandle, learnHandle, mapRequestHandles, ReplayProcesses, replyHandleFields, type RecordedCall } from './replay/processes.ts';
import { ReplayError, ReportBuilder, type ReplayReport } from './replay/report.ts';

export { maskRunTimes, replayFamily, REPLAYED_TRANSLATORS } from './replay/families.ts';
export { decodeStartingState, encodeHiveSnapshot, findStartingHives, readPrefixHives, type StartingState } from './replay/hives.ts';
export { ReplayError, type ReplayReport, type TypeStats } from './replay/report.ts';
export { parseBytes, parseWide, splitArgs } from './replay/trace-text.ts';

export interface ReplayOptions {
  protocol: Protocol;
  backend: Backend;
  /** The registry the recording started from; without it registry requests are skipped (counted). */
  hives?: HiveTexts | null;
  /**
   * CLOCK_MONOTONIC_RAW minus CLOCK_MONOTONIC on the recording machine, in
   * 100 ns units (stored in the fixture's snapshot). Without it, this
   * machine's offset is measured when a relative wait deadline is met: right
   * only for a recording made since this machine's last boot.
   */
  monotonicRawOffset100ns?: bigint | null;
  /** The instance the replay attaches to (fresh by default). */
  kernid?: string;
  /** How many mismatch examples to keep per type. */
  maxExamples?: number;
  /** Keep the recorded line of every compared reply (`report.lines`). */
  keepLines?: boolean;
}

const SKIP_UNKNOWN_HANDLE = 'names a handle the replay does not hold (an object wineserver keeps)';
const SKIP_NO_REGISTRY = 'no starting registry for this recording';

let replayCounter = 0;

export async function replayRecording(recording: Recording, options: ReplayOptions): Promise<ReplayReport> {
  const started = performance.now();
  const { protocol, backend } = options;
  const kernid = options.kernid ?? `replay-${process.pid}-${++replayCounter}-${Date.now()}`;
  const out = new ReportBuilder(options.maxExamples ?? 3, options.keepLines ?? false);
  const report = out.report;

  // The session that owns the instance for the whole replay (as the proxy's own does).
  // The device records the opener's real pid; only the in-process backend takes a given one.
  const sessionFor = (pid: number) => (backend.kind === 'inprocess' ? backend.openSession({ pid }) : backend.openSession());
  const owner = sessionFor(0);
  const attached = owner.attach(kernid, WK_ATTACH_CREATE);
  if (attached < 0) throw new ReplayError('WK_REPLAY_ATTACH', `attaching to instance ${kernid} failed (${attached})`);
  const withRegistry = !!options.hives;
  if (options.hives) await initRegistry(registryFor(owner), options.hives);

  const processes = new ReplayProcesses((pid) => sessionFor(pid || 1), kernid, protocol);
  let serverStart = 0n;
  const rules = familyRules({ serverStart: () => serverStart, onMasked: () => report.masked.modif++ });
  const namespace = new NamespaceMirror(processes, protocol);
  const offset = () => (options.monotonicRawOffset100ns ??= monotonicRawOffset100ns());
  const compareSelect = (call: RecordedCall, reply: TranslatedReply) => compareReply(call, reply, 'select', {});
  const waits = new MutexWaits(protocol, out, recordingClock(recording.header, offset), compareSelect);
  const initFirstThread = protocol.codeOf('init_first_thread');

  /**
   * Encodes our reply as the client would read it, maps what differs by
   * design, and compares (or, when the family says the reply cannot be
   * compared, keeps the handles in step and counts the request as skipped).
   */
  async function compareReply(call: RecordedCall, reply: TranslatedReply, name: string, family: FamilyRules, body?: Record<string, unknown>): Promise<void> {
    const { request, recorded, proc, tid, record } = call;
    const frame = encodeReplyFor(protocol, request, reply.error, reply.body);
    const ours = protocol.decodeReply(request.code, frame);
    let substituted = false;
    let difference: string | undefined;
    let uncompared: string | undefined;
    if (family.after) {
      const after = await family.after({ request, recorded, ctx: callContext(proc, tid) }, body ?? request.body, ours);
      substituted = after.substituted;
      difference = after.difference;
      uncompared = after.uncompared;
    }
    for (const field of replyHandleFields(protocol.info(request.code))) {
      const mine = (ours.body[field] as number) >>> 0;
      const theirs = (recorded.body[field] as number) >>> 0;
      if (!mine) continue;
      if (!theirs) {
        // We hold a handle wineserver did not give: close it (the line shows the difference).
        closeOurHandle(proc.ctx, mine);
        continue;
      }
      learnHandle(proc, theirs, mine);
      ours.body[field] = theirs;
      substituted ||= mine !== theirs;
    }
    if (uncompared) return out.skip(name, uncompared);
    let expected = protocol.formatReply(tid, recorded);
    let actual = protocol.formatReply(tid, ours);
    const recordedLine = expected;
    if (family.mask) {
      const masked = family.mask(expected, actual);
      ({ expected, actual } = masked);
      substituted ||= masked.masked;
    }
    let mismatch: string | null = null;
    if (expected !== actual || difference) {
      mismatch = `${protocol.formatRequest(tid, request)}\n  recorded: ${expected}\n  replayed: ${actual}${difference ? ` (${difference})` : ''}`;
    } else if (!substituted) {
      const at = firstDifference(frame, record.payload);
      if (at >= 0) mismatch = `${protocol.formatRequest(tid, request)}\n  reply frames differ at byte ${at} (${frame.length} replayed, ${record.payload.length} recorded): ${expected}`;
    }
    out.compared(name, replayFamily(name), recordedLine, mismatch, !substituted);
  }

  async function replayTranslated(translator: TranslatedEntry, call: RecordedCall): Promise<void> {
    const { request, proc, tid } = call;
    const family = replayFamily(request.name);
    if (family === 'registry' && !withRegistry) return out.skip(request.name, SKIP_NO_REGISTRY);
    // Optional members of newer translators (live server calls): read defensively.
    const { needsServer, serverHandleFields } = translator as { needsServer?: boolean; serverHandleFields?: readonly string[] };
    if (needsServer) return out.skip(request.name, `${request.name}: its translation calls wineserver (live only)`);
    const mapped = mapRequestHandles(protocol.info(request.code), request.body, proc, serverHandleFields);
    if (!mapped) return out.skip(request.name, `${request.name} ${SKIP_UNKNOWN_HANDLE}`);
    const ctx = callContext(proc, tid);
    const rule = rules[family] ?? {};
    const prepared = rule.before ? rule.before({ request, recorded: call.recorded, ctx }, mapped) : { body: mapped };
    if ('skip' in prepared) return out.skip(request.name, prepared.skip);
    if (call.record.aux & AUX_TRANSLATED) report.recordedTranslated++;
    const reply = await translator.translate({ ...request, body: prepared.body }, ctx);
    await compareReply(call, reply, request.name, rule, prepared.body);
  }

  /** Request records not answered yet, per thread (a stack: the proxy's own calls may nest inside a translated request). */
  const pending = new Map<number, RecordEntry[]>();
  try {
    for (const record of recording.records) {
      switch (record.kind) {
        case RecordKind.ConnectionClose:
          if (record.pid) processes.end(record.pid);
          continue;
        case RecordKind.ThreadClose:
          if (record.tid) await waits.threadEnded(record.pid ? processes.find(record.pid) : undefined, record.tid, record.threadKey);
          continue;
        case RecordKind.Wakeup:
          waits.wakeup(record);
          continue;
        case RecordKind.Request: {
          const stack = pending.get(record.threadKey);
          if (stack) stack.push(record);
          else pending.set(record.threadKey, [record]);
          continue;
        }
        case RecordKind.Reply:
          // The thread goes on: a wait it was woken from is over.
          await waits.settle(record.threadKey);
          break;
        default:
          continue;
      }
      const requestRecord = takeRequest(pending.get(record.threadKey), record.code);
      if (!requestRecord?.pid) continue;

      if (record.code === initFirstThread) {
        const reply = protocol.decodeReply(record.code, record.payload);
        if (!serverStart && reply.error === 0) serverStart = BigInt(reply.body.server_start as bigint | number);
        continue;
      }
      const info = protocol.requests[record.code];
      if (!info) continue;
      const translator = REPLAYED_TRANSLATORS.get(info.name);
      const mirrored = NamespaceMirror.mirrors(info.name);
      const terminating = info.name === 'terminate_thread' || info.name === 'terminate_process';
      if (!translator && !mirrored && !terminating && info.name !== 'select') continue;
      // Selects, handle changes and exits concern only processes that already hold something of the replay's.
      const proc = translator || mirrored === 'names' ? processes.get(requestRecord.pid) : processes.find(requestRecord.pid);
      if (!proc) continue;
      proc.threads.add(requestRecord.tid);

      const request = protocol.decodeRequest(requestRecord.payload);
      const recorded = protocol.decodeReply(record.code, record.payload);
      const call: RecordedCall = { request, recorded, proc, tid: requestRecord.tid, record };
      if (translator) await replayTranslated(translator, call);
      else if (info.name === 'select') await waits.select(call);
      else if (terminating) {
        if (await waits.terminated(call)) processes.end(requestRecord.pid);
      } else {
        const outcome = await namespace.mirror(call);
        if (outcome !== undefined) out.counted(report.mirrored, outcome);
      }
    }
    await waits.finish();
  } finally {
    processes.endAll();
    owner.end();
  }
  report.elapsedMs = performance.now() - started;
  return report;
}

/** The latest request of the thread with this code, taken off its stack. */
function takeRequest(stack: RecordEntry[] | undefined, code: number): RecordEntry | undefined {
  if (!stack) return undefined;
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i].code === code) return stack.splice(i, 1)[0];
  return undefined;
}

/** The first byte at which two frames differ, or -1 when they are equal. */
function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/**
 * The reply frame for `request` as wineserver would send it: never more
 * variable data than the request's reply_size allows (wineserver treats a
 * larger reply as its own protocol error, so translators cut data already;
 * this is the proxy's guard).
 */
export function encodeReplyFor(protocol: Pick<Protocol, 'encodeReply'>, request: Pick<DecodedRequest, 'code' | 'replySize'>, error: number, body: Record<string, unknown>): Buffer {
  const frame = protocol.encodeReply({ code: request.code, error, body });
  const limit = 64 + request.replySize;
  if (frame.length <= limit) return frame;
  const cut = Buffer.from(frame.subarray(0, limit));
  cut.writeUInt32LE(request.replySize, 4);
  return cut;
}
