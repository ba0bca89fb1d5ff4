// Replay throughput on both backends (`npm run bench -- replay`): every
// committed fixture (fixtures/recordings/*.wkrec.gz) replayed through the
// translators (mappings/replay.ts, docs/replay.md) and timed, on
//  1. the in-process backend on the host;
//  2. the in-process backend inside the QEMU guest of vm/run.sh;
//  3. /dev/winekernel inside the same guest.
// Without KVM the guest is software-emulated (TCG) and every figure in it is
// inflated, so the device is compared with the in-process backend measured
// in the same guest in the same run (rounds interleaved); the host column is
// for reference.
//
// The replay opens its owner session, loads the fixture's registry snapshot
// through it, and opens the first per-process session only when the first
// recorded request is replayed. A backend wrapper notes when sessions open,
// so the snapshot load and the replay proper are timed apart without
// touching the engine. Before the timed rounds one profiling round (not
// timed; it also warms the JIT) counts every primitive call through wrapping
// sessions and times each: on the host's in-process backend and on the
// device (the counts are compared; the report says whether they agree). The guest
// skips the in-process profiling round to keep its run short: the device's
// cost over the in-process backend is the difference of their timed rounds.
//
// In the guest this file runs itself: `node --import tsx bench/replay.ts
// --guest [--rounds=N] [--fixtures=a,b]` prints one line
// `BENCH_REPLAY_JSON {...}` on stdout.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { createInProcessBackend } from '../backends/inprocess/index.ts';
import type { Backend, Credentials, Session } from '../backends/primitives.ts';
import { findStartingHives, replayRecording, type ReplayReport } from '../mappings/replay.ts';
import { readRecording, type Recording } from '../proxy/recording/reader.ts';
import { loadProtocol, type Protocol } from '../requests/protocol.ts';
import { ensureDeviceAddon, VM_RUN } from '../test/helpers/vm.ts';
import { machine, machineLine, median, writeReport, type Machine } from './harness.ts';

const ROOT = path.join(import.meta.dirname, '..');
const FIXTURES = path.join(ROOT, 'fixtures/recordings');
/** Timed rounds on the host (after the profiling round). */
const HOST_ROUNDS = Number(process.env.BENCH_REPLAY_ROUNDS ?? 5);
/** Timed rounds per backend in the guest: under TCG one replay of one fixture with its registry load takes 20-40 s. */
const GUEST_ROUNDS = Number(process.env.BENCH_REPLAY_GUEST_ROUNDS ?? 3);
const VM_TIMEOUT_S = Number(process.env.BENCH_REPLAY_VM_TIMEOUT ?? 3000);
const JSON_MARK = 'BENCH_REPLAY_JSON ';
const GUEST_KEEP = path.join(os.tmpdir(), 'bench-replay-guest.json');

/** Primitive calls (and the time inside them) of one phase of a profiled replay. */
interface PhaseProfile {
  calls: Record<string, number>;
  ns: Record<string, number>;
}

interface Profile {
  load: PhaseProfile;
  replay: PhaseProfile;
  /** Wall time of the profiled round's phases (inflated a little by the counting itself). */
  loadMs: number;
  replayMs: number;
}

interface FixtureResult {
  fixture: string;
  /** Replies compared per round (every round matched all of them). */
  replayed: number;
  rounds: number;
  /** Medians over the timed rounds. */
  replayPerSec: number;
  replayMs: number;
  loadMs: number;
  wholePerSec: number;
  /** Median ms of garbage collection during the replay proper. */
  gcReplayMs: number;
  /** Each timed round: [registry load ms, replay ms, GC ms during the replay]. */
  samples: [number, number, number][];
  /** The profiling round (columns that run one). */
  profile?: Profile;
}

interface ColumnResult {
  backend: 'inprocess' | 'device';
  rounds: number;
  fixtures: FixtureResult[];
  /** Median ns of the cheapest primitive path (an empty in-process call; the no-op ioctl through the addon). */
  floorNs?: number;
  /** What timing one call in the profiling round adds by itself (the wrapper and two clock reads), ns; subtracted in the report. */
  timingOverheadNs?: number;
}

