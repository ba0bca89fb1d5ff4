// Runs the conformance suite against the real kernel device, inside the VM
// (vm/run.sh boots a kernel that can load winekernel.ko; this host's cannot).
// The native addon is built here first: the guest sees the same files.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, test } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const runScript = path.join(root, 'vm', 'run.sh');
const addon = path.join(root, 'native', 'build', 'Release', 'winekernel_device.node');

beforeAll(() => {
  if (!existsSync(runScript)) throw new Error(`${runScript} is missing: the VM harness is needed for device tests`);
  // incremental when configured: a rebuild would delete native/build under
  // other test files that are loading the addons right now
  const configured = existsSync(path.join(root, 'native', 'build', 'Makefile'));
  execFileSync('npx', ['node-gyp', configured ? 'build' : 'rebuild', '--directory=native'], { cwd: root, stdio: 'pipe' });
  if (!existsSync(addon)) throw new Error(`building the device addon did not produce ${addon}`);
}, 600_000);

function runInVm(command: string[], timeoutSeconds: number): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(runScript, ['--timeout', String(timeoutSeconds), '--', ...command], { cwd: root });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, output }));
  });
}

test(
  'the conformance suite passes on /dev/winekernel in the VM',
  async () => {
    const { status, output } = await runInVm(
      ['env', 'WINEKERNEL_BACKEND=device', 'npx', 'vitest', 'run', 'test/conformance'],
      1500,
    );
    // vitest's summary, so a failure shows which tests broke
    const summary = output.split('\n').filter((line) => /✓|×|FAIL|Test Files|Tests |Error|\[vm\]/.test(line)).join('\n');
    expect(status, `${summary}\n--- last output ---\n${output.slice(-4000)}`).toBe(0);
    expect(output).toMatch(/Tests\s+\d+ passed/);
    expect(output).not.toMatch(/\d+ failed/);
  },
  1_700_000,
);
