// What the transparent proxy costs a real Wine program: per-request latency
// of wineserver-bound calls measured inside a Windows program
// (fixtures/corpus/src/bench.c: each call timed with QueryPerformanceCounter),
// run directly and through `winekernel run`, and the wall time of
// `wineboot --init` of a new prefix both ways. Direct and proxied runs
// alternate in one run so that both see the same machine conditions.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runLauncher } from '../test/proxy/harness.ts';
import {
  buildCorpus,
  corpusExe,
  createTestPrefix,
  removeTestPrefix,
  runWineProgram,
  stopWineserver,
  WINE_LOADER,
  WINESERVER_BINARY,
  wineEnv,
  REPO_ROOT,
} from '../test/support/wine.ts';
import { machine, machineLine, median, writeReport } from './harness.ts';

const ROUNDS = 3;
const ITERATIONS = 3000;

interface OpFigures {
  count: number;
  p50_ns: number;
  p99_ns: number;
}

async function benchOnce(launcher?: (prefix: string) => string[]): Promise<Record<string, OpFigures>> {
  const prefix = await createTestPrefix('bench');
  try {
    const result = await runWineProgram({
      prefix,
      exe: corpusExe('bench'),
      args: [String(ITERATIONS)],
      launcher: launcher?.(prefix),
      timeoutMs: 300_000,
    });
    if (result.exitCode !== 0) throw new Error(`bench.exe failed (${result.exitCode}): ${result.stderr.slice(-2000)}`);
    const line = result.stdout.split('\n').find((l) => l.startsWith('{'));
    if (!line) throw new Error(`bench.exe printed no JSON: ${result.stdout}`);
    return (JSON.parse(line) as { ops: Record<string, OpFigures> }).ops;
  } finally {
    await stopWineserver(prefix);
    await removeTestPrefix(prefix);
  }
}

/** Wall time of `wineboot --init` of a brand-new prefix, until its wineserver has exited (both ways wait for that). */
function wallTimeOfWineboot(proxied: boolean): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wk-bench-wineboot-'));
  const prefix = path.join(dir, 'prefix');
  try {
    const env = wineEnv(prefix);
    const start = process.hrtime.bigint();
    const run = proxied
      ? spawnSync(runLauncher(prefix)[0], [...runLauncher(prefix).slice(1), WINE_LOADER, 'wineboot', '--init'], { env, cwd: REPO_ROOT, stdio: 'ignore', timeout: 600_000 })
      : spawnSync('sh', ['-c', `"${WINE_LOADER}" wineboot --init && "${WINESERVER_BINARY}" -w`], { env, cwd: REPO_ROOT, stdio: 'ignore', timeout: 600_000 });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (run.status !== 0) throw new Error(`wineboot --init ${proxied ? 'through the proxy' : 'directly'} failed with status ${run.status}`);
    return ms;
  } finally {
    spawnSync(WINESERVER_BINARY, ['-k'], { env: wineEnv(prefix), stdio: 'ignore' });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function run() {
  const m = machine();
  buildCorpus();
  const direct: Array<Record<string, OpFigures>> = [];
  const proxied: Array<Record<string, OpFigures>> = [];
  for (let round = 0; round < ROUNDS; round++) {
    direct.push(await benchOnce());
    proxied.push(await benchOnce((prefix) => runLauncher(prefix)));
  }
  const ops = Object.keys(direct[0]);
  const perOp = ops.map((op) => {
    const d50 = median(direct.map((r) => r[op].p50_ns));
    const d99 = median(direct.map((r) => r[op].p99_ns));
    const p50 = median(proxied.map((r) => r[op].p50_ns));
    const p99 = median(proxied.map((r) => r[op].p99_ns));
    return { op, directP50Ns: d50, proxiedP50Ns: p50, ratioP50: +(p50 / d50).toFixed(2), directP99Ns: d99, proxiedP99Ns: p99, ratioP99: +(p99 / d99).toFixed(2) };
  });

  const winebootDirect: number[] = [];
  const winebootProxied: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    winebootDirect.push(wallTimeOfWineboot(false));
    winebootProxied.push(wallTimeOfWineboot(true));
  }
  const wineboot = {
    directMs: Math.round(median(winebootDirect)),
    proxiedMs: Math.round(median(winebootProxied)),
    ratio: +(median(winebootProxied) / median(winebootDirect)).toFixed(2),
    rounds: ROUNDS,
  };

  const result = { machine: m, iterations: ITERATIONS, rounds: ROUNDS, perOp, wineboot };
  const us = (ns: number) => (ns / 1000).toFixed(1);
  const md = [
    '# Proxy overhead benchmark',
    '',
    machineLine(m),
    '',
    `\`fixtures/corpus/bin/bench.exe ${ITERATIONS}\` times each wineserver-bound call inside the Windows program (QueryPerformanceCounter, 100 ns resolution). It ran ${ROUNDS} times directly and ${ROUNDS} times through \`winekernel run\` (recording off), alternating, each in a fresh copy of the template prefix; the table gives the median over rounds of each run's p50 and p99.`,
    '',
    '| operation (request) | direct p50 µs | proxied p50 µs | p50 ratio | direct p99 µs | proxied p99 µs | p99 ratio |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...perOp.map((o) => `| ${o.op} | ${us(o.directP50Ns)} | ${us(o.proxiedP50Ns)} | ${o.ratioP50} | ${us(o.directP99Ns)} | ${us(o.proxiedP99Ns)} | ${o.ratioP99} |`),
    '',
    `\`wineboot --init\` of a new prefix, until its wineserver exits (direct: \`wine wineboot --init && wineserver -w\`; proxied: \`winekernel run -- wine wineboot --init\`), median of ${ROUNDS}: direct ${wineboot.directMs} ms, proxied ${wineboot.proxiedMs} ms, ratio ${wineboot.ratio}.`,
    '',
    'Aims (issue 3): proxied p50 at most 2x direct; `wineboot --init` at most 1.3x. Regenerate with `npm run bench -- proxy-overhead`.',
    '',
  ].join('\n');
  return { path: writeReport('proxy-overhead', md, result), result };
}
