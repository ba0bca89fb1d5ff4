// Replay verification: the requests of a recording (`winekernel run --record`,
// docs/fixture-format.md) answered again by the translators, each reply
// compared with the one the recording holds (docs/replay.md).
//
// Order: the requests are answered in the order their *replies* appear in
// the recording (the order in which wineserver, or the proxy, answered
// them), per process session, with the thread of each request as its
// caller. Forwarded requests are not run, except the few whose effect on
// translated state must be mirrored: close_handle of a handle the replay
// holds, and the end of a process (its session ends, its handles go).
//
// What differs by design and is mapped or masked (each documented in
// docs/replay.md):
//  * handle values: wineserver mints small ones, the translators proxy ones;
//    per process, a successful create_key/open_key maps the recorded value
//    to ours, and our reply prints with the recorded value;
//  * atom numbers: the real global table also holds class atoms added by the
//    forwarded create_class, so numbers are offset; a bijection recorded →
//    ours is learnt from add_atom and checked on every other use; requests
//    about atoms the replay never saw (class atoms) are skipped and counted;
//  * last-write times (`modif`) of keys changed during the run: both sides'
//    clocks; masked when both are later than the server's start.
// Everything else of the reply trace line must be identical.
//
// The trace-text helpers at the end (parseWide, splitArgs, parseBytes) serve
// the tests that replay a wineserver `+server` trace instead of a recording.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { z } from 'zod';
import { WK_ATTACH_CREATE, type Backend, type Session } from '../backends/primitives.ts';
import { AUX_TRANSLATED, RecordKind, type RecordEntry } from '../proxy/recording/format.ts';
import type { Recording } from '../proxy/recording/reader.ts';
import type { DecodedReply, DecodedRequest, Protocol } from '../requests/protocol.ts';
import { ATOM_TRANSLATORS, getAtomInformation } from './atoms.ts';
import { handleOwner, ProxyHandleTable } from './handles.ts';
import { initRegistry, PREFIX_HIVES, type HiveTexts } from './registry/init.ts';
import { closeKeyHandle, REGISTRY_TRANSLATORS, registryFor } from './registry/translators.ts';
import type { TranslatedEntry, TranslationContext } from './translator.ts';

export const REPLAYED_TRANSLATORS: ReadonlyMap<string, TranslatedEntry> = new Map(
  [...REGISTRY_TRANSLATORS, ...ATOM_TRANSLATORS].map((t) => [t.request, t as TranslatedEntry]),
);
const REGISTRY_REQUESTS = new Set<string>(REGISTRY_TRANSLATORS.map((t) => t.request));
const ATOM_REQUESTS = new Set<string>(ATOM_TRANSLATORS.map((t) => t.request));

export class ReplayError extends Error {
  constructor(
    readonly code: 'WK_REPLAY_NO_HIVES' | 'WK_REPLAY_BAD_SNAPSHOT' | 'WK_REPLAY_ATTACH',
    message: string,
  ) {
    super(message);
    this.name = 'ReplayError';
  }
}

// ---------------------------------------------------------------------------
// The registry snapshot a fixture needs (docs/replay.md)

export const HIVE_SNAPSHOT_SUFFIX = '.hives.json.gz';
const hiveSnapshotSchema = z.object({
  format: z.literal('winekernel-hives'),
  version: z.literal(1),
  /** File name (system.reg, user.reg, userdef.reg) → its bytes, base64. */
  files: z.record(z.string(), z.string()),
});

/** `fixtures/recordings/x.wkrec.gz` → `fixtures/recordings/x.hives.json.gz`. */
export function hiveSnapshotPath(recordingPath: string): string {
  return recordingPath.replace(/\.wkrec(\.gz)?$/, '') + HIVE_SNAPSHOT_SUFFIX;
}

/** The prefix's hive files as a snapshot (what scripts/record-fixtures.sh stores beside a fixture). */
export function encodeHiveSnapshot(prefix: string): Buffer {
  const files: Record<string, string> = {};
  for (const hive of PREFIX_HIVES) {
    const file = path.join(prefix, hive.file);
    if (fs.existsSync(file)) files[hive.file] = fs.readFileSync(file).toString('base64');
  }
  return zlib.gzipSync(Buffer.from(JSON.stringify({ format: 'winekernel-hives', version: 1, files })), { level: 9 });
}

