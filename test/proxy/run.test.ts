// `winekernel run`: real Wine programs give the same output and exit status
// through the proxy as without it.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  buildCorpus,
  corpusExe,
  corpusExpected,
  corpusProgramNames,
  createTestPrefix,
  ensureTemplatePrefix,
  ensureWineInstalled,
  removeTestPrefix,
  runWineProgram,
  stopWineserver,
} from '../support/wine.js';
import { readRecording } from '../../proxy/recording/reader.ts';
import { RecordKind } from '../../proxy/recording/format.ts';
import { runLauncher, winekernel } from './harness.ts';

const prefixes: string[] = [];
async function freshPrefix(label: string): Promise<string> {
  const prefix = await createTestPrefix(`proxy-run-${label}`);
  prefixes.push(prefix);
  return prefix;
}

beforeAll(async () => {
  ensureWineInstalled();
  buildCorpus();
  await ensureTemplatePrefix();
}, 600_000);

afterEach(async () => {
  while (prefixes.length) await removeTestPrefix(prefixes.pop()!);
});

describe('winekernel run', () => {
  it('cmd /c echo hello: same output and status as plain wine, and records the traffic', async () => {
    const prefix = await freshPrefix('echo');
    const direct = await runWineProgram({ prefix, exe: 'cmd', args: ['/c', 'echo', 'hello'] });
    await stopWineserver(prefix);
    const record = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wk-rec-')), 'echo.wkrec');
    const proxied = await runWineProgram({ prefix, exe: 'cmd', args: ['/c', 'echo', 'hello'], launcher: runLauncher(prefix, ['--record', record]) });
    expect(direct.stdout).toBe('hello\n');
    expect(proxied.stdout).toBe(direct.stdout);
    expect(proxied.exitCode).toBe(direct.exitCode);

    const recording = readRecording(record);
    expect(recording.truncatedTail).toBe(false);
    expect(recording.header.protocolVersion).toBe(758);
    const kinds = (k: RecordKind) => recording.records.filter((r) => r.kind === k).length;
    expect(kinds(RecordKind.Request)).toBeGreaterThan(100);
    // Every request is answered, except at most one per thread: the request a
    // thread was blocked in when its process was terminated (wineserver never
    // replies to it). Each such request must be the thread's last record.
    const lastRequestOf = new Map<number, number>();
    const answered = new Set<number>();
    recording.records.forEach((r, i) => {
      if (r.kind === RecordKind.Request) lastRequestOf.set(r.threadKey, i);
      if (r.kind === RecordKind.Reply) answered.add(lastRequestOf.get(r.threadKey)!);
    });
    const requestIndexes = recording.records.flatMap((r, i) => (r.kind === RecordKind.Request ? [i] : []));
    const unanswered = requestIndexes.filter((i) => !answered.has(i));
    expect(unanswered.every((i) => lastRequestOf.get(recording.records[i].threadKey) === i)).toBe(true);
    expect(kinds(RecordKind.Reply)).toBe(kinds(RecordKind.Request) - unanswered.length);
    expect(unanswered.length).toBeLessThanOrEqual(kinds(RecordKind.ThreadOpen));
    expect(kinds(RecordKind.ConnectionOpen)).toBe(kinds(RecordKind.ConnectionClose));
    // Every request record names its thread and process once known.
    expect(recording.records.filter((r) => r.kind === RecordKind.Request && (!r.tid || !r.pid))).toEqual([]);
  }, 180_000);

  it('passes the exit status through (cmd /c exit 3)', async () => {
    const prefix = await freshPrefix('exit');
    const proxied = await runWineProgram({ prefix, exe: 'cmd', args: ['/c', 'exit', '3'], launcher: runLauncher(prefix) });
    expect(proxied.exitCode).toBe(3);
  }, 120_000);

  it('reg add then reg query in separate runs (the registry is saved by the private wineserver)', async () => {
    const prefix = await freshPrefix('reg');
    const key = 'HKCU\\Software\\WineKernelProxyTest';
    const add = await runWineProgram({ prefix, exe: 'reg', args: ['add', key, '/v', 'Answer', '/t', 'REG_SZ', '/d', 'forty-two', '/f'], launcher: runLauncher(prefix) });
    expect(add.exitCode).toBe(0);
    const proxied = await runWineProgram({ prefix, exe: 'reg', args: ['query', key, '/v', 'Answer'], launcher: runLauncher(prefix) });
    expect(proxied.exitCode).toBe(0);
    expect(proxied.stdout).toContain('forty-two');
    const direct = await runWineProgram({ prefix, exe: 'reg', args: ['query', key, '/v', 'Answer'] });
    expect(proxied.stdout).toBe(direct.stdout);
    expect(proxied.exitCode).toBe(direct.exitCode);
  }, 180_000);

  it('wineboot --init creates a brand-new prefix through the proxy', async () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'wk-newprefix-'));
    const prefix = path.join(parent, 'prefix');
    prefixes.push(prefix);
    const result = await runWineProgram({ prefix, exe: 'wineboot', args: ['--init'], launcher: runLauncher(prefix), timeoutMs: 400_000 });
    expect(result.exitCode).toBe(0);
    expect(fs.existsSync(path.join(prefix, 'system.reg'))).toBe(true);
    expect(fs.existsSync(path.join(prefix, 'drive_c', 'windows', 'system32'))).toBe(true);
    expect(fs.readFileSync(path.join(prefix, 'system.reg'), 'utf8')).toContain('Microsoft\\\\Windows NT\\\\CurrentVersion');
    const after = await runWineProgram({ prefix, exe: 'cmd', args: ['/c', 'echo', 'ready'] });
    expect(after.stdout).toBe('ready\n');
  }, 600_000);

  describe('corpus programs', () => {
    for (const name of corpusProgramNames()) {
      it(`${name}.exe: expected output and exit 0 through the proxy, like plain wine`, async () => {
        const prefix = await freshPrefix(name);
        const proxied = await runWineProgram({ prefix, exe: corpusExe(name), launcher: runLauncher(prefix), timeoutMs: 90_000 });
        expect(proxied.stdout).toBe(corpusExpected(name));
        expect(proxied.exitCode).toBe(0);
      }, 180_000);
    }
  });

  describe('clear errors', () => {
    it('no command', async () => {
      const result = await winekernel(['run', '--prefix', '/tmp/whatever', '--']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('no command given');
      expect(result.stderr).not.toMatch(/\n\s+at /);
    });

    it('prefix whose parent does not exist', async () => {
      const result = await winekernel(['run', '--prefix', '/nonexistent-dir/prefix', '--', 'wine', 'cmd', '/c', 'echo']);
      expect(result.code).toBe(125);
      expect(result.stderr).toContain('does not exist');
      expect(result.stderr).not.toMatch(/\n\s+at /);
    });

    it('no Wine installed (WINESERVER names a missing binary)', async () => {
      const result = await winekernel(['run', '--prefix', '/tmp/x', '--', 'wine', 'cmd'], { ...process.env, WINESERVER: '/nonexistent/wineserver' });
      expect(result.code).toBe(125);
      expect(result.stderr).toContain('WINESERVER=/nonexistent/wineserver is not an executable');
      expect(result.stderr).not.toMatch(/\n\s+at /);
    });
  });
});