interface GuestResult {
  uname: string;
  clocksource: string;
  /** The guest kernel's Meltdown status (page-table isolation makes every system call switch page tables). */
  meltdown?: string;
  inprocess: ColumnResult;
  device: ColumnResult;
  wallSeconds: number;
}

/** Notes when the replay opens sessions; with `profile`, sessions count and time every primitive call. */
class Probe {
  readonly opened: number[] = [];
  readonly phases: { load: PhaseProfile; replay: PhaseProfile } = { load: emptyPhase(), replay: emptyPhase() };

  constructor(private readonly profile: boolean) {}

  wrap(backend: Backend): Backend {
    return {
      kind: backend.kind,
      openSession: (credentials?: Partial<Credentials>) => {
        this.opened.push(performance.now());
        const session = backend.openSession(credentials);
        return this.profile ? this.counting(session) : session;
      },
    };
  }

  /** The owner session loads the registry; the replay proper starts when the first process session opens. */
  get phase(): PhaseProfile {
    return this.opened.length > 1 ? this.phases.replay : this.phases.load;
  }

  counting(session: Session): Session {
    const wrapped = new Map<PropertyKey, (...args: unknown[]) => unknown>();
    return new Proxy(session, {
      get: (target, prop) => {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        let fn = wrapped.get(prop);
        if (!fn) {
          const name = String(prop);
          const method = value as (...args: unknown[]) => unknown;
          fn = (...args: unknown[]) => {
            const phase = this.phase;
            const start = process.hrtime.bigint();
            // A lock that has to wait returns a Promise: only its synchronous part is timed.
            const result = method.apply(target, args);
            phase.ns[name] = (phase.ns[name] ?? 0) + Number(process.hrtime.bigint() - start);
            phase.calls[name] = (phase.calls[name] ?? 0) + 1;
            return result;
          };
          wrapped.set(prop, fn);
        }
        return fn;
      },
    });
  }
}

/**
 * What the profiling wrapper adds to the time of one call: in the guest a
 * clock read is a system call on an emulated clock, dearer than many
 * primitives, so the report subtracts it.
 */
function timingOverheadNs(): number {
  const probe = new Probe(true);
  const empty = probe.counting({ nop: () => 0 } as unknown as Session) as unknown as { nop(): number };
  const batches: number[] = [];
  for (let b = -1; b < 11; b++) {
    const before = probe.phase.ns.nop ?? 0;
    for (let i = 0; i < 1000; i++) empty.nop();
    if (b >= 0) batches.push(((probe.phase.ns.nop ?? 0) - before) / 1000);
  }
  return Math.round(median(batches));
}

function emptyPhase(): PhaseProfile {
  return { calls: {}, ns: {} };
}

function fixtureFiles(only?: string[]): string[] {
  const all = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.wkrec.gz')).sort();
  if (!only) return all;
  const picked = all.filter((f) => only.some((o) => f === o || f === `${o}.wkrec.gz`));
  if (picked.length !== only.length) throw new Error(`bench replay: unknown fixture among ${only.join(', ')} (have ${all.join(', ')})`);
  return picked;
}

interface Loaded {
  file: string;
  recording: Recording;
  start: ReturnType<typeof findStartingHives>;
}

function loadFixture(file: string): Loaded {
  const full = path.join(FIXTURES, file);
  const recording = readRecording(full);
  const start = findStartingHives(full, recording);
  if (!start) throw new Error(`bench replay: ${file} has no starting registry snapshot`);
  return { file, recording, start };
}

/** One replay: its report, and how its time split between loading the registry and replaying. */
/** Garbage collections of this process (start and duration, ms on performance.now()'s clock). */
const gcs: { startTime: number; duration: number }[] = [];
const gcObserver = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
gcObserver.observe({ entryTypes: ['gc'] });

/**
 * GC time between two instants. Node hands a collection to observers only
 * from the event loop, and a replay whose awaits all settle at once never
 * returns to it: let the loop turn before reading.
 */
