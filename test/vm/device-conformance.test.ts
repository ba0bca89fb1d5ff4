// Runs the conformance suite against the real kernel device, inside the VM
// (vm/run.sh boots a kernel that can load winekernel.ko; this host's cannot).
// The native addon is built here first: the guest sees the same files.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, test } from 'vitest';
import { ensureDeviceAddon, runInVm } from '../helpers/vm.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

beforeAll(ensureDeviceAddon, 600_000);

test(
  'the conformance suite passes on /dev/winekernel in the VM',
  async () => {
    const { status, output: raw } = await runInVm(
      // vitest started by node itself, not npx: nothing between the guest and
      // the test runner that could look for a package online.
      ['env', 'WINEKERNEL_BACKEND=device', 'node', 'node_modules/vitest/vitest.mjs', 'run', 'test/conformance'],
      1500,
    );
    // vitest colours its output in some environments (CI=true): match on plain text.
    const output = raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    // vitest's summary, so a failure shows which tests broke
    const summary = output.split('\n').filter((line) => /✓|×|FAIL|Test Files|Tests |Error|\[vm\]/.test(line)).join('\n');
    expect(status, `${summary}\n--- last output ---\n${output.slice(-4000)}`).toBe(0);
    expect(output).toMatch(/Tests\s+\d+ passed/);
    expect(output).not.toMatch(/\d+ failed/);
  },
  1_700_000,
);
