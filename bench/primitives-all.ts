// The primitives benchmark (issue 4), in one run: the in-process backend
// from TypeScript on the host; the device from C (bench/device-c) and from
// TypeScript (bench/primitives.ts --only=device) inside the QEMU guest, each
// beside the floor of its own path (a no-op ioctl; an empty N-API call).
// Device figures come from a software-emulated guest when KVM is not usable,
// so only their ratios to the floors of the same run mean anything.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { machine, machineLine, writeReport } from './harness.ts';

const ROOT = join(import.meta.dirname, '..');

function jsonFrom(output: string): any {
  const start = output.indexOf('{');
  const end = output.lastIndexOf('}');
  if (start < 0 || end < start) throw new Error(`no JSON in benchmark output:\n${output.slice(-2000)}`);
  return JSON.parse(output.slice(start, end + 1));
}

function runJson(cmd: string, args: string[]): any {
  return jsonFrom(execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26, timeout: 3_600_000 }));
}

export async function run() {
  const m = machine();
  const inprocess = runJson(process.execPath, ['--import', 'tsx', 'bench/primitives.ts', '--only=inprocess']);
  execFileSync('bash', ['vm/setup.sh'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const deviceC = runJson('bash', ['bench/device-c/run.sh']);
  const deviceTs = runJson('bash', ['vm/run.sh', '--timeout', '3600', '--', process.execPath, '--import', 'tsx', 'bench/primitives.ts', '--only=device', '--quick']);
  const result = { machine: m, inprocess, deviceC, deviceTs };
  const md = [
    '# Primitives benchmark',
    '',
    machineLine(m),
    '',
    'Median nanoseconds per call. In-process: the TypeScript backend on the host. Device: `/dev/winekernel` in the QEMU guest of `vm/run.sh` (Debian\'s cloud kernel; software emulation when KVM is not usable here, which inflates every device figure alike, so compare each with the floors measured in the same guest).',
    '',
    '## In-process (TypeScript)',
    '',
    '```json',
    JSON.stringify(inprocess, null, 2),
    '```',
    '',
    '## Device from C (bench/device-c)',
    '',
    '```json',
    JSON.stringify(deviceC, null, 2),
    '```',
    '',
    '## Device from TypeScript (N-API addon; --quick: 100k objects for the large lookup)',
    '',
    '```json',
    JSON.stringify(deviceTs, null, 2),
    '```',
    '',
    'Regenerate with `npm run bench -- primitives`.',
    '',
  ].join('\n');
  return { path: writeReport('primitives', md, result), result };
}