async function gcMsBetween(from: number, to: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 20));
  gcs.push(...gcObserver.takeRecords());
  const ms = sum(gcs.filter((g) => g.startTime >= from && g.startTime < to).map((g) => g.duration));
  gcs.splice(0, gcs.length);
  return ms;
}

async function replayOnce(fixture: Loaded, protocol: Protocol, backend: Backend, profile: boolean, label: string) {
  const probe = new Probe(profile);
  const report = await replayRecording(fixture.recording, {
    protocol,
    backend: probe.wrap(backend),
    hives: fixture.start!.hives,
    monotonicRawOffset100ns: fixture.start!.monotonicRawOffset100ns,
  });
  checkMatched(report, `${fixture.file} (${label})`);
  if (probe.opened.length < 2) throw new Error(`bench replay: ${fixture.file} (${label}) replayed without opening a process session`);
  const loadMs = probe.opened[1] - probe.opened[0];
  const gcMs = await gcMsBetween(probe.opened[1], probe.opened[0] + report.elapsedMs);
  return { report, loadMs, replayMs: report.elapsedMs - loadMs, gcMs, phases: probe.phases };
}

/** Every round must compare replies and match all of them: a benchmark of a wrong replay means nothing. */
function checkMatched(report: ReplayReport, what: string): void {
  if (report.replayed === 0 || report.mismatched !== 0 || report.matched !== report.replayed) {
    const examples = Object.values(report.types).flatMap((t) => t.examples).slice(0, 3).join('\n');
    throw new Error(`bench replay: ${what}: ${report.matched}/${report.replayed} replies matched, ${report.mismatched} mismatched\n${examples}`);
  }
}

interface Contender {
  make: () => Backend;
  /** Run a profiling round before the timed ones. */
  profile: boolean;
}

/**
 * Replays every fixture on each backend: the profiling round where asked,
 * then `rounds` timed rounds, the backends taking turns within each round
 * (in alternating order) so they see the same conditions.
 */
async function measure(contenders: Record<string, Contender>, files: string[], rounds: number): Promise<Record<string, ColumnResult>> {
  const protocol = loadProtocol('wine-8.0');
  const names = Object.keys(contenders);
  const out: Record<string, ColumnResult> = {};
  for (const name of names) out[name] = { backend: contenders[name].make().kind, rounds, fixtures: [] };
  for (const file of files) {
    const fixture = loadFixture(file);
    const partial: Record<string, { profile?: Profile; samples: [number, number, number][]; replayed: number }> = {};
    for (const name of names) partial[name] = { samples: [], replayed: 0 };
    const replay = async (name: string, profiling: boolean, label: string) => {
      const r = await replayOnce(fixture, protocol, contenders[name].make(), profiling, `${name}, ${label}`);
      const p = partial[name];
      if (p.replayed && p.replayed !== r.report.replayed) throw new Error(`bench replay: ${file} (${name}) replayed ${r.report.replayed} replies, ${p.replayed} before`);
      p.replayed = r.report.replayed;
      if (profiling) p.profile = { ...r.phases, loadMs: r.loadMs, replayMs: r.replayMs };
      else p.samples.push([r.loadMs, r.replayMs, r.gcMs]);
      console.error(`bench replay: ${file} ${name} ${label}: ${r.report.replayed} replies, load ${r.loadMs.toFixed(0)} ms, replay ${r.replayMs.toFixed(0)} ms (GC ${r.gcMs.toFixed(0)} ms)`);
    };
    for (const name of names) if (contenders[name].profile) await replay(name, true, 'profiling round');
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 ? [...names].reverse() : names;
      for (const name of order) await replay(name, false, `round ${round + 1}/${rounds}`);
    }
    for (const [name, p] of Object.entries(partial)) {
      out[name].fixtures.push({
        fixture: file,
        replayed: p.replayed,
        rounds,
        replayPerSec: Math.round(median(p.samples.map(([, ms]) => p.replayed / (ms / 1000)))),
        replayMs: Math.round(median(p.samples.map(([, ms]) => ms))),
        loadMs: Math.round(median(p.samples.map(([ms]) => ms))),
        wholePerSec: Math.round(median(p.samples.map(([load, ms]) => p.replayed / ((load + ms) / 1000)))),
        gcReplayMs: Math.round(median(p.samples.map(([, , gc]) => gc))),
        samples: p.samples.map(([load, ms, gc]) => [Math.round(load), Math.round(ms), Math.round(gc)]),
        profile: p.profile,
      });
    }
  }
  return out;
}

