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
// touching the engine. Each column first runs one profiling round (not
// timed; it also warms the JIT) whose sessions count every primitive call
// and the time spent inside it.
//
// In the guest this file runs itself: `node --import tsx bench/replay.ts
// --guest [--rounds N] [--fixtures a,b]` prints one line
// `BENCH_REPLAY_JSON {...}` on stdout.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
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
/** Timed rounds per backend in the guest: under TCG a round of every fixture on the device takes minutes. */
const GUEST_ROUNDS = Number(process.env.BENCH_REPLAY_GUEST_ROUNDS ?? 3);
const VM_TIMEOUT_S = Number(process.env.BENCH_REPLAY_VM_TIMEOUT ?? 3000);
const JSON_MARK = 'BENCH_REPLAY_JSON ';

type Column = 'hostInprocess' | 'guestInprocess' | 'guestDevice';

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
  loadMs: number;
  wholePerSec: number;
  /** Each timed round: [registry load ms, replay ms]. */
  samples: [number, number][];
  profile: Profile;
}

interface ColumnResult {
  backend: 'inprocess' | 'device';
  rounds: number;
  fixtures: FixtureResult[];
  /** Median ns of the cheapest primitive path (an empty in-process call; the no-op ioctl through the addon). */
  floorNs?: number;
}

interface GuestResult {
  uname: string;
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

