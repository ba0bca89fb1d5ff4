// Helpers shared by every test that runs real Wine programs.
//
// What they guarantee:
//  - Wine (Debian's wine64) is present, or the test fails with a clear
//    WineTestError('WINE_NOT_INSTALLED') instead of passing by accident;
//  - a template prefix is initialised once (`wineboot --init`, slow) and
//    cached per Wine version under /tmp; every test gets its own `cp -a` copy.
//    A copy has its own inode, and wineserver derives its socket directory
//    from the prefix's (device, inode), so each copy talks to its own
//    wineserver and tests cannot see each other's objects;
//  - programs run with a fixed environment (WINEDEBUG=-all unless overridden,
//    no mono/gecko prompts, no DISPLAY), optionally behind a launcher argv
//    prefix so the very same call runs a program directly or through the
//    winekernel proxy;
//  - no wineserver outlives its test: stopWineserver() asks it to quit, waits,
//    and SIGKILLs whatever is left; a process 'exit' hook does the same for
//    prefixes a crashed test forgot.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const WINE_LOADER = '/usr/bin/wine';
export const WINE64_BINARY = '/usr/lib/wine/wine64';
export const WINESERVER_BINARY = '/usr/lib/wine/wineserver64';

/** Disables the Mono and Gecko installers wineboot would otherwise offer. */
export const WINE_DLL_OVERRIDES = 'mscoree,mshtml=';

const TEMPLATE_ROOT = '/tmp/winekernel-test-prefix-template';
const PREFIX_COPIES_ROOT = '/tmp/winekernel-test-prefixes';
const TEMPLATE_BUILD_TIMEOUT_MS = 9 * 60_000;

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CORPUS_DIR = path.join(REPO_ROOT, 'fixtures', 'corpus');
export const CORPUS_BIN_DIR = path.join(CORPUS_DIR, 'bin');

export type WineTestErrorCode =
  | 'WINE_NOT_INSTALLED'
  | 'WINE_PREFIX_INIT_FAILED'
  | 'WINE_PROGRAM_SPAWN_FAILED'
  | 'WINE_PROGRAM_TIMEOUT'
  | 'WINESERVER_STOP_FAILED'
  | 'CORPUS_NOT_BUILT';

export class WineTestError extends Error {
  constructor(
    readonly code: WineTestErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(`${code}: ${message}`);
    this.name = 'WineTestError';
  }
}

// ---------------------------------------------------------------------------
// Installation

export interface WineInstallation {
  /** e.g. "wine-8.0 (Debian 8.0~repack-4)" */
  version: string;
  loader: string;
  wineserver: string;
}

let cachedInstallation: WineInstallation | undefined;

