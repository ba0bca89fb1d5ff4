// `winekernel replay` on the committed fixtures: every recorded request of a
// translated type (registry, atoms, object namespace, object security,
// mutexes and waits on one mutex), answered again by the translators on the
// in-process backend, prints exactly as the recorded reply (docs/replay.md);
// every translated type that occurs in the fixtures is replayed, and
// `winekernel coverage --verify` marks each of them verified; a fixture
// whose recorded reply was altered is reported with a non-zero exit.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessBackend } from '../../backends/inprocess/index.ts';
import { findStartingHives, replayFamily, replayRecording, REPLAYED_TRANSLATORS, type ReplayReport } from '../../mappings/replay.ts';
import { RecordKind } from '../../proxy/recording/format.ts';
import { readRecording } from '../../proxy/recording/reader.ts';
import { loadProtocol } from '../../requests/protocol.ts';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const FIXTURES = path.join(ROOT, 'fixtures/recordings');
const fixtures = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.wkrec.gz')).sort().map((f) => path.join(FIXTURES, f));
const protocol = loadProtocol('wine-8.0');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wk-replay-test-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** Requests the replay does not compare, by design (docs/replay.md): atoms only a forwarded create_class added. */
const ALLOWED_SKIPS = [/: atom added by a forwarded request \(class atom\)$/];
const FAMILIES = ['registry', 'atoms', 'namespace', 'security', 'mutexes'];

/** Translated types the replay answers (those whose translation needs wineserver live are skipped by design). */
const replayable = [...REPLAYED_TRANSLATORS.values()].filter((t) => !(t as { needsServer?: boolean }).needsServer).map((t) => t.request);

