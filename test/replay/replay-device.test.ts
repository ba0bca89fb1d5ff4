// `winekernel replay --backend device` inside the VM (vm/run.sh boots a kernel
// with /dev/winekernel; docs/vm.md): the committed fixtures replayed through
// the translators on the real kernel device must match exactly as on the
// in-process backend. The native addon is built here; the guest sees the same files.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, test } from 'vitest';
import { ensureDeviceAddon, runInVm } from '../helpers/vm.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = readdirSync(path.join(root, 'fixtures/recordings')).filter((f) => f.endsWith('.wkrec.gz')).map((f) => `fixtures/recordings/${f}`);

beforeAll(ensureDeviceAddon, 600_000);

test(
  'every committed fixture replays with all replies matching on /dev/winekernel in the VM',
  async () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(3);
    const { status, output } = await runInVm(['node', 'bin/winekernel.js', 'replay', '--backend', 'device', '--json', ...fixtures], 1200);
    const start = output.indexOf('{\n  "backend"');
    expect(start, `no JSON summary in the VM output:\n${output.slice(-4000)}`).toBeGreaterThanOrEqual(0);
    const end = output.indexOf('\n}', start);
    const summary = JSON.parse(output.slice(start, end + 2)) as { backend: string; fixtures: { fixture: string; error: unknown; replayed: number; matched: number }[] };
    expect(summary.backend).toBe('device');
    for (const f of summary.fixtures) {
      expect(f.error, f.fixture).toBeNull();
      expect(f.replayed, f.fixture).toBeGreaterThan(1000);
      expect(f.matched, f.fixture).toBe(f.replayed);
    }
    expect(status, output.slice(-4000)).toBe(0);
  },
  1_500_000,
);
