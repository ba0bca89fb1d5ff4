// Starting the proxy the two ways a user does (`winekernel run`, `winekernel
// serve`) from tests, and measuring a proxy process from the outside.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import {
  buildCorpus,
  corpusExe,
  corpusExpected,
  createTestPrefix,
  ensureTemplatePrefix,
  ensureWineInstalled,
  removeTestPrefix,
  REPO_ROOT,
  runWineProgram,
  stopWineserver,
  wineEnv,
} from '../support/wine.js';

export const WINEKERNEL = path.join(REPO_ROOT, 'bin', 'winekernel.js');

/** argv prefix that runs a wine command through `winekernel run`. */
export function runLauncher(prefix: string, extra: string[] = []): string[] {
  return [process.execPath, WINEKERNEL, 'run', '--prefix', prefix, ...extra, '--'];
}

export interface ServeHandle {
  pid: number;
  socketPath: string;
  child: ChildProcess;
  stderr(): string;
  /** SIGTERM, then the exit status. */
  stop(): Promise<number | null>;
}

/** Starts `winekernel serve` and waits until it serves. */
export async function startServe(prefix: string, extra: string[] = [], timeoutMs = 30_000): Promise<ServeHandle> {
  let stderr = '';
  const child = spawn(process.execPath, [WINEKERNEL, 'serve', '--prefix', prefix, ...extra], {
    cwd: REPO_ROOT,
    env: wineEnv(prefix),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const socketPath = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`winekernel serve did not start in time:\n${stderr}`)), timeoutMs);
    const check = () => {
      const match = /serving .* at (\S+) \(pid/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        child.stderr!.off('data', check);
        resolve(match[1]);
      }
    };
    child.stderr!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`winekernel serve exited (${code}) before serving:\n${stderr}`));
    });
  });
  return {
    pid: child.pid!,
    socketPath,
    child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs `winekernel <args>` to completion. */
export async function winekernel(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [WINEKERNEL, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  return { code, stdout, stderr };
}

export function openFdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

export function rssKb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

/** Children of `pid` (from /proc). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

export function processName(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns true or `timeoutMs` passes. */
export async function eventually(probe: () => boolean, timeoutMs: number, stepMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (probe()) return true;
    await sleep(stepMs);
  }
  return probe();
}

/**
 * Waits (up to 10 s) until process `pid` holds no more descriptors than
 * `baseline`, then returns how many it holds: a leak shows as a count above
 * the baseline once the wait is over.
 */
export async function fdsBackToBaseline(pid: number, baseline: number): Promise<number> {
  await eventually(() => openFdCount(pid) <= baseline, 10_000);
  return openFdCount(pid);
}

/**
 * The set-up every test file that runs corpus programs through the proxy
 * shares: Wine, the corpus and the template prefix ready before the first
 * test; prefixes made with `fresh(label)` stopped and removed after each
 * test; `work`, a scratch directory for recordings. Call at module level.
 */
export function useCorpusPrefixes(name: string): { fresh(label: string): Promise<string>; work: string } {
  const prefixes: string[] = [];
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `wk-${name}-`));
  beforeAll(async () => {
    ensureWineInstalled();
    buildCorpus();
    await ensureTemplatePrefix();
  }, 600_000);
  afterEach(async () => {
    while (prefixes.length) {
      const prefix = prefixes.pop()!;
      await stopWineserver(prefix);
      await removeTestPrefix(prefix);
    }
  }, 120_000);
  return {
    work,
    async fresh(label: string) {
      const prefix = await createTestPrefix(`${name}-${label}`);
      prefixes.push(prefix);
      return prefix;
    },
  };
}

/**
 * A corpus program run twice on one prefix: under plain Wine (its output
 * must be the expected one, status 0), then through `winekernel run
 * --translate --record`, whose output and status must equal the plain
 * run's. Returns the recording's path for the test's routing checks.
 */
export async function corpusDirectThenTranslated(prefix: string, name: string, work: string): Promise<string> {
  const direct = await runWineProgram({ prefix, exe: corpusExe(name), timeoutMs: 120_000 });
  expect(direct.stdout).toBe(corpusExpected(name));
  expect(direct.exitCode).toBe(0);
  await stopWineserver(prefix);
  const record = path.join(work, `${name}.wkrec`);
  const translated = await runWineProgram({ prefix, exe: corpusExe(name), launcher: runLauncher(prefix, ['--translate', '--record', record]), timeoutMs: 180_000 });
  expect(translated.stdout).toBe(direct.stdout);
  expect(translated.exitCode).toBe(direct.exitCode);
  return record;
}

/**
 * One serving proxy for a test file that drives it with raw clients: a
 * fresh prefix and `winekernel serve ARGS` started before the first test,
 * `warmUp` run once (lazy paths taken, so they do not count as leaks), the
 * proxy's descriptor count taken as the baseline; stopped and removed after
 * the last test. Call at module level.
 */
export function useServedPrefix(label: string, args: string[], warmUp: (serve: ServeHandle) => void): { serve(): ServeHandle; baselineFds(): number; prefix(): string } {
  let prefix: string | undefined;
  let serve: ServeHandle | undefined;
  let baseline = 0;
  beforeAll(async () => {
    ensureWineInstalled();
    await ensureTemplatePrefix();
    prefix = await createTestPrefix(label);
    serve = await startServe(prefix, args);
    warmUp(serve);
    await sleep(500);
    baseline = openFdCount(serve.pid);
  }, 600_000);
  afterAll(async () => {
    if (serve) await serve.stop();
    if (prefix) await removeTestPrefix(prefix);
  }, 120_000);
  return {
    serve: () => serve!,
    baselineFds: () => baseline,
    prefix: () => prefix!,
  };
}