async function cli(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [path.join(ROOT, 'bin/winekernel.js'), command, ...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const reports = new Map<string, ReplayReport>();
/** Request types recorded in each fixture. */
const recordedTypes = new Map<string, Set<string>>();

beforeAll(async () => {
  for (const fixture of fixtures) {
    const recording = readRecording(fixture);
    const start = findStartingHives(fixture, recording);
    expect(start, fixture).not.toBeNull();
    const report = await replayRecording(recording, { protocol, backend: createInProcessBackend(), hives: start!.hives, monotonicRawOffset100ns: start!.monotonicRawOffset100ns });
    reports.set(fixture, report);
    recordedTypes.set(fixture, new Set(recording.records.filter((r) => r.kind === RecordKind.Request).map((r) => protocol.requests[r.code]?.name)));
  }
}, 600_000);

describe('replay of the committed fixtures (in-process backend)', () => {
  it('there are fixtures, each with its starting registry, among them objdir, security, mutexes and registry_keys', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(7);
    for (const name of ['atoms', 'cmd-echo', 'reg-add', 'objdir', 'security', 'mutexes', 'registry_keys']) expect(fixtures).toContain(path.join(FIXTURES, `${name}.wkrec.gz`));
    for (const f of fixtures) expect(fs.existsSync(f.replace(/\.wkrec\.gz$/, '.hives.json.gz')), f).toBe(true);
  });

  for (const fixture of fixtures) {
    it(`${path.basename(fixture)}: every translated request's reply matches`, () => {
      const report = reports.get(fixture)!;
      const differences = [...Object.values(report.types).flatMap((t) => t.examples), ...report.wakeups.examples, ...report.mirrored.examples];
      expect(differences).toEqual([]);
      expect(report.mismatched).toBe(0);
      expect(report.matched).toBe(report.replayed);
      // The registry and the atom table are in every fixture: wine start-up reads thousands of keys and adds atoms.
      expect(report.types.open_key?.replayed ?? 0).toBeGreaterThan(1000);
      expect(report.types.add_atom?.replayed ?? 0).toBeGreaterThan(10);
      // Replies with nothing mapped are compared byte for byte too.
      expect(report.byteExact).toBeGreaterThan(report.replayed / 2);
      for (const why of Object.keys(report.skipped)) expect(ALLOWED_SKIPS.some((re) => re.test(why)), why).toBe(true);
    });
  }

  it('every family is replayed, and every translated type that occurs in the fixtures is replayed and matches', () => {
    const families = new Map<string, { replayed: number; matched: number }>();
    const types = new Map<string, { replayed: number; matched: number }>();
    for (const report of reports.values()) {
      for (const [name, f] of Object.entries(report.families)) {
        const total = families.get(name) ?? { replayed: 0, matched: 0 };
        families.set(name, { replayed: total.replayed + f.replayed, matched: total.matched + f.matched });
      }
      for (const [name, t] of Object.entries(report.types)) {
        const total = types.get(name) ?? { replayed: 0, matched: 0 };
        types.set(name, { replayed: total.replayed + t.replayed, matched: total.matched + t.matched });
      }
    }
    for (const family of FAMILIES) {
      expect(families.get(family)?.replayed ?? 0, family).toBeGreaterThan(0);
      expect(families.get(family)?.matched, family).toBe(families.get(family)?.replayed);
    }
    const occurring = replayable.filter((name) => [...recordedTypes.values()].some((set) => set.has(name)));
    for (const name of occurring) {
      expect(types.get(name)?.replayed ?? 0, name).toBeGreaterThan(0);
      expect(types.get(name)?.matched, name).toBe(types.get(name)?.replayed);
    }
    // The fixtures exercise every family's requests: at least these.
    for (const name of ['create_directory', 'get_directory_entry', 'query_symlink', 'open_symlink', 'get_security_object', 'set_security_object', 'open_mutex', 'release_mutex', 'flush_key', 'rename_key']) {
      expect(occurring, name).toContain(name);
    }
    // The mutexes fixture holds a wait that wineserver left pending and woke later.
    expect(reports.get(path.join(FIXTURES, 'mutexes.wkrec.gz'))!.wakeups.compared).toBeGreaterThan(0);
    for (const name of occurring) expect(FAMILIES, name).toContain(replayFamily(name));
  });

  it('the CLI matches all fixtures, exits 0, and --json gives per-family and per-type counts', async () => {
    const result = await cli('replay', [...fixtures, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { fixtures: { fixture: string; replayed: number; matched: number; mismatched: number; families: Record<string, { replayed: number }>; types: Record<string, { replayed: number; matched: number }> }[] };
    expect(summary.fixtures).toHaveLength(fixtures.length);
    for (const f of summary.fixtures) {
      expect(f.matched).toBe(f.replayed);
      expect(f.mismatched).toBe(0);
      expect(f.replayed).toBe(reports.get(path.resolve(f.fixture))!.replayed);
      expect(f.types.get_key_value.matched).toBe(f.types.get_key_value.replayed);
    }
    const security = summary.fixtures.find((f) => f.fixture.endsWith('security.wkrec.gz'))!;
    expect(security.families.security.replayed).toBeGreaterThan(0);
  }, 180_000);

  it('coverage --verify marks every translated type that occurs in the fixtures verified by replay', async () => {
    const result = await cli('coverage', ['--json', '--verify']);
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout).rows as Array<{ name: string; status: string }>;
    const status = new Map(rows.map((r) => [r.name, r.status]));
    const occurring = replayable.filter((name) => [...recordedTypes.values()].some((set) => set.has(name)));
    expect(occurring.length).toBeGreaterThanOrEqual(25);
    for (const name of occurring) expect(status.get(name), name).toBe('translated, verified by replay');
  }, 180_000);
});

describe('a corrupted fixture', () => {
  /** A copy of fixture `name` (with its snapshot) whose first successful reply of `request` is changed by `mutate` (given the reply frame). */
  function corruptedCopy(name: string, request: string, mutate: (frame: Buffer) => void): string {
    const source = path.join(FIXTURES, `${name}.wkrec.gz`);
    const copy = Buffer.from(zlib.gunzipSync(fs.readFileSync(source)));
    const code = protocol.codeOf(request);
    const victim = readRecording(source).records.find((r) => r.kind === RecordKind.Reply && r.code === code && r.payload.readUInt32LE(0) === 0);
    expect(victim, `${name}: a successful ${request} reply`).toBeDefined();
    mutate(copy.subarray(victim!.offset + 40, victim!.offset + 40 + victim!.payload.length));
    const corrupted = path.join(work, `${name}-corrupted-${request}.wkrec.gz`);
    fs.writeFileSync(corrupted, zlib.gzipSync(copy));
    fs.copyFileSync(path.join(FIXTURES, `${name}.hives.json.gz`), corrupted.replace(/\.wkrec\.gz$/, '.hives.json.gz'));
    return corrupted;
  }

  it('an altered reply is reported as a mismatch with a non-zero exit', async () => {
    // The first successful get_key_value reply: its error becomes STATUS_ACCESS_DENIED.
    const corrupted = corruptedCopy('reg-add', 'get_key_value', (frame) => frame.writeUInt32LE(0xc0000022, 0));
    const human = await cli('replay', [corrupted]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/get_key_value\s+\d+\/\d+\s+MISMATCH 1/);
    expect(human.stdout).toMatch(/recorded: [0-9a-f]{4}: get_key_value\(\) = ACCESS_DENIED/);
    expect(human.stdout).toMatch(/replayed: [0-9a-f]{4}: get_key_value\(\) = 0 /);

    const json = await cli('replay', [corrupted, '--json']);
    expect(json.code).toBe(1);
    const f = (JSON.parse(json.stdout) as { fixtures: { types: Record<string, { replayed: number; matched: number }> }[] }).fixtures[0];
    expect(f.types.get_key_value.replayed - f.types.get_key_value.matched).toBe(1);
  }, 120_000);

  it('a reply that differs only in bytes the trace line does not show is a mismatch', async () => {
    // A query_symlink reply: a byte of the fixed part past its fields (wineserver zeroes it; the trace does not print it).
    const corrupted = corruptedCopy('objdir', 'query_symlink', (frame) => (frame[60] ^= 0xff));
    const result = await cli('replay', [corrupted]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/query_symlink\s+\d+\/\d+\s+MISMATCH 1/);
    expect(result.stdout).toMatch(/reply frames differ at byte 60/);
  }, 120_000);

  it('a file that is not a recording is a clear error, exit 1', async () => {
    const bogus = path.join(work, 'bogus.wkrec');
    fs.writeFileSync(bogus, 'not a recording\n');
    const result = await cli('replay', [bogus]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/cannot replay: .*not a valid winekernel recording/);
  });
});
