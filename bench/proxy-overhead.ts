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
import { machine, machineLine, median, runLauncher, writeReport } from './harness.ts';

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

/** The ratios of a recording: what the next one is set against. */
interface Recorded {
  machine: { date: string };
  perOp: Array<{ ratioP50: number; ratioP99: number }>;
  wineboot: { ratio: number };
}

const range = (values: number[]) => `${Math.min(...values)}–${Math.max(...values)}`;

/** The previous recording's ratios in one sentence (read before this run overwrites it), or nothing. */
function previousRecording(): string {
  let previous: Recorded;
  try {
    previous = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'docs', 'benchmarks', 'proxy-overhead.json'), 'utf8')) as Recorded;
  } catch {
    return '';
  }
  return (
    ` The previous recording (${previous.machine.date.slice(0, 16).replace('T', ' ')} UTC) had p50 ratios ${range(previous.perOp.map((o) => o.ratioP50))}, p99 ratios ${range(previous.perOp.map((o) => o.ratioP99))} and \`wineboot --init\` ${previous.wineboot.ratio};` +
    ' direct and proxied columns of different runs on this machine move by tens of percent with the other engineers\' load, so a difference between recordings is not by itself a change of the proxy.'
  );
}

export async function run() {
  const m = machine();
  const loadAtStart = os.loadavg()[0];
  const previous = previousRecording();
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

  const load = { start: +loadAtStart.toFixed(2), end: +os.loadavg()[0].toFixed(2) };
  const result = { machine: m, load, iterations: ITERATIONS, rounds: ROUNDS, perOp, wineboot };
  const us = (ns: number) => (ns / 1000).toFixed(1);
  const p50Ratios = perOp.map((o) => o.ratioP50);
  const met = (ok: boolean) => (ok ? 'met in this run' : 'not met in this run');
  const md = [
    '# Proxy overhead benchmark',
    '',
    machineLine(m),
    `The run started at ${m.date.slice(11, 16)} UTC; the 1-minute load average was ${load.start} at its start and ${load.end} at its end (${m.cores} cores).`,
    '',
    `\`fixtures/corpus/bin/bench.exe ${ITERATIONS}\` times each wineserver-bound call inside the Windows program (QueryPerformanceCounter, 100 ns resolution). It ran ${ROUNDS} times directly and ${ROUNDS} times through \`winekernel run\` (recording off), alternating, each in a fresh copy of the template prefix; the table gives the median over rounds of each run's p50 and p99.`,
    '',
    '| operation (request) | direct p50 µs | proxied p50 µs | p50 ratio | direct p99 µs | proxied p99 µs | p99 ratio |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...perOp.map((o) => `| ${o.op} | ${us(o.directP50Ns)} | ${us(o.proxiedP50Ns)} | ${o.ratioP50} | ${us(o.directP99Ns)} | ${us(o.proxiedP99Ns)} | ${o.ratioP99} |`),
    '',
    `\`wineboot --init\` of a new prefix, until its wineserver exits (direct: \`wine wineboot --init && wineserver -w\`; proxied: \`winekernel run -- wine wineboot --init\`), median of ${ROUNDS}: direct ${wineboot.directMs} ms, proxied ${wineboot.proxiedMs} ms, ratio ${wineboot.ratio}.`,
    '',
    `Aims (issue 3): proxied p50 at most 2x direct (${range(p50Ratios)}: ${met(Math.max(...p50Ratios) <= 2)}); \`wineboot --init\` at most 1.3x (${wineboot.ratio}: ${met(wineboot.ratio <= 1.3)}).${previous}`,
    '',
    'Regenerate with `npm run bench -- proxy-overhead`.',
    '',
  ].join('\n');
  return { path: writeReport('proxy-overhead', md, result), result };
}
