// The Windows corpus run directly under real Wine 8 (no proxy): the baseline
// every proxied run must reproduce byte for byte. Also checks that each
// program really produces the wineserver requests it claims (its source's
// "Requests:" line), using a WINEDEBUG=+server trace, and that a few stock
// Wine tools (cmd, reg, wineboot on a brand-new prefix) work.
//
// Every test gets its own copy of the template prefix, hence its own
// wineserver, which is stopped (and checked gone) before the next test.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  buildCorpus,
  claimedRequests,
  corpusExe,
  corpusExpected,
  corpusProgramNames,
  createTestPrefix,
  ensureTemplatePrefix,
  ensureWineInstalled,
  removeTestPrefix,
  requestsOfProgram,
  runWineProgram,
  stopWineserver,
  WineTestError,
  wineserverDir,
  wineserverPidsForPrefix,
} from '../support/wine.js';

const PROGRAM_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = 180_000;

const prefixesToRemove: string[] = [];

async function freshPrefix(label: string): Promise<string> {
  const prefix = await createTestPrefix(label);
  prefixesToRemove.push(prefix);
  return prefix;
}

afterEach(async () => {
  while (prefixesToRemove.length > 0) {
    const prefix = prefixesToRemove.pop()!;
    await removeTestPrefix(prefix);
    expect(wineserverPidsForPrefix(prefix)).toEqual([]);
  }
});

beforeAll(async () => {
  ensureWineInstalled();
  buildCorpus();
  await ensureTemplatePrefix();
}, 600_000);

const programs = corpusProgramNames();

