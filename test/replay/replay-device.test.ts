// `winekernel replay --backend device` inside the VM (vm/run.sh boots a kernel
// with /dev/winekernel; docs/vm.md): the committed fixtures replayed through
// the translators of every family on the real kernel device must match
// exactly, and compare exactly what the in-process backend compares (the
// same replies per fixture and per family, the same wake-ups and mirrored
// forwarded requests). The native addon is built here; the guest sees the
// same files.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, test } from 'vitest';
import { createInProcessBackend } from '../../backends/inprocess/index.ts';
import { findStartingHives, replayRecording, type ReplayReport } from '../../mappings/replay.ts';
import { readRecording } from '../../proxy/recording/reader.ts';
import { loadProtocol } from '../../requests/protocol.ts';
import { ensureDeviceAddon, runInVm } from '../helpers/vm.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = readdirSync(path.join(root, 'fixtures/recordings')).filter((f) => f.endsWith('.wkrec.gz')).sort().map((f) => `fixtures/recordings/${f}`);

interface FixtureSummary {
  fixture: string;
  error: unknown;
  replayed: number;
  matched: number;
  mismatched: number;
  families: Record<string, { replayed: number; matched: number }>;
  wakeups: { compared: number; matched: number };
  mirrored: { compared: number; matched: number };
  skipped: Record<string, number>;
}

/** What the in-process backend compares for each fixture, to hold the device to. */
const inProcess = new Map<string, ReplayReport>();

beforeAll(async () => {
  ensureDeviceAddon();
  const protocol = loadProtocol('wine-8.0');
  for (const fixture of fixtures) {
    const file = path.join(root, fixture);
    const recording = readRecording(file);
    const start = findStartingHives(file, recording);
    inProcess.set(fixture, await replayRecording(recording, { protocol, backend: createInProcessBackend(), hives: start?.hives, monotonicRawOffset100ns: start?.monotonicRawOffset100ns }));
  }
}, 900_000);

test(
  'every committed fixture replays on /dev/winekernel in the VM with all replies matching, as many as in process',
  async () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(7);
    const { status, output } = await runInVm(['node', 'bin/winekernel.js', 'replay', '--backend', 'device', '--json', ...fixtures], 1800);
    const start = output.indexOf('{\n  "backend"');
    expect(start, `no JSON summary in the VM output:\n${output.slice(-4000)}`).toBeGreaterThanOrEqual(0);
    const end = output.indexOf('\n}', start);
    const summary = JSON.parse(output.slice(start, end + 2)) as { backend: string; fixtures: FixtureSummary[] };
    expect(summary.backend).toBe('device');
    expect(summary.fixtures.map((f) => f.fixture)).toEqual(fixtures);
    for (const f of summary.fixtures) {
      const expected = inProcess.get(f.fixture)!;
      expect(f.error, f.fixture).toBeNull();
      expect(f.mismatched, f.fixture).toBe(0);
      expect(f.matched, f.fixture).toBe(f.replayed);
      // The device compares exactly what the in-process backend compares.
      expect(f.replayed, f.fixture).toBe(expected.replayed);
      expect(f.families, f.fixture).toEqual(expected.families);
      expect(f.wakeups.compared, f.fixture).toBe(expected.wakeups.compared);
      expect(f.mirrored.compared, f.fixture).toBe(expected.mirrored.compared);
      expect(f.skipped, f.fixture).toEqual(expected.skipped);
    }
    expect(status, output.slice(-4000)).toBe(0);
  },
  2_100_000,
);