/** Median ns of the cheapest call into a backend: the floor every primitive call pays. */
async function floorNs(kind: 'inprocess' | 'device'): Promise<number> {
  const rounds: number[] = [];
  const time = (call: () => void, n: number) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) call();
    return Number(process.hrtime.bigint() - start) / n;
  };
  if (kind === 'device') {
    const { createDeviceBackend } = await import('../backends/device/index.ts');
    const { loadDeviceAddon } = await import('../backends/device/addon.ts');
    const { addon } = loadDeviceAddon();
    const session = createDeviceBackend().openSession();
    const slot = (session as unknown as { nativeSlot: number }).nativeSlot;
    time(() => addon.nop(slot), 1000);
    for (let r = 0; r < 21; r++) rounds.push(time(() => addon.nop(slot), 1000));
    session.end();
  } else {
    const session = createInProcessBackend().openSession();
    time(() => session.size(1), 10_000);
    for (let r = 0; r < 21; r++) rounds.push(time(() => session.size(1), 10_000));
    session.end();
  }
  return Math.round(median(rounds));
}

async function guestMain(): Promise<void> {
  const started = performance.now();
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const rounds = Number(arg('rounds') ?? GUEST_ROUNDS);
  const files = fixtureFiles(arg('fixtures')?.split(','));
  const { createDeviceBackend } = await import('../backends/device/index.ts');
  const device = createDeviceBackend();
  const columns = await measure(
    {
      inprocess: { make: () => createInProcessBackend(), profile: false },
      device: { make: () => device, profile: true },
    },
    files,
    rounds,
  );
  columns.inprocess.floorNs = await floorNs('inprocess');
  columns.device.floorNs = await floorNs('device');
  columns.device.timingOverheadNs = timingOverheadNs();
  const result: GuestResult = {
    uname: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
    clocksource: fs.readFileSync('/sys/devices/system/clocksource/clocksource0/current_clocksource', 'utf8').trim(),
    meltdown: fs.readFileSync('/sys/devices/system/cpu/vulnerabilities/meltdown', 'utf8').trim(),
    inprocess: columns.inprocess,
    device: columns.device,
    wallSeconds: Math.round((performance.now() - started) / 1000),
  };
  process.stdout.write(`${JSON_MARK}${JSON.stringify(result)}\n`);
}

/** Runs the guest half in the VM (waiting out a busy machine: vm/run.sh boots its own guest). */
function runGuest(rounds: number): Promise<GuestResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [VM_RUN, '--timeout', String(VM_TIMEOUT_S), '--', process.execPath, '--import', 'tsx', 'bench/replay.ts', '--guest', `--rounds=${rounds}`], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let tail = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      tail = (tail + chunk.toString()).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (status) => {
      const line = stdout.split(/\r?\n/).find((l) => l.startsWith(JSON_MARK));
      if (status !== 0 || !line) return reject(new Error(`bench replay: the guest run ended with status ${status}${line ? '' : ' and no result'}:\n${stdout.slice(-2000)}\n${tail}`));
      resolve(JSON.parse(line.slice(JSON_MARK.length)) as GuestResult);
    });
  });
}

// ---------------------------------------------------------------------------
// The report

