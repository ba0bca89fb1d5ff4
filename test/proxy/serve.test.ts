// `winekernel serve`: plain `wine` commands on the prefix go through the
// proxy and behave as without it; errors are clear.

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
import { startServe, winekernel, type ServeHandle } from './harness.ts';

const prefixes: string[] = [];
const serves: ServeHandle[] = [];

beforeAll(async () => {
  ensureWineInstalled();
  buildCorpus();
  await ensureTemplatePrefix();
}, 600_000);

afterEach(async () => {
  while (serves.length) await serves.pop()!.stop();
  while (prefixes.length) await removeTestPrefix(prefixes.pop()!);
});

async function servedPrefix(label: string, extra: string[] = []): Promise<{ prefix: string; serve: ServeHandle }> {
  const prefix = await createTestPrefix(`proxy-serve-${label}`);
  prefixes.push(prefix);
  const serve = await startServe(prefix, extra);
  serves.push(serve);
  return { prefix, serve };
}

describe('winekernel serve', () => {
  it('plain wine commands go through the proxy: echo, exit status, registry, corpus', async () => {
    const record = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wk-rec-')), 'serve.wkrec');
    const { prefix, serve } = await servedPrefix('all', ['--record', record]);

    const echo = await runWineProgram({ prefix, exe: 'cmd', args: ['/c', 'echo', 'hello'] });
    expect(echo.stdout).toBe('hello\n');
    expect(echo.exitCode).toBe(0);

    const exit = await runWineProgram({ prefix, exe: 'cmd', args: ['/c', 'exit', '5'] });
    expect(exit.exitCode).toBe(5);

    const key = 'HKCU\\Software\\WineKernelServeTest';
    expect((await runWineProgram({ prefix, exe: 'reg', args: ['add', key, '/v', 'V', '/t', 'REG_DWORD', '/d', '7', '/f'] })).exitCode).toBe(0);
    const query = await runWineProgram({ prefix, exe: 'reg', args: ['query', key, '/v', 'V'] });
    expect(query.exitCode).toBe(0);
    expect(query.stdout).toContain('0x7');

    for (const name of corpusProgramNames()) {
      const result = await runWineProgram({ prefix, exe: corpusExe(name), timeoutMs: 90_000 });
      expect(result.stdout, name).toBe(corpusExpected(name));
      expect(result.exitCode, name).toBe(0);
    }

    // Every client went through the proxy: the recording saw them.
    expect(await serve.stop()).toBe(0);
    expect(fs.existsSync(serve.socketPath)).toBe(false);
    const recording = readRecording(record);
    const opened = recording.records.filter((r) => r.kind === RecordKind.ConnectionOpen).length;
    expect(opened).toBeGreaterThan(4 + corpusProgramNames().length);

    // After serve stops, the registry it saved is there for plain wine.
    const after = await runWineProgram({ prefix, exe: 'reg', args: ['query', key, '/v', 'V'] });
    expect(after.stdout).toBe(query.stdout);
    await stopWineserver(prefix);
  }, 900_000);

  it('wineboot --init of a brand-new prefix goes through the serving proxy and leaves a prefix plain wine uses', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wk-serve-boot-'));
    const prefix = path.join(dir, 'prefix');
    fs.mkdirSync(prefix);
    const record = path.join(dir, 'boot.wkrec');
    const serve = await startServe(prefix, ['--record', record]);
    serves.push(serve);
    try {
      const boot = await runWineProgram({ prefix, exe: 'wineboot', args: ['--init'], timeoutMs: 300_000 });
      expect(boot.exitCode).toBe(0);
      expect(await serve.stop()).toBe(0);
      serves.pop();
      for (const hive of ['system.reg', 'user.reg', 'userdef.reg']) expect(fs.existsSync(path.join(prefix, hive)), hive).toBe(true);
      expect(fs.existsSync(path.join(prefix, 'drive_c', 'windows', 'system32'))).toBe(true);
      // wineboot's requests were seen by the proxy.
      const requests = readRecording(record).records.filter((r) => r.kind === RecordKind.Request).length;
      expect(requests).toBeGreaterThan(1000);
      // Plain wine (no proxy) runs on the prefix afterwards.
      const echo = await runWineProgram({ prefix, exe: 'cmd', args: ['/c', 'echo', 'booted'] });
      expect(echo.stdout).toBe('booted\n');
      await stopWineserver(prefix);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 900_000);

  it('refuses a prefix that is already served (socket path taken)', async () => {
    const { prefix } = await servedPrefix('taken');
    const second = await winekernel(['serve', '--prefix', prefix]);
    expect(second.code).toBe(125);
    expect(second.stderr).toMatch(/already (running|serves)/);
    expect(second.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);

  it('refuses a missing prefix with a clear message', async () => {
    const result = await winekernel(['serve', '--prefix', '/tmp/winekernel-no-such-prefix']);
    expect(result.code).toBe(125);
    expect(result.stderr).toContain('does not exist');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses bad options', async () => {
    const result = await winekernel(['serve', '--log-level', 'loud']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--log-level');
  });
});
