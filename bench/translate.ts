// Translation benchmarks:
//  1. replay throughput: every translated request of the committed fixtures
//     answered again by the translators on the in-process backend and
//     compared (mappings/replay.ts), in requests per second;
//  2. live latency: fixtures/corpus/bin/bench.exe (p50/p99 per operation,
//     timed inside the Windows program) run directly on wineserver, through
//     the proxy forwarding everything (`run`), and through the proxy
//     answering the registry itself (`run --translate`), side by side in one
//     run. reg_open_key / reg_close_key are the translated operations
//     (open_key, close_handle of a proxy key handle); the others are
//     forwarded in both proxy columns and show the relay's own cost.

import fs from 'node:fs';
import path from 'node:path';
import { createInProcessBackend } from '../backends/inprocess/index.ts';
import { findStartingHives, replayRecording } from '../mappings/replay.ts';
import { readRecording } from '../proxy/recording/reader.ts';
import { loadProtocol } from '../requests/protocol.ts';
import { runLauncher } from '../test/proxy/harness.ts';
import { corpusExe, createTestPrefix, ensureTemplatePrefix, removeTestPrefix, runWineProgram, stopWineserver, REPO_ROOT } from '../test/support/wine.ts';
import { machine, machineLine, median, writeReport } from './harness.ts';

interface BenchOps {
  ops: Record<string, { count: number; p50_ns: number; p99_ns: number }>;
}

async function replayThroughput() {
  const dir = path.join(REPO_ROOT, 'fixtures/recordings');
  const protocol = loadProtocol('wine-8.0');
  const rows = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.wkrec.gz')).sort()) {
    const full = path.join(dir, file);
    const recording = readRecording(full);
    const hives = findStartingHives(full, recording)?.hives ?? null;
    const rates: number[] = [];
    let replayed = 0;
    let matched = 0;
    for (let round = 0; round < 3; round++) {
      const report = await replayRecording(recording, { protocol, backend: createInProcessBackend(), hives });
      // elapsedMs includes loading the registry snapshot; the rate is of the whole replay.
      rates.push(report.replayed / (report.elapsedMs / 1000));
      replayed = report.replayed;
      matched = report.matched;
    }
    rows.push({ fixture: file, replayed, matched, requestsPerSec: Math.round(median(rates)) });
  }
  return rows;
}

async function benchExe(prefix: string, launcher: string[] | undefined, iterations: number): Promise<BenchOps> {
  const result = await runWineProgram({ prefix, exe: corpusExe('bench'), args: [String(iterations)], launcher, timeoutMs: 300_000 });
  const line = result.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`bench.exe printed no JSON (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr.slice(-2000)}`);
  if (!launcher) await stopWineserver(prefix);
  return JSON.parse(line) as BenchOps;
}

async function liveLatency(iterations = 2000) {
  await ensureTemplatePrefix();
  const prefix = await createTestPrefix('bench-translate');
  try {
    // Interleaved rounds, so the three columns see the same machine conditions.
    const columns: Record<string, BenchOps[]> = { direct: [], proxy: [], translate: [] };
    for (let round = 0; round < 2; round++) {
      columns.direct.push(await benchExe(prefix, undefined, iterations));
      columns.proxy.push(await benchExe(prefix, runLauncher(prefix), iterations));
      columns.translate.push(await benchExe(prefix, runLauncher(prefix, ['--translate']), iterations));
    }
    const ops = Object.keys(columns.direct[0].ops);
    return ops.map((op) => {
      const pick = (c: string, k: 'p50_ns' | 'p99_ns') => Math.round(median(columns[c].map((r) => r.ops[op][k])));
      return {
        op,
        translated: op.startsWith('reg_'),
        directP50: pick('direct', 'p50_ns'),
        directP99: pick('direct', 'p99_ns'),
        proxyP50: pick('proxy', 'p50_ns'),
        proxyP99: pick('proxy', 'p99_ns'),
        translateP50: pick('translate', 'p50_ns'),
        translateP99: pick('translate', 'p99_ns'),
      };
    });
  } finally {
    await stopWineserver(prefix);
    await removeTestPrefix(prefix);
  }
}

export async function run(): Promise<{ path: string; result: unknown }> {
  const m = machine();
  const replay = await replayThroughput();
  const live = await liveLatency();
  const result = { machine: m, replay, live };
  const us = (ns: number) => (ns / 1000).toFixed(1);
  const md = [
    '# Translation benchmark',
    '',
    machineLine(m),
    '',
    '## Replay throughput (in-process backend)',
    '',
    'Every translated request of each committed fixture answered again by the translators and compared with the recorded reply (`winekernel replay`; includes loading the registry snapshot).',
    '',
    '| fixture | requests replayed | matched | requests/s |',
    '| --- | ---: | ---: | ---: |',
    ...replay.map((r) => `| ${r.fixture} | ${r.replayed} | ${r.matched} | ${r.requestsPerSec.toLocaleString('en')} |`),
    '',
    '## Live latency: bench.exe (µs per call, p50 / p99)',
    '',
    'direct: plain wine on wineserver; proxy: `winekernel run` forwarding everything; translate: `winekernel run --translate` (registry answered by the proxy). Only the `reg_*` operations are translated; the rest are forwarded in both proxy columns.',
    '',
    '| operation | translated | direct | proxy | translate |',
    '| --- | :---: | ---: | ---: | ---: |',
    ...live.map((r) => `| ${r.op} | ${r.translated ? 'yes' : 'no'} | ${us(r.directP50)} / ${us(r.directP99)} | ${us(r.proxyP50)} / ${us(r.proxyP99)} | ${us(r.translateP50)} / ${us(r.translateP99)} |`),
    '',
    'Regenerate with `npm run bench -- translate`.',
    '',
  ].join('\n');
  return { path: writeReport('translate', md, result), result };
}
