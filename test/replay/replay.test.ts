// `winekernel replay` on the committed fixtures: every recorded request of a
// translated type, answered again by the translators on the in-process
// backend, prints exactly as the recorded reply (docs/replay.md); and a
// fixture whose recorded reply was altered is reported with a non-zero exit.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createInProcessBackend } from '../../backends/inprocess/index.ts';
import { findStartingHives, replayRecording } from '../../mappings/replay.ts';
import { RecordKind } from '../../proxy/recording/format.ts';
import { readRecording } from '../../proxy/recording/reader.ts';
import { loadProtocol } from '../../requests/protocol.ts';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const FIXTURES = path.join(ROOT, 'fixtures/recordings');
const fixtures = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.wkrec.gz')).map((f) => path.join(FIXTURES, f));
const protocol = loadProtocol('wine-8.0');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wk-replay-test-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [path.join(ROOT, 'bin/winekernel.js'), 'replay', ...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('replay of the committed fixtures (in-process backend)', () => {
  it('there are fixtures, each with its registry snapshot', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(3);
    for (const f of fixtures) expect(fs.existsSync(f.replace(/\.wkrec\.gz$/, '.hives.json.gz')), f).toBe(true);
  });

  for (const fixture of fixtures) {
    it(`${path.basename(fixture)}: every translated request's reply matches`, async () => {
      const recording = readRecording(fixture);
      const hives = findStartingHives(fixture, recording);
      expect(hives).not.toBeNull();
      const report = await replayRecording(recording, { protocol, backend: createInProcessBackend(), hives: hives!.hives });
      const examples = Object.values(report.types).flatMap((t) => t.examples);
      expect(examples).toEqual([]);
      expect(report.mismatched).toBe(0);
      expect(report.matched).toBe(report.replayed);
      // Both families are present in every fixture: wine start-up reads thousands of keys and adds atoms.
      expect(report.types.open_key?.replayed ?? 0).toBeGreaterThan(1000);
      expect(report.types.add_atom?.replayed ?? 0).toBeGreaterThan(10);
      // The only request not compared: an atom of a forwarded create_class (its number is wineserver's alone).
      for (const why of Object.keys(report.skipped)) expect(why).toMatch(/class atom/);
    }, 120_000);
  }

  it('the CLI matches all fixtures, exits 0, and --json gives per-type counts', async () => {
    const result = await cli([...fixtures, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { fixtures: { replayed: number; matched: number; types: Record<string, { replayed: number; matched: number }> }[] };
    expect(summary.fixtures).toHaveLength(fixtures.length);
    for (const f of summary.fixtures) {
      expect(f.matched).toBe(f.replayed);
      expect(f.types.get_key_value.matched).toBe(f.types.get_key_value.replayed);
    }
  }, 180_000);
});

describe('a corrupted fixture', () => {
  it('an altered reply is reported as a mismatch with a non-zero exit', async () => {
    const source = path.join(FIXTURES, 'reg-add.wkrec.gz');
    const bytes = zlib.gunzipSync(fs.readFileSync(source));
    const recording = readRecording(source);
    // The first successful get_key_value reply: flip its error to STATUS_ACCESS_DENIED.
    const getKeyValue = protocol.codeOf('get_key_value');
    const victim = recording.records.find((r) => r.kind === RecordKind.Reply && r.code === getKeyValue && r.payload.readUInt32LE(0) === 0);
    expect(victim).toBeDefined();
    const copy = Buffer.from(bytes);
    copy.writeUInt32LE(0xc0000022, victim!.offset + 40);
    const corrupted = path.join(work, 'reg-add-corrupted.wkrec.gz');
    fs.writeFileSync(corrupted, zlib.gzipSync(copy));
    fs.copyFileSync(path.join(FIXTURES, 'reg-add.hives.json.gz'), path.join(work, 'reg-add-corrupted.hives.json.gz'));

    const human = await cli([corrupted]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/get_key_value\s+\d+\/\d+\s+MISMATCH 1/);
    expect(human.stdout).toMatch(/recorded: [0-9a-f]{4}: get_key_value\(\) = ACCESS_DENIED/);
    expect(human.stdout).toMatch(/replayed: [0-9a-f]{4}: get_key_value\(\) = 0 /);

    const json = await cli([corrupted, '--json']);
    expect(json.code).toBe(1);
    const f = (JSON.parse(json.stdout) as { fixtures: { types: Record<string, { replayed: number; matched: number }> }[] }).fixtures[0];
    expect(f.types.get_key_value.replayed - f.types.get_key_value.matched).toBe(1);
  }, 120_000);

  it('a file that is not a recording is a clear error, exit 1', async () => {
    const bogus = path.join(work, 'bogus.wkrec');
    fs.writeFileSync(bogus, 'not a recording\n');
    const result = await cli([bogus]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/cannot replay: .*not a valid winekernel recording/);
  });
});