  private counting(session: Session): Session {
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
  return { report, loadMs, replayMs: report.elapsedMs - loadMs, phases: probe.phases };
}

/** Every round must compare replies and match all of them: a benchmark of a wrong replay means nothing. */
function checkMatched(report: ReplayReport, what: string): void {
  if (report.replayed === 0 || report.mismatched !== 0 || report.matched !== report.replayed) {
    const examples = Object.values(report.types).flatMap((t) => t.examples).slice(0, 3).join('\n');
    throw new Error(`bench replay: ${what}: ${report.matched}/${report.replayed} replies matched, ${report.mismatched} mismatched\n${examples}`);
  }
}

/**
 * Replays every fixture on each backend: one profiling round, then `rounds`
 * timed rounds, the backends taking turns within each round so they see the
 * same conditions.
 */
async function measure(backends: Record<string, () => Backend>, files: string[], rounds: number): Promise<Record<string, ColumnResult>> {
  const protocol = loadProtocol('wine-8.0');
  const out: Record<string, ColumnResult> = {};
  for (const [name, make] of Object.entries(backends)) out[name] = { backend: make().kind, rounds, fixtures: [] };
  for (const file of files) {
    const fixture = loadFixture(file);
    const partial: Record<string, { profile?: Profile; samples: [number, number][]; replayed: number }> = {};
    for (const name of Object.keys(backends)) partial[name] = { samples: [], replayed: 0 };
    for (let round = -1; round < rounds; round++) {
      for (const [name, make] of Object.entries(backends)) {
        const profiling = round < 0;
        const r = await replayOnce(fixture, protocol, make(), profiling, `${name}, ${profiling ? 'profiling round' : `round ${round + 1}`}`);
        const p = partial[name];
        if (p.replayed && p.replayed !== r.report.replayed) throw new Error(`bench replay: ${file} (${name}) replayed ${r.report.replayed} replies, ${p.replayed} before`);
        p.replayed = r.report.replayed;
        if (profiling) p.profile = { ...r.phases, loadMs: r.loadMs, replayMs: r.replayMs };
        else p.samples.push([r.loadMs, r.replayMs]);
        console.error(`bench replay: ${file} ${name} ${profiling ? 'profile' : `round ${round + 1}/${rounds}`}: ${r.report.replayed} replies, load ${r.loadMs.toFixed(0)} ms, replay ${r.replayMs.toFixed(0)} ms`);
      }
    }
    for (const [name, p] of Object.entries(partial)) {
      out[name].fixtures.push({
        fixture: file,
        replayed: p.replayed,
        rounds,
        replayPerSec: Math.round(median(p.samples.map(([, replay]) => p.replayed / (replay / 1000)))),
        loadMs: Math.round(median(p.samples.map(([load]) => load))),
        wholePerSec: Math.round(median(p.samples.map(([load, replay]) => p.replayed / ((load + replay) / 1000)))),
        samples: p.samples.map(([load, replay]) => [Math.round(load), Math.round(replay)]),
        profile: p.profile!,
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
  const columns = await measure({ inprocess: () => createInProcessBackend(), device: () => device }, files, rounds);
  columns.inprocess.floorNs = await floorNs('inprocess');
  columns.device.floorNs = await floorNs('device');
  const result: GuestResult = {
    uname: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
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

function sum(record: Record<string, number>): number {
  return Object.values(record).reduce((a, b) => a + b, 0);
}

/** Primitive calls per replayed request and µs inside them, replay phase of the profiling round. */
function perRequest(f: FixtureResult) {
  const calls = sum(f.profile.replay.calls);
  const ns = sum(f.profile.replay.ns);
  return { calls: calls / f.replayed, usInPrimitives: ns / 1000 / f.replayed, shareOfReplay: ns / 1e6 / f.profile.replayMs, usPerCall: ns / 1000 / calls };
}

function fixtureTable(host: FixtureResult, gIn: FixtureResult, gDev: FixtureResult): string[] {
  const row = (what: string, h: string, gi: string, gd: string, r: string) => `| ${what} | ${h} | ${gi} | ${gd} | ${r} |`;
  const pIn = perRequest(gIn);
  const pDev = perRequest(gDev);
  const pHost = perRequest(host);
  return [
    `### ${host.fixture} (${fmt(host.replayed)} replies compared, all matched in every round)`,
    '',
    '| | host in-process | guest in-process | guest device | device / in-process (guest) |',
    '| --- | ---: | ---: | ---: | ---: |',
    row('replay, requests/s', fmt(host.replayPerSec), fmt(gIn.replayPerSec), fmt(gDev.replayPerSec), ratio(gDev.replayPerSec, gIn.replayPerSec)),
    row('registry snapshot load, ms', fmt(host.loadMs), fmt(gIn.loadMs), fmt(gDev.loadMs), ratio(gDev.loadMs, gIn.loadMs)),
    row('whole replay incl. load, requests/s', fmt(host.wholePerSec), fmt(gIn.wholePerSec), fmt(gDev.wholePerSec), ratio(gDev.wholePerSec, gIn.wholePerSec)),
    row('primitive calls per request', pHost.calls.toFixed(1), pIn.calls.toFixed(1), pDev.calls.toFixed(1), ''),
    row('µs inside primitives per request', pHost.usInPrimitives.toFixed(1), pIn.usInPrimitives.toFixed(1), pDev.usInPrimitives.toFixed(1), ratio(pDev.usInPrimitives, pIn.usInPrimitives)),
    row('share of replay time inside primitives', pct(pHost.shareOfReplay), pct(pIn.shareOfReplay), pct(pDev.shareOfReplay), ''),
    '',
  ];
}

function pct(x: number): string {
  return `${Math.round(x * 100)} %`;
}

/** Calls per replayed request by primitive, over every fixture (replay phase of the device's profiling round). */
function callMix(column: ColumnResult): { method: string; perRequest: number; usPerCall: number }[] {
  const calls: Record<string, number> = {};
  const ns: Record<string, number> = {};
  let replayed = 0;
  for (const f of column.fixtures) {
    replayed += f.replayed;
    for (const [m, n] of Object.entries(f.profile.replay.calls)) calls[m] = (calls[m] ?? 0) + n;
    for (const [m, n] of Object.entries(f.profile.replay.ns)) ns[m] = (ns[m] ?? 0) + n;
  }
  return Object.entries(calls)
    .sort((a, b) => b[1] - a[1])
    .map(([method, n]) => ({ method, perRequest: n / replayed, usPerCall: ns[method] / 1000 / n }));
}

function loadCalls(column: ColumnResult): number {
  return median(column.fixtures.map((f) => sum(f.profile.load.calls)));
}

export async function run(): Promise<{ path: string; result: unknown }> {
  const m: Machine = machine();
  const files = fixtureFiles();
  const host = (await measure({ inprocess: () => createInProcessBackend() }, files, HOST_ROUNDS)).inprocess;
  host.floorNs = await floorNs('inprocess');
  execFileSync('bash', ['vm/setup.sh'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  ensureDeviceAddon();
  const guest = await runGuest(GUEST_ROUNDS);
  for (const [i, f] of host.fixtures.entries()) {
    for (const other of [guest.inprocess.fixtures[i], guest.device.fixtures[i]]) {
      if (other.fixture !== f.fixture || other.replayed !== f.replayed) throw new Error(`bench replay: ${f.fixture}: the guest replayed ${other.replayed} replies of ${other.fixture}, the host ${f.replayed}`);
    }
  }
  const result = { machine: m, host, guest };
  const gIn = guest.inprocess;
  const gDev = guest.device;
  const mix = callMix(gDev);
  const mixIn = new Map(callMix(gIn).map((r) => [r.method, r]));
  const all = (c: ColumnResult, pick: (f: FixtureResult) => number) => c.fixtures.map(pick);
  const rate = (c: ColumnResult) => median(all(c, (f) => f.replayPerSec));
  const calls = median(all(gDev, (f) => perRequest(f).calls));
  const devShare = median(all(gDev, (f) => perRequest(f).shareOfReplay));
  const inShare = median(all(gIn, (f) => perRequest(f).shareOfReplay));
  const devUsPerRequest = median(all(gDev, (f) => perRequest(f).usInPrimitives));
  const inUsPerRequest = median(all(gIn, (f) => perRequest(f).usInPrimitives));
  const md = [
    '# Replay throughput on both backends',
    '',
    machineLine(m),
    '',
    `Every committed fixture (\`fixtures/recordings/*.wkrec.gz\`) replayed through the translators and each reply compared with the recorded one (\`replayRecording\`, docs/replay.md): on the in-process backend on the host, and on the in-process backend and \`/dev/winekernel\` inside the QEMU guest of \`vm/run.sh\` (kernel ${guest.uname}). KVM is not usable on this machine, so the guest is software-emulated (TCG) and every figure in it is inflated: compare the device with the in-process backend of the same guest (the two take turns within each round of one run); the host column is for reference. Every round of every column matched all compared replies (the bench fails otherwise), and each column compared the same number.`,
    '',
    `"replay" is the replay proper: from the first per-process session to the end (the registry snapshot is loaded before it, through the replay's owner session, and is timed apart). Medians over ${host.rounds} timed rounds on the host and ${gDev.rounds} in the guest${gDev.rounds < host.rounds ? ' (fewer: a round of all fixtures on the device takes minutes under TCG)' : ''}, each after one profiling round that counts every primitive call through a wrapping session and times it (not in the medians; it also warms the JIT). The guest part took ${Math.round(guest.wallSeconds / 60)} minutes.`,
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
    'The profiling rows come from the replay phase of the profiling round: primitive calls (every `Session` method the translators and the replay engine call) per compared reply, including the calls of the mirrored forwarded requests and closes around them; time inside them as seen by the caller (for the device: the N-API call and its ioctl).',
    '',
    ...host.fixtures.flatMap((f, i) => fixtureTable(f, gIn.fixtures[i], gDev.fixtures[i])),
    '## Where the time goes',
    '',
    `Floors measured in the same runs: an empty in-process primitive call (\`size\` of a bad handle) ${host.floorNs} ns on the host and ${gIn.floorNs} ns in the guest; the device's no-op ioctl through the addon ${gDev.floorNs} ns in the guest.`,
    '',
    `* **The device is ${ratio(rate(gIn), rate(gDev))} slower than the in-process backend in the same guest (median over fixtures), and the primitive calls are why.** A replayed request makes ${calls.toFixed(1)} primitive calls (median over fixtures; the same count on both backends, since the translators make the same calls), and every device call is one ioctl. Inside the primitives a request spends ${devUsPerRequest.toFixed(0)} µs on the device against ${inUsPerRequest.toFixed(1)} µs in process: ${pct(devShare)} of the device's replay time against ${pct(inShare)} of the in-process backend's. What is outside the primitives (decoding, translating, encoding and comparing the replies) costs about the same on both.`,
    `* **The calls, per replayed request, over all fixtures (device, guest; µs per call on the device and in process):** ${mix
      .slice(0, 10)
      .map((r) => `\`${r.method}\` ${r.perRequest.toFixed(2)} (${r.usPerCall.toFixed(1)} / ${(mixIn.get(r.method)?.usPerCall ?? NaN).toFixed(2)} µs)`)
      .join(', ')}. Each device call costs several times the no-op ioctl floor: the ioctl entry, copying arguments and names in and out, and the kernel's name lookup and locking, all emulated.`,
    `* **Loading the registry snapshot** (${fmt(loadCalls(gDev))} primitive calls per fixture, median: every key, value list and index entry of the prefix's hives written as objects) takes ${ratio(median(all(gDev, (f) => f.loadMs)), median(all(gIn, (f) => f.loadMs)))} as long on the device as in process in the guest; it is reported apart and is not part of the replay rate.`,
    '* **Under KVM or on bare metal the ratio would be smaller**: TCG inflates a system call (privilege switches, page-table walks, the copies) much more than the user-space JavaScript that the in-process backend runs, so the guest ratio is an upper bound for the device\'s cost; the per-request call count above is what carries over.',
    '',
    'Regenerate with `npm run bench -- replay` (`BENCH_REPLAY_ROUNDS`, `BENCH_REPLAY_GUEST_ROUNDS` set the rounds; the guest half alone: `vm/run.sh -- node --import tsx bench/replay.ts --guest --rounds=1 --fixtures=objdir`).',
    '',
  ].join('\n');
  return { path: writeReport('replay', md, result), result };
}

if (import.meta.filename === path.resolve(process.argv[1] ?? '') && process.argv.includes('--guest')) {
  await guestMain();
}