const fmt = (n: number) => Math.round(n).toLocaleString('en');
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const pct = (x: number) => `${Math.round(x * 100)} %`;

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** The replay phase of a profiling round: primitive calls per compared reply and time inside them, the timing's own cost taken off. */
function profiled(f: FixtureResult, overheadNs: number) {
  const p = f.profile;
  if (!p) throw new Error(`bench replay: ${f.fixture} has no profiling round`);
  const calls = sum(Object.values(p.replay.calls));
  const ns = Math.max(0, sum(Object.values(p.replay.ns)) - calls * overheadNs);
  return { calls, perRequest: calls / f.replayed, usInPrimitives: ns / 1000 / f.replayed, share: ns / 1e6 / p.replayMs };
}

/** The calls of every fixture's replay phase by primitive: per compared reply, and µs per call with the timing's cost taken off. */
function callMix(column: ColumnResult): Map<string, { perRequest: number; usPerCall: number }> {
  const calls: Record<string, number> = {};
  const ns: Record<string, number> = {};
  for (const f of column.fixtures) {
    for (const [m, n] of Object.entries(f.profile!.replay.calls)) calls[m] = (calls[m] ?? 0) + n;
    for (const [m, n] of Object.entries(f.profile!.replay.ns)) ns[m] = (ns[m] ?? 0) + n;
  }
  const replayed = sum(column.fixtures.map((f) => f.replayed));
  const overhead = column.timingOverheadNs ?? 0;
  return new Map(
    Object.entries(calls)
      .sort((a, b) => b[1] - a[1])
      .map(([method, n]) => [method, { perRequest: n / replayed, usPerCall: Math.max(0, ns[method] / n - overhead) / 1000 }]),
  );
}

function fixtureTable(host: FixtureResult, gIn: FixtureResult, gDev: FixtureResult, hostOverhead: number, devOverhead: number): string[] {
  const row = (what: string, h: string, gi: string, gd: string, r: string) => `| ${what} | ${h} | ${gi} | ${gd} | ${r} |`;
  const pHost = profiled(host, hostOverhead);
  const pDev = profiled(gDev, devOverhead);
  return [
    `### ${host.fixture} (${fmt(host.replayed)} replies compared)`,
    '',
    '| | host in-process | guest in-process | guest device | device / in-process (guest) |',
    '| --- | ---: | ---: | ---: | ---: |',
    row('replay, requests/s', fmt(host.replayPerSec), fmt(gIn.replayPerSec), fmt(gDev.replayPerSec), ratio(gDev.replayPerSec, gIn.replayPerSec)),
    row('replay, ms', fmt(host.replayMs), fmt(gIn.replayMs), fmt(gDev.replayMs), ratio(gDev.replayMs, gIn.replayMs)),
    row('GC during the replay, ms', fmt(host.gcReplayMs), fmt(gIn.gcReplayMs), fmt(gDev.gcReplayMs), ratio(gDev.gcReplayMs, gIn.gcReplayMs)),
    row('registry snapshot load, ms', fmt(host.loadMs), fmt(gIn.loadMs), fmt(gDev.loadMs), ratio(gDev.loadMs, gIn.loadMs)),
    row('whole replay incl. load, requests/s', fmt(host.wholePerSec), fmt(gIn.wholePerSec), fmt(gDev.wholePerSec), ratio(gDev.wholePerSec, gIn.wholePerSec)),
    row('primitive calls per request (profiling round)', pHost.perRequest.toFixed(2), '', pDev.perRequest.toFixed(2), ''),
    row('µs inside primitives per request', pHost.usInPrimitives.toFixed(2), '', pDev.usInPrimitives.toFixed(1), ''),
    row('share of the replay inside primitives', pct(pHost.share), '', pct(pDev.share), ''),
    '',
  ];
}

/** Time inside the primitives during the replay phase of the profiling rounds, all fixtures pooled, the timing's own cost taken off. */
function pooledPrimitives(column: ColumnResult) {
  let ns = 0;
  let replayMs = 0;
  for (const f of column.fixtures) {
    const calls = sum(Object.values(f.profile!.replay.calls));
    ns += Math.max(0, sum(Object.values(f.profile!.replay.ns)) - calls * (column.timingOverheadNs ?? 0));
    replayMs += f.profile!.replayMs;
  }
  return { usPerRequest: ns / 1000 / sum(column.fixtures.map((f) => f.replayed)), share: ns / 1e6 / replayMs };
}