/** Checks that wine64 and wineserver64 are installed; throws WINE_NOT_INSTALLED otherwise. */
export function ensureWineInstalled(): WineInstallation {
  if (cachedInstallation) return cachedInstallation;
  const missing = [WINE_LOADER, WINE64_BINARY, WINESERVER_BINARY].filter((p) => !isExecutable(p));
  if (missing.length > 0) {
    throw new WineTestError(
      'WINE_NOT_INSTALLED',
      `Wine is required for this test but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing. ` +
        'Install it with: apt-get install -y wine64 (Debian 12 ships Wine 8.0).',
      { missing },
    );
  }
  // WINEDEBUG=-all keeps Debian's wrapper from printing its "wine32 is missing" hint.
  const res = spawnSync(WINE_LOADER, ['--version'], {
    env: { ...process.env, WINEDEBUG: '-all' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const version = (res.stdout ?? '').trim();
  if (res.status !== 0 || !version.startsWith('wine-')) {
    throw new WineTestError('WINE_NOT_INSTALLED', `'wine --version' failed: ${res.stderr || res.error?.message}`);
  }
  cachedInstallation = { version, loader: WINE_LOADER, wineserver: WINESERVER_BINARY };
  return cachedInstallation;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// Environment

/**
 * The environment every Wine process in the tests runs with. `overrides`
 * wins; an override set to undefined removes the variable.
 */
export function wineEnv(prefix: string, overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // No X server: keep Wine from trying to open windows.
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  // A stray WINESERVER or WINELOADER from the caller's shell would silently
  // change which binaries the tests exercise.
  delete env.WINESERVER;
  delete env.WINELOADER;
  env.WINEPREFIX = prefix;
  env.WINEDEBUG = '-all';
  env.WINEDLLOVERRIDES = WINE_DLL_OVERRIDES;
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

// ---------------------------------------------------------------------------
// Prefixes

function versionSlug(version: string): string {
  return version.replace(/[^A-Za-z0-9.~+-]+/g, '_');
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Returns the path of the template prefix for the installed Wine version,
 * creating it (`wineboot --init`, tens of seconds) if no earlier run did.
 * Concurrent test workers serialise on a lock directory; a lock left by a
 * dead process is taken over.
 */
export async function ensureTemplatePrefix(): Promise<string> {
  const { version } = ensureWineInstalled();
  const root = path.join(TEMPLATE_ROOT, versionSlug(version));
  const prefix = path.join(root, 'prefix');
  const readyMarker = path.join(root, 'READY');
  const lockDir = path.join(root, 'lock');
  fs.mkdirSync(root, { recursive: true });

  // READY is written last; a template someone partly deleted is rebuilt.
  const isReady = () => fs.existsSync(readyMarker) && fs.existsSync(path.join(prefix, 'system.reg'));
  const deadline = Date.now() + TEMPLATE_BUILD_TIMEOUT_MS;
  for (;;) {
    if (isReady()) return prefix;
    if (tryTakeLock(lockDir)) break;
    if (Date.now() > deadline) {
      throw new WineTestError('WINE_PREFIX_INIT_FAILED', `timed out waiting for another process to build ${prefix}`);
    }
    await sleep(500);
  }

  try {
    if (isReady()) return prefix;
    fs.rmSync(readyMarker, { force: true });
    await buildTemplatePrefix(root, prefix);
    fs.writeFileSync(readyMarker, `${version}\n`);
    return prefix;
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

function tryTakeLock(lockDir: string): boolean {
  try {
    fs.mkdirSync(lockDir);
    fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  let owner = NaN;
  try {
    owner = Number(fs.readFileSync(path.join(lockDir, 'pid'), 'utf8'));
  } catch {
    // The owner may not have written its pid yet; treat as alive this round.
    return false;
  }
  if (Number.isInteger(owner) && !processAlive(owner)) {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
  return false;
}

async function buildTemplatePrefix(root: string, prefix: string): Promise<void> {
  const building = path.join(root, `building-${process.pid}`);
  fs.rmSync(building, { recursive: true, force: true });
  fs.rmSync(prefix, { recursive: true, force: true });
  const result = await runWineProgram({ prefix: building, exe: 'wineboot', args: ['--init'], timeoutMs: 5 * 60_000 });
  if (result.exitCode !== 0) {
    throw new WineTestError('WINE_PREFIX_INIT_FAILED', `wineboot --init exited with ${result.exitCode}: ${result.stderr}`);
  }
  // wineboot returns before wineserver has flushed the registry to disk; the
  // template must be complete before anyone copies it.
  await stopWineserver(building, { kill: false });
  if (!fs.existsSync(path.join(building, 'system.reg'))) {
    throw new WineTestError('WINE_PREFIX_INIT_FAILED', `wineboot --init left no system.reg in ${building}`);
  }
  forgetServerDirRecord(building);
  fs.renameSync(building, prefix);
}

/**
 * Debian's Wine keeps wineserver's socket directory under a random
 * /tmp/wine-XXXXXX and records that name in <prefix>/wineserver. A copied
 * prefix must not share the template's record, so the record (and the
 * directory it names) is dropped; Wine creates a new one on first use.
 */
function forgetServerDirRecord(prefix: string): void {
  const record = path.join(prefix, 'wineserver');
  const tmpName = readServerDirRecord(prefix);
  if (tmpName) fs.rmSync(path.join('/tmp', tmpName), { recursive: true, force: true });
  fs.rmSync(record, { force: true });
}

function readServerDirRecord(prefix: string): string | undefined {
  try {
    const name = fs.readFileSync(path.join(prefix, 'wineserver'), 'utf8').trim();
    // Only trust a plain directory name: this is joined under /tmp and removed.
    return /^wine-[A-Za-z0-9]+$/.test(name) ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The directory holding wineserver's socket (and lock) for `prefix`:
 * `<tmp>/server-<dev hex>-<inode hex>`, where <tmp> is Debian's recorded
 * /tmp/wine-XXXXXX if present, else upstream's /tmp/.wine-<uid>. Undefined
 * while no Wine process has used the prefix yet (Debian layout) or the
 * prefix does not exist.
 */
export function wineserverDir(prefix: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(prefix);
  } catch {
    return undefined;
  }
  const leaf = `server-${st.dev.toString(16)}-${st.ino.toString(16)}`;
  const tmpName = readServerDirRecord(prefix);
  if (tmpName) return path.join('/tmp', tmpName, leaf);
  const uid = process.getuid?.() ?? 0;
  const upstream = path.join(`/tmp/.wine-${uid}`, leaf);
  return fs.existsSync(upstream) ? upstream : undefined;
}

/** Path of wineserver's unix socket for `prefix` (it may not exist yet). */
export function wineserverSocketPath(prefix: string): string | undefined {
  const dir = wineserverDir(prefix);
  return dir ? path.join(dir, 'socket') : undefined;
}

const livePrefixCopies = new Set<string>();

/**
 * A fresh, private copy of the template prefix. Remove it with
 * removeTestPrefix() (which also stops its wineserver).
 */
export async function createTestPrefix(label = 'test'): Promise<string> {
  const template = await ensureTemplatePrefix();
  fs.mkdirSync(PREFIX_COPIES_ROOT, { recursive: true });
  sweepAbandonedPrefixCopies();
  const safeLabel = label.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 40);
  const copy = path.join(PREFIX_COPIES_ROOT, `p${process.pid}-${safeLabel}-${randomBytes(4).toString('hex')}`);
  const res = spawnSync('cp', ['-a', template, copy], { encoding: 'utf8' });
  if (res.status !== 0) {
    fs.rmSync(copy, { recursive: true, force: true });
    throw new WineTestError('WINE_PREFIX_INIT_FAILED', `cp -a ${template} ${copy} failed: ${res.stderr}`);
  }
  forgetServerDirRecord(copy);
  livePrefixCopies.add(copy);
  return copy;
}

/** Stops the prefix's wineserver and deletes the copy (and its socket directory). */
export async function removeTestPrefix(prefix: string): Promise<void> {
  await stopWineserver(prefix);
  forgetServerDirRecord(prefix);
  fs.rmSync(prefix, { recursive: true, force: true });
  livePrefixCopies.delete(prefix);
}

/** Copies whose creating process died (crashed test run) are stopped and deleted. */
function sweepAbandonedPrefixCopies(): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(PREFIX_COPIES_ROOT);
  } catch {
    return;
  }
  for (const entry of entries) {
    const owner = Number(/^p(\d+)-/.exec(entry)?.[1]);
    if (!Number.isInteger(owner) || owner === process.pid || processAlive(owner)) continue;
    const copy = path.join(PREFIX_COPIES_ROOT, entry);
    killWineserversSync(copy);
    forgetServerDirRecord(copy);
    fs.rmSync(copy, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// wineserver lifetime

/**
 * Pids of wineserver processes serving `prefix`, found through /proc: a
 * wineserver's cwd is its socket directory and its environment carries the
 * WINEPREFIX it was started for. Both are checked so a server started by a
 * proxy with an unusual layout is still found.
 */
export function wineserverPidsForPrefix(prefix: string): number[] {
  const serverDir = wineserverDir(prefix);
  const resolvedPrefix = path.resolve(prefix);
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const exe = fs.readlinkSync(`/proc/${pid}/exe`);
      if (!path.basename(exe).startsWith('wineserver')) continue;
      const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      const environ = fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      const envPrefix = environ.find((kv) => kv.startsWith('WINEPREFIX='))?.slice('WINEPREFIX='.length);
      if ((serverDir && cwd === serverDir) || (envPrefix && path.resolve(envPrefix) === resolvedPrefix)) pids.push(pid);
    } catch {
      // The process went away or is not ours to inspect.
    }
  }
  return pids;
}

function killWineserversSync(prefix: string): void {
  for (const pid of wineserverPidsForPrefix(prefix)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

export interface StopWineserverOptions {
  /** How long to wait for a clean exit before SIGKILL. */
  timeoutMs?: number;
  /**
   * true (default): `wineserver -k`, which kills every Wine process of the
   * prefix. false: only wait for the server to exit on its own after its
   * last client (used to let wineboot finish writing the registry).
   */
  kill?: boolean;
  /** Extra environment for the wineserver invocation. */
  env?: Record<string, string | undefined>;
}

/**
 * Stops the wineserver of `prefix` and waits until no wineserver for it is
 * left. Throws WINESERVER_STOP_FAILED if one survives even SIGKILL.
 */
export async function stopWineserver(prefix: string, options: StopWineserverOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const kill = options.kill ?? true;
  const deadline = Date.now() + timeoutMs;
  if (wineserverPidsForPrefix(prefix).length === 0) return;

  const env = wineEnv(prefix, options.env);
  await runCommand(WINESERVER_BINARY, [kill ? '-k' : '-w'], env, timeoutMs);
  while (wineserverPidsForPrefix(prefix).length > 0 && Date.now() < deadline) await sleep(50);

  const survivors = wineserverPidsForPrefix(prefix);
  if (survivors.length === 0) return;
  killWineserversSync(prefix);
  const killDeadline = Date.now() + 5_000;
  while (wineserverPidsForPrefix(prefix).length > 0 && Date.now() < killDeadline) await sleep(50);
  const stubborn = wineserverPidsForPrefix(prefix);
  if (stubborn.length > 0) {
    throw new WineTestError('WINESERVER_STOP_FAILED', `wineserver pids ${stubborn.join(', ')} for ${prefix} survived SIGKILL`);
  }
}

function runCommand(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

// Last line of defence: a test that threw before its cleanup must not leave
// wineservers (and 700 MB prefix copies) behind.
process.on('exit', () => {
  for (const copy of livePrefixCopies) {
    try {
      killWineserversSync(copy);
      forgetServerDirRecord(copy);
      fs.rmSync(copy, { recursive: true, force: true });
    } catch {
      // Best effort while exiting.
    }
  }
});

// ---------------------------------------------------------------------------
// Running programs

export interface RunWineProgramOptions {
  prefix: string;
  /** A unix path to an .exe, or a program Wine finds itself (cmd, reg, wineboot). */
  exe: string;
  args?: string[];
  /** Added to wineEnv(prefix); undefined values remove a variable. */
  env?: Record<string, string | undefined>;
  /** Default 60 s. On expiry the whole process group is killed and WINE_PROGRAM_TIMEOUT thrown. */
  timeoutMs?: number;
  /**
   * argv prefix placed before `wine exe args`, e.g.
   * ['node', 'bin/winekernel.js', 'run', '--prefix', P, '--'] to run through the proxy.
   */
  launcher?: string[];
  cwd?: string;
  /**
   * Sent to the launcher (not its children) when the program times out, a
   * second before the process group is killed: `winekernel run` logs its
   * state dump on SIGUSR2, and the dump ends up in the timeout error.
   * Default: SIGUSR2 when the launcher runs bin/winekernel.js, else none.
   */
  stateSignalOnTimeout?: NodeJS.Signals;
}

/** How long a launcher has to write its state dump before the kill. */
const STATE_DUMP_GRACE_MS = 1000;

/** The end of a long text, for error messages. */
function tail(text: string, chars: number): string {
  return text.length <= chars ? text : `[...]${text.slice(-chars)}`;
}

export interface WineRunResult {
  /** Program stdout with CRLF normalised to LF. */
  stdout: string;
  /** stderr with CRLF normalised to LF (Wine's own messages end up here too). */
  stderr: string;
  /** Exit status (Windows exit codes are truncated to 8 bits by the unix exit status); null if killed by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The argv that was run. */
  argv: string[];
}

/**
 * Runs a Windows program under Wine (directly, or behind `launcher`).
 *
 * Output goes to temporary files rather than pipes: wineserver and Wine's
 * helper processes (services.exe, winedevice.exe, ...) inherit the stderr of
 * whoever started them and outlive the program, so a pipe would not reach EOF
 * when the program exits. Reading the files once the program has exited
 * gives exactly what it wrote, without waiting on unrelated processes.
 */
export async function runWineProgram(options: RunWineProgramOptions): Promise<WineRunResult> {
  ensureWineInstalled();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const argv = [...(options.launcher ?? []), WINE_LOADER, options.exe, ...(options.args ?? [])];
  const stateSignal = options.stateSignalOnTimeout ?? (options.launcher?.some((arg) => arg.endsWith(path.join('bin', 'winekernel.js'))) ? 'SIGUSR2' : undefined);
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'winekernel-run-'));
  const stdoutFile = path.join(outDir, 'stdout');
  const stderrFile = path.join(outDir, 'stderr');
  const stdoutFd = fs.openSync(stdoutFile, 'w');
  const stderrFd = fs.openSync(stderrFile, 'w');

  const readOutput = () => ({
    stdout: fs.readFileSync(stdoutFile, 'utf8').replace(/\r\n/g, '\n'),
    stderr: fs.readFileSync(stderrFile, 'utf8').replace(/\r\n/g, '\n'),
  });

  try {
    const { code, signal, timedOut } = await new Promise<{
      code: number | null;
      signal: NodeJS.Signals | null;
      timedOut: boolean;
    }>((resolve, reject) => {
      let child;
      try {
        child = spawn(argv[0], argv.slice(1), {
          env: wineEnv(options.prefix, options.env),
          cwd: options.cwd ?? REPO_ROOT,
          stdio: ['ignore', stdoutFd, stderrFd],
          // Own process group, so a timeout can kill the program and its children.
          detached: true,
        });
      } catch (err) {
        reject(new WineTestError('WINE_PROGRAM_SPAWN_FAILED', `cannot start ${argv[0]}: ${(err as Error).message}`));
        return;
      }
      let timedOut = false;
      const killGroup = () => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      };
      let graceTimer: NodeJS.Timeout | null = null;
      const timer = setTimeout(() => {
        timedOut = true;
        if (!stateSignal) return killGroup();
        child.kill(stateSignal);
        graceTimer = setTimeout(killGroup, STATE_DUMP_GRACE_MS);
      }, timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(new WineTestError('WINE_PROGRAM_SPAWN_FAILED', `cannot start ${argv[0]}: ${err.message}`, { argv }));
      });
      child.on('exit', (exitCode, exitSignal) => {
        clearTimeout(timer);
        if (graceTimer) {
          // The launcher is gone; what it started may not be.
          clearTimeout(graceTimer);
          killGroup();
        }
        resolve({ code: exitCode, signal: exitSignal, timedOut });
      });
    });
    const output = readOutput();
    if (timedOut) {
      throw new WineTestError('WINE_PROGRAM_TIMEOUT', `${argv.join(' ')} did not finish within ${timeoutMs} ms\n--- stdout (end) ---\n${tail(output.stdout, 1500)}\n--- stderr (end) ---\n${tail(output.stderr, 20000)}`, {
        argv,
        ...output,
      });
    }
    return { ...output, exitCode: code, signal, argv };
  } finally {
    fs.closeSync(stdoutFd);
    fs.closeSync(stderrFd);
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// Corpus

/** Names of the corpus programs that have expected output (fixtures/corpus/expected/NAME.txt). */
export function corpusProgramNames(): string[] {
  return fs
    .readdirSync(path.join(CORPUS_DIR, 'expected'))
    .filter((f) => f.endsWith('.txt'))
    .map((f) => f.slice(0, -'.txt'.length))
    .sort();
}

/** Path of a built corpus program; throws CORPUS_NOT_BUILT if scripts/build-corpus.sh has not produced it. */
export function corpusExe(name: string): string {
  const exe = path.join(CORPUS_BIN_DIR, `${name}.exe`);
  if (!fs.existsSync(exe)) {
    throw new WineTestError('CORPUS_NOT_BUILT', `${exe} is missing; run scripts/build-corpus.sh`, { exe });
  }
  return exe;
}

/** Builds the corpus (idempotent, quick when up to date). Throws with the script's output on failure. */
export function buildCorpus(): void {
  const res = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'build-corpus.sh')], {
    encoding: 'utf8',
    timeout: 9 * 60_000,
  });
  if (res.status !== 0) {
    throw new WineTestError('CORPUS_NOT_BUILT', `scripts/build-corpus.sh failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
  }
}

/** Expected stdout of a corpus program. */
export function corpusExpected(name: string): string {
  return fs.readFileSync(path.join(CORPUS_DIR, 'expected', `${name}.txt`), 'utf8');
}

// ---------------------------------------------------------------------------
// +server traces

/**
 * Request names (with counts) issued by one program in a WINEDEBUG=+server
 * trace, including the threads and child processes it creates. Wine's own
 * helper processes (wineboot, services.exe, explorer, ...) share the trace
 * and are excluded. The trace must come from a wineserver session in which
 * the program was the only process started from unix (the case for a fresh
 * prefix; Wine's helpers are all started through new_process).
 *
 * Attribution:
 *  - the process started from unix is the one whose init_first_thread reply
 *    carries no startup info (info_size=0);
 *  - a process whose get_startup_info reply names an image ending in
 *    `\<exeName>` is ours;
 *  - a thread created (new_thread reply) by one of our threads is ours.
 * A process's first thread is counted only from its init_process_done on,
 * so DLL loading and Wine's boot sequence (run_wineboot) are not counted:
 * what remains is what the program's own code asks for.
 */
export function requestsOfProgram(trace: string, exeName: string): Map<string, number> {
  /** tid -> counting enabled */
  const ours = new Map<string, boolean>();
  const counts = new Map<string, number>();
  const imageSuffix = `\\${exeName.toLowerCase()}`;
  const requestLine = /^([0-9a-f]{4,8}): ([a-z_0-9]+)\( /;
  const replyLine = /^([0-9a-f]{4,8}): ([a-z_0-9]+)\(\) = /;
  for (const line of trace.split('\n')) {
    const reply = replyLine.exec(line);
    if (reply) {
      const [, tid, name] = reply;
      if (name === 'init_first_thread' && /\binfo_size=0\b/.test(line)) {
        ours.set(tid, false);
      } else if (name === 'get_startup_info') {
        const image = /imagepath=L"([^"]*)"/.exec(line)?.[1]?.toLowerCase();
        if (image?.endsWith(imageSuffix) && !ours.has(tid)) ours.set(tid, false);
      } else if (name === 'init_process_done' && ours.has(tid)) {
        ours.set(tid, true);
      } else if (name === 'new_thread' && ours.get(tid)) {
        const child = /\btid=([0-9a-f]+)/.exec(line)?.[1];
        if (child) ours.set(child, true);
      }
      continue;
    }
    const request = requestLine.exec(line);
    if (!request) continue;
    const [, tid, name] = request;
    if (name === 'init_first_thread' && ours.has(tid)) {
      // First thread of a new process of ours: skip its start-up until init_process_done.
      ours.set(tid, false);
      continue;
    }
    if (ours.get(tid)) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

/** The request names a corpus program claims to produce: its source's `Requests:` comment line. */
export function claimedRequests(name: string): string[] {
  const source = fs.readFileSync(path.join(CORPUS_DIR, 'src', `${name}.c`), 'utf8');
  const line = /^\s*\*\s*Requests:(.*)$/m.exec(source);
  return line ? line[1].trim().split(/\s+/).filter(Boolean) : [];
}
