// Runs the C selftests of /dev/winekernel inside the QEMU guest
// (vm/run.sh boots Debian's cloud kernel with kernel/module/winekernel.ko).
// The host kernel cannot load the module, so this is the only place the real
// device is exercised by the C suite. Missing tools are a loud failure.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function cloudKernelInstalled(): boolean {
  if (!existsSync('/lib/modules')) return false;
  return readdirSync('/lib/modules').some(
    (v) => v.endsWith('-cloud-amd64') && existsSync(`/boot/vmlinuz-${v}`) && existsSync(`/lib/modules/${v}/build`),
  );
}

function toolsPresent(): boolean {
  return existsSync('/usr/bin/qemu-system-x86_64') && cloudKernelInstalled();
}

describe('winekernel device (C selftests in the VM)', () => {
  it(
    'passes every selftest with a clean kernel log and no leaks',
    async () => {
      // setup.sh is idempotent: it installs only what is missing and
      // (re)builds the module against the cloud kernel's headers.
      const setup = await run('bash', ['vm/setup.sh'], 20 * 60_000);
      if (setup.code !== 0) {
        throw new Error(`vm/setup.sh failed (${setup.code}):\n${setup.stdout}\n${setup.stderr}`);
      }
      if (!toolsPresent()) {
        throw new Error(
          'qemu-system-x86_64 or the Debian cloud kernel (image + headers) is missing even after vm/setup.sh',
        );
      }
      // Build on the host: compiling in the guest is slow under TCG.
      const build = await run(
        'make',
        ['-s', '-C', 'kernel/selftests', `OUTPUT=${path.join(root, 'kernel/selftests/build')}`],
        5 * 60_000,
      );
      expect(build.code, build.stderr).toBe(0);

      const res = await run('bash', ['vm/run.sh', '--timeout', '1500', '--', 'kernel/selftests/run.sh'], 27 * 60_000);
      const report = `stdout:\n${res.stdout}\nstderr:\n${res.stderr}`;
      expect(res.code, report).toBe(0);
      expect(res.stdout, report).toMatch(/^# \d+ passed, 0 failed$/m);
      expect(res.stdout, report).toMatch(/^ok \d+ leak_check/m);
      expect(res.stdout, report).not.toMatch(/^not ok/m);
      expect(res.stderr, report).toMatch(/guest status: 0/);
    },
    30 * 60_000,
  );
});