/** Device rounds' cost over the in-process rounds of the same guest, per request and per primitive call, pooled over every fixture. */
function deviceExtra(gIn: ColumnResult, gDev: ColumnResult) {
  const extraMs = sum(gDev.fixtures.map((f) => f.replayMs)) - sum(gIn.fixtures.map((f) => f.replayMs));
  const requests = sum(gDev.fixtures.map((f) => f.replayed));
  const calls = sum(gDev.fixtures.map((f) => profiled(f, 0).calls));
  return { perRequestUs: (extraMs * 1000) / requests, perCallUs: (extraMs * 1000) / calls, pooledRatio: sum(gDev.fixtures.map((f) => f.replayMs)) / sum(gIn.fixtures.map((f) => f.replayMs)) };
}

function markdown(m: Machine, host: ColumnResult, guest: GuestResult, sameCalls: boolean): string {
  const gIn = guest.inprocess;
  const gDev = guest.device;
  const hostOverhead = host.timingOverheadNs ?? 0;
  const devOverhead = gDev.timingOverheadNs ?? 0;
  const mix = callMix(gDev);
  const hostMix = callMix(host);
  const mid = (c: ColumnResult, pick: (f: FixtureResult) => number) => median(c.fixtures.map(pick));
  const rate = (c: ColumnResult) => mid(c, (f) => f.replayPerSec);
  const devProfile = gDev.fixtures.map((f) => profiled(f, devOverhead));
  const hostProfile = host.fixtures.map((f) => profiled(f, hostOverhead));
  const extra = deviceExtra(gIn, gDev);
  const loadCalls = median(gDev.fixtures.map((f) => sum(Object.values(f.profile!.load.calls))));
  const slower = extra.pooledRatio > 1;
  const perFixture = gDev.fixtures.map((f, i) => f.replayMs / gIn.fixtures[i].replayMs);
  const devPrim = pooledPrimitives(gDev);
  const hostPrim = pooledPrimitives(host);
  const callVsFloor = [...mix.values()].slice(0, 6).map((r) => (r.usPerCall * 1000) / (gDev.floorNs ?? NaN));
  const pti = /PTI/.test(guest.meltdown ?? '') ? guest.meltdown : null;
  const gcShare = (c: ColumnResult) => sum(c.fixtures.map((f) => f.gcReplayMs)) / sum(c.fixtures.map((f) => f.replayMs));
  const gcIn = gcShare(gIn);
  const gcDev = gcShare(gDev);
  const loadOf = (method: string) => median(gDev.fixtures.map((f) => f.profile!.load.calls[method] ?? 0));
  return [
    '# Replay throughput on both backends',
    '',
    machineLine(m),
    '',
    `Every committed fixture (\`fixtures/recordings/*.wkrec.gz\`) replayed through the translators, each reply compared with the recorded one (\`replayRecording\`, docs/replay.md): on the in-process backend on the host, and on the in-process backend and \`/dev/winekernel\` inside the QEMU guest of \`vm/run.sh\` (kernel ${guest.uname}, clocksource ${guest.clocksource}). KVM is not usable on this machine, so the guest is software-emulated (TCG) and every figure in it is inflated: compare the device with the in-process backend of the same guest (the two take turns within each round of one run); the host column is for reference. Every round of every column matched all compared replies (the bench fails otherwise), and all three columns compared the same number of replies per fixture.`,
    '',
    `"Replay" is the replay proper: from the first per-process session to the end; the registry snapshot is loaded before it through the replay's owner session and is timed apart. Medians over ${host.rounds} timed rounds on the host and ${gDev.rounds} in the guest (fewer there: one replay of one fixture with its registry load takes about ${Math.round(mid(gDev, (f) => f.loadMs + f.replayMs) / 1000)} s on the device under TCG, and the guest part is kept under half an hour; it took ${Math.round(guest.wallSeconds / 60)} minutes). Before the timed rounds, one profiling round counts and times every primitive call through wrapping sessions (host in-process and guest device; the guest skips an in-process one for time).`,
    '',
    '## Summary (replay proper, requests per second)',
    '',
    '| fixture | replies | host in-process | guest in-process | guest device | device / in-process (guest) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...host.fixtures.map((f, i) => `| ${f.fixture} | ${fmt(f.replayed)} | ${fmt(f.replayPerSec)} | ${fmt(gIn.fixtures[i].replayPerSec)} | ${fmt(gDev.fixtures[i].replayPerSec)} | ${ratio(gDev.fixtures[i].replayPerSec, gIn.fixtures[i].replayPerSec)} |`),
    `| median | | ${fmt(rate(host))} | ${fmt(rate(gIn))} | ${fmt(rate(gDev))} | ${ratio(rate(gDev), rate(gIn))} |`,
    '',
    '## Per fixture',
    '',
    `Rates and times are medians of the timed rounds (every round's load and replay times are in replay.json). The profiling rows are the replay phase of the profiling round: primitive calls (every \`Session\` method the translators and the replay engine call, including those of the mirrored forwarded requests and of closes) per compared reply, and the time inside them as the caller sees it (on the device: the N-API call and its ioctl), less what timing a call costs by itself (an empty call through the same wrapper: ${hostOverhead} ns on the host, ${fmt(devOverhead)} ns in the guest, where reading the clock is dear).`,
    '',
    ...host.fixtures.flatMap((f, i) => fixtureTable(f, gIn.fixtures[i], gDev.fixtures[i], hostOverhead, devOverhead)),
    '## What dominates',
    '',
    `What carries over from this guest to real hardware is how many primitive calls a request makes; what each costs here is TCG's. Floors, measured in the same runs: an empty in-process primitive call (\`size\` of a bad handle) ${host.floorNs} ns on the host, ${gIn.floorNs} ns in the guest; the device's no-op ioctl through the addon ${fmt(gDev.floorNs ?? NaN)} ns in the guest.`,
    '',
    `* **Per request, ${median(devProfile.map((p) => p.perRequest)).toFixed(1)} primitive calls** (median over fixtures; ${fmt(median(hostProfile.map((p) => p.calls)))} calls per replay on the host; ${sameCalls ? 'the same counts, primitive by primitive, on the device' : 'the counts differ a little on the device, see replay.json'}); every call but \`end\` is one ioctl on the device. Over all fixtures, per compared reply (in brackets µs per call on the guest device / on the host in-process backend): ${[...mix.entries()]
      .slice(0, 10)
      .map(([method, r]) => `\`${method}\` ${r.perRequest.toFixed(2)} (${r.usPerCall.toFixed(1)} / ${(hostMix.get(method)?.usPerCall ?? NaN).toFixed(2)})`)
      .join(', ')}.`,
    `* **The device ${slower ? 'is slower' : 'is not slower'} than the in-process backend in the same guest**: its replay takes ${ratio(extra.pooledRatio, 1)} as long (all fixtures pooled; per fixture ${ratio(Math.min(...perFixture), 1)} to ${ratio(Math.max(...perFixture), 1)}, ${gDev.rounds} rounds on a shared machine), ${extra.perRequestUs >= 0 ? `${extra.perRequestUs.toFixed(0)} µs more per request, ${extra.perCallUs.toFixed(1)} µs more per primitive call` : `${(-extra.perRequestUs).toFixed(0)} µs less per request`}. The profiling round puts the device's time inside the primitives at ${devPrim.usPerRequest.toFixed(0)} µs per request, ${pct(devPrim.share)} of its replay; the in-process backend's in the guest is then about ${(devPrim.usPerRequest - extra.perRequestUs).toFixed(0)} µs (not profiled in the guest: the device's figure less the difference), against ${hostPrim.usPerRequest.toFixed(1)} µs (${pct(hostPrim.share)} of the replay) on the host.`,
    `* **A device call costs ${Math.round(Math.min(...callVsFloor))}–${Math.round(Math.max(...callVsFloor))}× the no-op ioctl** (the ${Math.min(6, mix.size)} commonest primitives), and more than the same calls in a tight loop (primitives.md): between stretches of JavaScript each ioctl meets cold caches${pti ? ` and, the guest kernel isolating page tables (${pti}), a page-table switch on entry and exit, which empties TCG's software TLB` : ''} (a reading of these figures, not measured separately).`,
    `* **The rest of the replay is JavaScript**, ${pct(1 - devPrim.share)} of the device's and more of the in-process backend's: decoding each recorded request and reply, the translators, encoding, formatting both trace lines and comparing them, the same work on both backends. It is why the guest's in-process column is ${ratio(rate(host), rate(gIn))} slower than the host's: TCG translates every guest instruction and emulates every memory access through a software TLB, and V8's generated code pays that like any other.`,
    `* **Garbage collection is ${gcIn < 0.1 && gcDev < 0.1 ? 'a small part on both backends' : 'a visible part'}**: during the replay proper (all fixtures pooled) ${pct(gcIn)} of the in-process backend's replay and ${pct(gcDev)} of the device's in the guest, ${pct(gcShare(host))} on the host.`,
    `* **Loading the registry snapshot** (${fmt(loadCalls)} primitive calls per fixture, median, ${fmt(loadOf('create'))} of them \`create\` and ${fmt(loadOf('setdata'))} \`setdata\`: the prefix's hives stored as objects) takes ${ratio(mid(gDev, (f) => f.loadMs), mid(gIn, (f) => f.loadMs))} as long on the device as in process in the guest; it is reported apart and is not in the replay rate.`,
    '',
    'Regenerate with `npm run bench -- replay` (`BENCH_REPLAY_ROUNDS` and `BENCH_REPLAY_GUEST_ROUNDS` set the timed rounds; the guest half alone: `vm/run.sh -- node --import tsx bench/replay.ts --guest --rounds=1 --fixtures=objdir`).',
    '',
  ].join('\n');
}