describe('corpus programs run directly under Wine', () => {
  it('has the expected set of programs', () => {
    expect(programs.length).toBeGreaterThanOrEqual(8);
    // Every source except the benchmark has an expected output.
    const sources = fs
      .readdirSync(path.join('fixtures', 'corpus', 'src'))
      .filter((f) => f.endsWith('.c') && f !== 'bench.c')
      .map((f) => f.slice(0, -2))
      .sort();
    expect(programs).toEqual(sources);
  });

  for (const name of programs) {
    it(
      `${name}.exe prints its expected output and exits 0`,
      async () => {
        const prefix = await freshPrefix(name);
        const result = await runWineProgram({ prefix, exe: corpusExe(name), timeoutMs: PROGRAM_TIMEOUT_MS });
        expect(result.stdout).toBe(corpusExpected(name));
        expect(result.exitCode).toBe(0);
      },
      TEST_TIMEOUT_MS,
    );
  }

  it(
    'bench.exe prints one JSON line with count, p50 and p99 per operation',
    async () => {
      const prefix = await freshPrefix('bench');
      const result = await runWineProgram({ prefix, exe: corpusExe('bench'), args: ['200'], timeoutMs: PROGRAM_TIMEOUT_MS });
      expect(result.exitCode).toBe(0);
      const lines = result.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const report = JSON.parse(lines[0]) as {
        iterations: number;
        ops: Record<string, { count: number; p50_ns: number; p99_ns: number; mean_ns: number; min_ns: number }>;
      };
      expect(report.iterations).toBe(200);
      expect(Object.keys(report.ops).sort()).toEqual(
        [
          'close_event',
          'global_add_atom',
          'global_delete_atom',
          'mutex_release',
          'mutex_wait',
          'open_event',
          'reg_close_key',
          'reg_open_key',
        ].sort(),
      );
      for (const [op, stats] of Object.entries(report.ops)) {
        expect(stats.count, op).toBe(200);
        expect(stats.p50_ns, op).toBeGreaterThan(0);
        expect(stats.p99_ns, op).toBeGreaterThanOrEqual(stats.p50_ns);
        expect(stats.min_ns, op).toBeLessThanOrEqual(stats.p50_ns);
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'bench.exe rejects a bad iteration count',
    async () => {
      const prefix = await freshPrefix('bench-bad');
      const result = await runWineProgram({ prefix, exe: corpusExe('bench'), args: ['0'], timeoutMs: PROGRAM_TIMEOUT_MS });
      expect(result.exitCode).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('usage: bench.exe');
    },
    TEST_TIMEOUT_MS,
  );
});

describe('corpus programs produce the wineserver requests they claim', () => {
  for (const name of [...programs, 'bench']) {
    it(
      `${name}.exe`,
      async () => {
        const claimed = claimedRequests(name);
        expect(claimed.length, `${name}.c has no "Requests:" line`).toBeGreaterThan(0);
        const prefix = await freshPrefix(`trace-${name}`);
        // The trace goes to the stderr of the process that starts wineserver:
        // in a fresh prefix, that is this run.
        const result = await runWineProgram({
          prefix,
          exe: corpusExe(name),
          args: name === 'bench' ? ['20'] : [],
          env: { WINEDEBUG: '+server' },
          timeoutMs: PROGRAM_TIMEOUT_MS,
        });
        expect(result.exitCode).toBe(0);
        const seen = requestsOfProgram(result.stderr, `${name}.exe`);
        const missing = claimed.filter((request) => !seen.has(request));
        expect(missing, `requests claimed by ${name}.c but absent from its +server trace`).toEqual([]);
      },
      TEST_TIMEOUT_MS,
    );
  }
});

describe('stock Wine programs run directly', () => {
  it(
    'cmd /c echo hello',
    async () => {
      const prefix = await freshPrefix('cmd');
      const result = await runWineProgram({ prefix, exe: 'cmd', args: ['/c', 'echo', 'hello'], timeoutMs: PROGRAM_TIMEOUT_MS });
      expect(result.stdout).toBe('hello\n');
      expect(result.exitCode).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'reg add then reg query on HKCU\\Software\\winekernel-test',
    async () => {
      const prefix = await freshPrefix('reg');
      const key = 'HKCU\\Software\\winekernel-test';
      const add = await runWineProgram({
        prefix,
        exe: 'reg',
        args: ['add', key, '/v', 'Greeting', '/t', 'REG_SZ', '/d', 'hello reg', '/f'],
        timeoutMs: PROGRAM_TIMEOUT_MS,
      });
      expect(add.stdout).toBe('reg: The operation completed successfully\n');
      expect(add.exitCode).toBe(0);
      const query = await runWineProgram({ prefix, exe: 'reg', args: ['query', key, '/v', 'Greeting'], timeoutMs: PROGRAM_TIMEOUT_MS });
      expect(query.stdout).toBe('\nHKEY_CURRENT_USER\\Software\\winekernel-test\n    Greeting    REG_SZ    hello reg\n\n');
      expect(query.exitCode).toBe(0);
      const missing = await runWineProgram({
        prefix,
        exe: 'reg',
        args: ['query', 'HKCU\\Software\\winekernel-test-missing'],
        timeoutMs: PROGRAM_TIMEOUT_MS,
      });
      expect(missing.exitCode).toBe(1);
      // The value survives a wineserver restart: it was saved to user.reg.
      await stopWineserver(prefix);
      const again = await runWineProgram({ prefix, exe: 'reg', args: ['query', key, '/v', 'Greeting'], timeoutMs: PROGRAM_TIMEOUT_MS });
      expect(again.stdout).toBe(query.stdout);
      expect(fs.readFileSync(path.join(prefix, 'user.reg'), 'utf8')).toContain('winekernel-test');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'wineboot --init creates a brand-new prefix',
    async () => {
      const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'winekernel-newprefix-'));
      const prefix = path.join(parent, 'prefix');
      try {
        const result = await runWineProgram({ prefix, exe: 'wineboot', args: ['--init'], timeoutMs: 300_000 });
        expect(result.exitCode).toBe(0);
        await stopWineserver(prefix, { kill: false });
        expect(wineserverPidsForPrefix(prefix)).toEqual([]);
        for (const file of ['system.reg', 'user.reg', 'userdef.reg', 'drive_c/windows/system32/kernel32.dll']) {
          expect(fs.existsSync(path.join(prefix, file)), file).toBe(true);
        }
        expect(fs.readlinkSync(path.join(prefix, 'dosdevices', 'c:'))).toBe('../drive_c');
      } finally {
        await removeTestPrefix(prefix);
        fs.rmSync(parent, { recursive: true, force: true });
      }
    },
    600_000,
  );
});

describe('test helpers', () => {
  it(
    'runWineProgram runs the program behind a launcher argv prefix',
    async () => {
      const prefix = await freshPrefix('launcher');
      const result = await runWineProgram({
        prefix,
        exe: 'cmd',
        args: ['/c', 'echo', '%WINEKERNEL_LAUNCHER_MARK%'],
        launcher: ['/usr/bin/env', 'WINEKERNEL_LAUNCHER_MARK=through-launcher'],
        timeoutMs: PROGRAM_TIMEOUT_MS,
      });
      expect(result.argv.slice(0, 3)).toEqual(['/usr/bin/env', 'WINEKERNEL_LAUNCHER_MARK=through-launcher', '/usr/bin/wine']);
      expect(result.stdout).toBe('through-launcher\n');
      expect(result.exitCode).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a program that overruns its timeout is killed with WINE_PROGRAM_TIMEOUT',
    async () => {
      const prefix = await freshPrefix('timeout');
      const started = Date.now();
      const error = await runWineProgram({ prefix, exe: corpusExe('processes'), args: ['sleep'], timeoutMs: 4_000 }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(WineTestError);
      expect((error as WineTestError).code).toBe('WINE_PROGRAM_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(9_000);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'prefix copies are isolated: separate wineservers, separate registries',
    async () => {
      const first = await freshPrefix('iso-a');
      const second = await freshPrefix('iso-b');
      const key = 'HKCU\\Software\\winekernel-isolation';
      const add = await runWineProgram({ prefix: first, exe: 'reg', args: ['add', key, '/f'], timeoutMs: PROGRAM_TIMEOUT_MS });
      expect(add.exitCode).toBe(0);
      const query = await runWineProgram({ prefix: second, exe: 'reg', args: ['query', key], timeoutMs: PROGRAM_TIMEOUT_MS });
      expect(query.exitCode).toBe(1);
      const [dirA, dirB] = [wineserverDir(first), wineserverDir(second)];
      expect(dirA).toBeDefined();
      expect(dirB).toBeDefined();
      expect(dirA).not.toBe(dirB);
      // Servers may already have exited (they linger ~3 s after the last
      // client); whichever are alive must belong to exactly one copy.
      const serversOfSecond = new Set(wineserverPidsForPrefix(second));
      for (const pid of wineserverPidsForPrefix(first)) expect(serversOfSecond.has(pid)).toBe(false);
    },
    TEST_TIMEOUT_MS,
  );
});
