// Running commands inside the QEMU guest that has /dev/winekernel
// (vm/run.sh, docs/vm.md), for the tests that need the real device.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './wine-source.ts';

export const VM_RUN = path.join(PROJECT_ROOT, 'vm', 'run.sh');
const DEVICE_ADDON = path.join(PROJECT_ROOT, 'native', 'build', 'Release', 'winekernel_device.node');

/**
 * Builds the device addon on the host (the guest sees the same files).
 * Incremental when already configured: a rebuild would delete native/build
 * under other test files loading the addons at the same time.
 */
export function ensureDeviceAddon(): void {
  if (!existsSync(VM_RUN)) throw new Error(`${VM_RUN} is missing: the VM harness is needed for device tests`);
  if (existsSync(path.join(PROJECT_ROOT, 'native', 'build', 'Makefile'))) {
    execFileSync('npx', ['--no-install', 'node-gyp', 'build', '--directory=native'], { cwd: PROJECT_ROOT, stdio: 'pipe' });
  } else {
    execFileSync('npm', ['run', '--silent', 'build:native'], { cwd: PROJECT_ROOT, stdio: 'pipe' });
  }
  if (!existsSync(DEVICE_ADDON)) throw new Error(`building the device addon did not produce ${DEVICE_ADDON}`);
}

/** Runs `command` in the guest; its exit status and everything vm/run.sh and the guest printed. */
export function runInVm(command: string[], timeoutSeconds: number): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(VM_RUN, ['--timeout', String(timeoutSeconds), '--', ...command], { cwd: PROJECT_ROOT });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, output }));
  });
}
