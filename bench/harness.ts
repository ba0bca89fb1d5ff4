// Shared pieces of the benchmarks: timing with medians over repeated rounds,
// a description of the machine, and writing results under docs/benchmarks/.

import { cpus, totalmem, release } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Machine {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
}

export function machine(): Machine {
  return {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
  };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/**
 * Operations per second of `fn` (which performs `opsPerCall` operations),
 * as the median of `rounds` rounds of at least `minMs` each.
 */
export function throughput(fn: () => void, opsPerCall: number, rounds = 7, minMs = 200): number {
  for (let i = 0; i < 50; i++) fn(); // warm up
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let calls = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0n;
    while (elapsed < BigInt(minMs) * 1_000_000n) {
      for (let i = 0; i < 16; i++) fn();
      calls += 16;
      elapsed = process.hrtime.bigint() - start;
    }
    rates.push((calls * opsPerCall) / (Number(elapsed) / 1e9));
  }
  return median(rates);
}

/**
 * The argv prefix that runs a wine command through `winekernel run` on the
 * prefix, as a launcher for runWineProgram: what the tests' harness
 * (test/proxy/harness.ts) builds, but that module registers vitest hooks, so
 * a benchmark, which runs outside vitest, cannot import it.
 */
export function runLauncher(prefix: string, extra: string[] = []): string[] {
  return [process.execPath, join(import.meta.dirname, '..', 'bin', 'winekernel.js'), 'run', '--prefix', prefix, ...extra, '--'];
}

export function writeReport(name: string, markdown: string, data: unknown): string {
  const dir = join(import.meta.dirname, '..', 'docs', 'benchmarks');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(data, null, 2) + '\n');
  const path = join(dir, `${name}.md`);
  writeFileSync(path, markdown);
  return path;
}

export function machineLine(m: Machine): string {
  return `Measured ${m.date.slice(0, 10)} on ${m.cpu} (${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}); the machine is shared and noisy, so figures are medians of repeated rounds measured side by side in one run.`;
}