export function decodeHiveSnapshot(bytes: Buffer, where: string): HiveTexts {
  let json: unknown;
  try {
    json = JSON.parse(zlib.gunzipSync(bytes).toString('utf8'));
  } catch (error) {
    throw new ReplayError('WK_REPLAY_BAD_SNAPSHOT', `${where}: not a gzip'd JSON hive snapshot (${(error as Error).message})`);
  }
  const parsed = hiveSnapshotSchema.safeParse(json);
  if (!parsed.success) throw new ReplayError('WK_REPLAY_BAD_SNAPSHOT', `${where}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  const out: HiveTexts = {};
  for (const [file, b64] of Object.entries(parsed.data.files)) out[file] = Buffer.from(b64, 'base64');
  return out;
}

/**
 * The registry a recording started from: the snapshot beside it, else the
 * prefix its header names if its hive files are still there (they may have
 * changed since: the run itself saved into them), else null.
 */
export function findStartingHives(recordingPath: string, recording: Recording): { hives: HiveTexts; source: string } | null {
  const snapshot = hiveSnapshotPath(recordingPath);
  if (fs.existsSync(snapshot)) return { hives: decodeHiveSnapshot(fs.readFileSync(snapshot), snapshot), source: snapshot };
  const prefix = recording.header.prefix;
  if (prefix && fs.existsSync(path.join(prefix, 'system.reg'))) {
    const hives: HiveTexts = {};
    for (const hive of PREFIX_HIVES) {
      const file = path.join(prefix, hive.file);
      if (fs.existsSync(file)) hives[hive.file] = fs.readFileSync(file);
    }
    return { hives, source: `${prefix} (current files; may differ from when the recording started)` };
  }
  return null;
}

// ---------------------------------------------------------------------------
// Replay of a recording

export interface TypeStats {
  /** Requests of this type answered by the translators and compared. */
  replayed: number;
  matched: number;
  /** Not compared, with why (e.g. a handle the replay never saw opened). */
  skipped: number;
  /** The first mismatches, as `request` / `recorded` / `replayed` trace lines. */
  examples: string[];
}

export interface ReplayReport {
  types: Record<string, TypeStats>;
  replayed: number;
  matched: number;
  mismatched: number;
  skipped: Record<string, number>;
  /** Requests the proxy answered itself when recording (aux flag), among those replayed. */
  recordedTranslated: number;
  /** Atom numbers / key times that differed by design and were mapped or masked. */
  masked: { modif: number };
  elapsedMs: number;
}

export interface ReplayOptions {
  protocol: Protocol;
  backend: Backend;
  /** The registry the recording started from; without it registry requests are skipped (counted). */
  hives?: HiveTexts | null;
  /** The instance the replay attaches to (fresh by default). */
  kernid?: string;
  /** How many mismatch examples to keep per type. */
  maxExamples?: number;
}

interface ProcessState {
  ctx: TranslationContext & { tid: number };
  /** The recorded handle value → ours (registry keys). */
  handles: Map<number, number>;
}


let replayCounter = 0;

export async function replayRecording(recording: Recording, options: ReplayOptions): Promise<ReplayReport> {
  const started = performance.now();
  const { protocol, backend } = options;
  const kernid = options.kernid ?? `replay-${process.pid}-${++replayCounter}-${Date.now()}`;
  const maxExamples = options.maxExamples ?? 3;
  const report: ReplayReport = { types: {}, replayed: 0, matched: 0, mismatched: 0, skipped: {}, recordedTranslated: 0, masked: { modif: 0 }, elapsedMs: 0 };
  const typeStats = (name: string): TypeStats => (report.types[name] ??= { replayed: 0, matched: 0, skipped: 0, examples: [] });
  const skip = (name: string, why: string) => {
    typeStats(name).skipped++;
    report.skipped[why] = (report.skipped[why] ?? 0) + 1;
  };

  // The session that owns the instance for the whole replay (as the proxy's own does).
  // The device records the opener's real pid; only the in-process backend takes a given one.
  const sessionFor = (pid: number) => (backend.kind === 'inprocess' ? backend.openSession({ pid }) : backend.openSession());
  const owner = sessionFor(0);
  const attached = owner.attach(kernid, WK_ATTACH_CREATE);
  if (attached < 0) throw new ReplayError('WK_REPLAY_ATTACH', `attaching to instance ${kernid} failed (${attached})`);
  const withRegistry = !!options.hives;
  if (options.hives) await initRegistry(registryFor(owner), options.hives);

  const processes = new Map<number, ProcessState>();
  const processOf = (connection: number, pid: number): ProcessState => {
    let state = processes.get(connection);
    if (!state) {
      const session: Session = sessionFor(pid || 1);
      const rc = session.attach(kernid, 0);
      if (rc < 0) throw new ReplayError('WK_REPLAY_ATTACH', `attaching process ${pid} to ${kernid} failed (${rc})`);
      state = { ctx: { session, pid, tid: 0, handles: new ProxyHandleTable(), protocol }, handles: new Map() };
      processes.set(connection, state);
    }
    return state;
  };
  const endProcess = (connection: number) => {
    const state = processes.get(connection);
    if (!state) return;
    for (const ours of state.handles.values()) closeKeyHandle(state.ctx.session, state.ctx.handles, ours);
    state.ctx.session.end();
    processes.delete(connection);
  };

  const atoms = new AtomNumberMap();
  let serverStart = 0n;
  const pending = new Map<number, RecordEntry>();
  const initFirstThread = protocol.codeOf('init_first_thread');
  const closeHandle = protocol.codeOf('close_handle');

  try {
    for (const record of recording.records) {
      if (record.kind === RecordKind.ConnectionClose) {
        endProcess(record.connection);
        continue;
      }
      if (record.kind === RecordKind.Request) {
        pending.set(record.threadKey, record);
        continue;
      }
      if (record.kind !== RecordKind.Reply) continue;
      const requestRecord = pending.get(record.threadKey);
      pending.delete(record.threadKey);
      if (!requestRecord || requestRecord.code !== record.code) continue;

      if (record.code === initFirstThread) {
        const reply = protocol.decodeReply(record.code, record.payload);
        if (!serverStart && reply.error === 0) serverStart = BigInt(reply.body.server_start as bigint | number);
        continue;
      }
      if (record.code === closeHandle) {
        const state = processes.get(record.connection);
        const reply = protocol.decodeReply(record.code, record.payload);
        if (state && reply.error === 0) {
          const value = (protocol.decodeRequest(requestRecord.payload).body.handle as number) >>> 0;
          const ours = state.handles.get(value & ~3);
          if (ours !== undefined) {
            closeKeyHandle(state.ctx.session, state.ctx.handles, ours);
            state.handles.delete(value & ~3);
          }
        }
        continue;
      }
      const info = protocol.requests[record.code];
      const translator = info && REPLAYED_TRANSLATORS.get(info.name);
      if (!translator) continue;
      const request = protocol.decodeRequest(requestRecord.payload);
      const recorded = protocol.decodeReply(record.code, record.payload);
      if (REGISTRY_REQUESTS.has(request.name) && !withRegistry) {
        skip(request.name, 'no starting registry for this recording');
        continue;
      }
      const proc = processOf(record.connection, requestRecord.pid);
      proc.ctx.tid = requestRecord.tid;
      if (record.aux & AUX_TRANSLATED) report.recordedTranslated++;

      let outcome: { expected: string; actual: string } | string;
      if (REGISTRY_REQUESTS.has(request.name)) outcome = await replayRegistryCall(translator, request, recorded, proc, protocol, requestRecord.tid, serverStart, report);
      else if (ATOM_REQUESTS.has(request.name)) outcome = await replayAtomCall(translator, request, recorded, proc.ctx, protocol, requestRecord.tid, atoms);
      else continue;
      if (typeof outcome === 'string') {
        skip(request.name, outcome);
        continue;
      }
      const stats = typeStats(request.name);
      stats.replayed++;
      report.replayed++;
      if (outcome.expected === outcome.actual) {
        stats.matched++;
        report.matched++;
      } else {
        report.mismatched++;
        if (stats.examples.length < maxExamples) {
          stats.examples.push(`${protocol.formatRequest(requestRecord.tid, request)}\n  recorded: ${outcome.expected}\n  replayed: ${outcome.actual}`);
        }
      }
    }
  } finally {
    for (const connection of [...processes.keys()]) endProcess(connection);
    owner.end();
  }
  report.elapsedMs = performance.now() - started;
  return report;
}

/** Our reply, encoded and decoded back as the client would read it. */
async function translateAndDecode(translator: TranslatedEntry, request: DecodedRequest, ctx: TranslationContext, protocol: Protocol): Promise<DecodedReply> {
  const reply = await translator.translate(request, ctx);
  return protocol.decodeReply(request.code, encodeReplyFor(protocol, request, reply.error, reply.body));
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

const REGISTRY_HANDLE_FIELDS = ['hkey', 'parent'] as const;

async function replayRegistryCall(
  translator: TranslatedEntry,
  request: DecodedRequest,
  recorded: DecodedReply,
  proc: ProcessState,
  protocol: Protocol,
  tid: number,
  serverStart: bigint,
  report: ReplayReport,
): Promise<{ expected: string; actual: string } | string> {
  const ours = (value: unknown): number | undefined => {
    const v = (value as number) >>> 0;
    if (v === 0 || handleOwner(v) === 'pseudo') return v;
    return proc.handles.get(v & ~3);
  };
  const body: Record<string, unknown> = { ...request.body };
  for (const field of REGISTRY_HANDLE_FIELDS) {
    if (!(field in body)) continue;
    const mine = ours(body[field]);
    if (mine === undefined) return `${request.name}: handle not opened through the replay`;
    body[field] = mine;
  }
  const objattr = body.objattr as { rootdir: number } | null | undefined;
  if (objattr && typeof objattr === 'object') {
    const root = ours(objattr.rootdir);
    if (root === undefined) return `${request.name}: handle not opened through the replay`;
    body.objattr = { ...objattr, rootdir: root };
  }
  const decoded = await translateAndDecode(translator, { ...request, body }, proc.ctx, protocol);
  if (typeof decoded.body.hkey === 'number') {
    const theirs = (recorded.body.hkey as number) >>> 0;
    const mine = decoded.body.hkey >>> 0;
    if (mine && theirs) {
      proc.handles.set(theirs & ~3, mine);
      decoded.body.hkey = theirs;
    }
  }
  let expected = protocol.formatReply(tid, recorded);
  let actual = protocol.formatReply(tid, decoded);
  const masked = maskRunTimes(expected, actual, serverStart);
  if (masked.masked) report.masked.modif++;
  expected = masked.expected;
  actual = masked.actual;
  return { expected, actual };
}

/**
 * A key's last-write time set during the run comes from each side's clock:
 * when the two differ and both lie after the server's start, both print as
 * `modif=<run>`. The relative part wineserver prints after it is dropped.
 * Times loaded from the prefix's files must match exactly.
 */
export function maskRunTimes(expected: string, actual: string, serverStart: bigint): { expected: string; actual: string; masked: boolean } {
  const theirs = /modif=([0-9a-f]+)(?: \([^)]*\))?/.exec(expected);
  const ours = /modif=([0-9a-f]+)(?: \([^)]*\))?/.exec(actual);
  if (!theirs || !ours) return { expected, actual, masked: false };
  const t = BigInt('0x' + theirs[1]);
  const o = BigInt('0x' + ours[1]);
  const masked = t !== o && t >= serverStart && o >= serverStart;
  return {
    expected: expected.replace(theirs[0], masked ? 'modif=<run>' : `modif=${theirs[1]}`),
    actual: actual.replace(ours[0], masked ? 'modif=<run>' : `modif=${ours[1]}`),
    masked,
  };
}

/**
 * Recorded atom number ↔ ours. The real table also holds class atoms of the
 * forwarded create_class, so numbers are offset; the mapping is learnt from
 * add_atom and must be the same on every later use.
 */
export class AtomNumberMap {
  readonly realToOurs = new Map<number, number>();
  readonly oursToReal = new Map<number, number>();

  learn(real: number, ours: number): void {
    const previous = this.oursToReal.get(ours);
    if (previous !== undefined && previous !== real) this.realToOurs.delete(previous);
    this.realToOurs.set(real, ours);
    this.oursToReal.set(ours, real);
  }

  forget(real: number, ours: number): void {
    this.realToOurs.delete(real);
    this.oursToReal.delete(ours);
  }
}

const isStringAtom = (atom: number) => atom >= 0xc000 && atom <= 0xffff;

async function replayAtomCall(
  translator: TranslatedEntry,
  request: DecodedRequest,
  recorded: DecodedReply,
  ctx: TranslationContext,
  protocol: Protocol,
  tid: number,
  map: AtomNumberMap,
): Promise<{ expected: string; actual: string } | string> {
  const body: Record<string, unknown> = { ...request.body };
  let realAtom: number | undefined;
  if ('atom' in body) {
    realAtom = body.atom as number;
    const ours = map.realToOurs.get(realAtom);
    if (ours === undefined && isStringAtom(realAtom)) return `${request.name}: atom added by a forwarded request (class atom)`;
    body.atom = ours ?? realAtom;
  }
  const decoded = await translateAndDecode(translator, { ...request, body }, ctx, protocol);
  let mismatch: string | null = null;
  if (typeof decoded.body.atom === 'number' && isStringAtom(decoded.body.atom) && typeof recorded.body.atom === 'number') {
    const real = recorded.body.atom;
    const ours = decoded.body.atom;
    if (request.name === 'add_atom') map.learn(real, ours);
    else if (map.realToOurs.get(real) !== ours) mismatch = `atom ${real.toString(16)} recorded, ${ours.toString(16)} replayed (not the same atom)`;
    decoded.body.atom = real;
  }
  if (request.name === 'delete_atom' && realAtom !== undefined && decoded.error === 0) {
    // Once freed, wineserver may give the number to a class atom: forget it.
    const ours = body.atom as number;
    const probe = await getAtomInformation.translate({ code: 0, name: 'get_atom_information', replySize: 0, body: { atom: ours } }, ctx);
    if (probe.error !== 0) map.forget(realAtom, ours);
  }
  const expected = protocol.formatReply(tid, recorded);
  const actual = protocol.formatReply(tid, decoded);
  return { expected, actual: mismatch ? `${actual} (${mismatch})` : actual };
}

// ---------------------------------------------------------------------------
// Trace-text helpers (wineserver's +server output)

/** The inverse of wineserver's dump_strW for the escapes it produces. */
export function parseWide(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[++i];
    if (n === 'x') {
      let hex = '';
      while (hex.length < 4 && /[0-9a-fA-F]/.test(body[i + 1] ?? '')) hex += body[++i];
      out += String.fromCharCode(parseInt(hex, 16));
    } else if (/[0-7]/.test(n)) {
      let oct = n;
      while (oct.length < 3 && /[0-7]/.test(body[i + 1] ?? '')) oct += body[++i];
      out += String.fromCharCode(parseInt(oct, 8));
    } else {
      const simple: Record<string, string> = { a: '\x07', b: '\b', t: '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b' };
      out += simple[n] ?? n;
    }
  }
  return out;
}

/** Splits `a=1, b={x,y}, c=L"p, q"` at top-level commas (", " or ","). */
export function splitArgs(args: string): Map<string, string> {
  const out = new Map<string, string>();
  let depth = 0;
  let inString = false;
  let start = 0;
  const push = (end: number) => {
    const part = args.slice(start, end).trim();
    if (!part) return;
    const eq = part.indexOf('=');
    out.set(part.slice(0, eq), part.slice(eq + 1));
  };
  for (let i = 0; i < args.length; i++) {
    const c = args[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) {
      push(i);
      start = i + 1;
    }
  }
  push(args.length);
  return out;
}

/** `{01,02,...(total N)}` → the bytes (the part not printed as zeros) and how many were printed. */
export function parseBytes(v: string | undefined): { bytes: Buffer; printed: number } {
  const m = /^\{([0-9a-f,]*)(?:\.\.\.\(total (\d+)\))?\}$/.exec(v ?? '{}');
  if (!m) throw new Error(`not a byte dump: ${v}`);
  const shown = m[1] ? m[1].split(',').map((h) => parseInt(h, 16)) : [];
  const total = m[2] ? parseInt(m[2], 10) : shown.length;
  const bytes = Buffer.alloc(total);
  Buffer.from(shown).copy(bytes);
  return { bytes, printed: total };
}