export async function run(): Promise<{ path: string; result: unknown }> {
  const m: Machine = machine();
  const files = fixtureFiles();
  const host = (await measure({ inprocess: { make: () => createInProcessBackend(), profile: true } }, files, HOST_ROUNDS)).inprocess;
  host.floorNs = await floorNs('inprocess');
  host.timingOverheadNs = timingOverheadNs();
  execFileSync('bash', ['vm/setup.sh'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  ensureDeviceAddon();
  // The guest's result is kept, so the report can be rewritten from it without the VM (BENCH_REPLAY_GUEST_JSON=FILE).
  const reuse = process.env.BENCH_REPLAY_GUEST_JSON;
  const guest = reuse ? (JSON.parse(fs.readFileSync(reuse, 'utf8')) as GuestResult) : await runGuest(GUEST_ROUNDS);
  if (!reuse) fs.writeFileSync(GUEST_KEEP, JSON.stringify(guest));
  let sameCalls = true;
  for (const [i, f] of host.fixtures.entries()) {
    for (const other of [guest.inprocess.fixtures[i], guest.device.fixtures[i]]) {
      if (other?.fixture !== f.fixture || other.replayed !== f.replayed) throw new Error(`bench replay: ${f.fixture}: the guest replayed ${other?.replayed} replies of ${other?.fixture}, the host ${f.replayed}`);
    }
    const hostCalls = f.profile!.replay.calls;
    const devCalls = guest.device.fixtures[i].profile!.replay.calls;
    if (JSON.stringify(Object.entries(hostCalls).sort()) !== JSON.stringify(Object.entries(devCalls).sort())) {
      sameCalls = false;
      console.error(`bench replay: ${f.fixture}: primitive calls differ between the host in-process and the guest device replays: ${JSON.stringify(hostCalls)} / ${JSON.stringify(devCalls)}`);
    }
  }
  const result = { machine: m, sameCalls, host, guest };
  return { path: writeReport('replay', markdown(m, host, guest, sameCalls), result), result };
}

if (import.meta.filename === path.resolve(process.argv[1] ?? '') && process.argv.includes('--guest')) {
  await guestMain();
}
