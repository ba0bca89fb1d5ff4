// `winekernel run/serve --translate`: the proxy answers the registry itself
// (owned for the session, docs/translation.md "Routing translated requests").
// Every corpus program gives the same output and exit status as plain wine,
// the recording shows the registry requests answered by the proxy (flagged
// translated, never forwarded), and the prefix stays usable by plain Wine.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUX_TRANSLATED, RecordKind } from '../../proxy/recording/format.ts';
import { readRecording } from '../../proxy/recording/reader.ts';
import { loadProtocol } from '../../requests/protocol.ts';
import {
  corpusExe,
  corpusExpected,
  corpusProgramNames,
  runWineProgram,
  stopWineserver,
} from '../support/wine.js';
import { runLauncher, startServe, useCorpusPrefixes } from './harness.ts';

const protocol = loadProtocol('wine-8.0');
const { fresh: freshPrefix, work } = useCorpusPrefixes('translate');
const REGISTRY_REQUESTS = new Set(['create_key', 'open_key', 'enum_key', 'set_key_value', 'get_key_value', 'enum_key_value', 'delete_key', 'delete_key_value', 'flush_key', 'rename_key',
  'load_registry', 'save_registry', 'unload_registry', 'set_registry_notification']);

/** Registry requests of a recording: answered by the proxy vs forwarded to wineserver. */
function registryRouting(file: string): { translated: number; forwarded: string[]; byType: Map<string, number> } {
  const recording = readRecording(file);
  let translated = 0;
  const forwarded: string[] = [];
  const byType = new Map<string, number>();
  for (const record of recording.records) {
    if (record.kind !== RecordKind.Request) continue;
    const name = protocol.requests[record.code]?.name;
    if (!name || !REGISTRY_REQUESTS.has(name)) continue;
    if (record.aux & AUX_TRANSLATED) {
      translated++;
      byType.set(name, (byType.get(name) ?? 0) + 1);
    } else forwarded.push(name);
  }
  // Every translated request has its translated reply right behind it, on the same thread.
  const records = recording.records;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (r.kind === RecordKind.Request && r.aux & AUX_TRANSLATED) {
      const reply = records.slice(i + 1).find((x) => x.threadKey === r.threadKey && (x.kind === RecordKind.Reply || x.kind === RecordKind.Request));
      expect(reply?.kind).toBe(RecordKind.Reply);
      expect(reply!.aux & AUX_TRANSLATED).toBe(AUX_TRANSLATED);
      expect(reply!.code).toBe(r.code);
    }
  }
  return { translated, forwarded, byType };
}

describe('winekernel run --translate', () => {
  for (const name of corpusProgramNames()) {
    it(`${name}.exe: same output and exit status as plain wine; registry answered by the proxy`, async () => {
      const prefix = await freshPrefix(name);
      const direct = await runWineProgram({ prefix, exe: corpusExe(name), timeoutMs: 90_000 });
      await stopWineserver(prefix);
      const record = path.join(work, `${name}.wkrec`);
      const translated = await runWineProgram({ prefix, exe: corpusExe(name), launcher: runLauncher(prefix, ['--translate', '--record', record]), timeoutMs: 120_000 });
      // On a mismatch, what the launcher and Wine said (the proxy's own errors go to stderr).
      const saidBy = (run: typeof direct, what: string) => `${what}: exit ${run.exitCode}, signal ${run.signal}; stderr ends: ${run.stderr.slice(-3000)}`;
      expect(direct.stdout, saidBy(direct, 'plain wine')).toBe(corpusExpected(name));
      const said = saidBy(translated, 'through the proxy');
      expect(translated.stdout, said).toBe(direct.stdout);
      expect(translated.exitCode, said).toBe(direct.exitCode);
      const routing = registryRouting(record);
      expect(routing.forwarded).toEqual([]);
      expect(routing.translated).toBeGreaterThan(100); // Wine's own start-up alone reads hundreds of keys
      if (name.startsWith('registry_')) expect(routing.byType.get('set_key_value') ?? 0).toBeGreaterThan(0);
    }, 300_000);
  }

  it('reg add through the proxy, then reg query by plain wine and through the proxy', async () => {
    const prefix = await freshPrefix('reg');
    const add = await runWineProgram({ prefix, exe: 'reg', args: ['add', 'HKCU\\Software\\WineKernelLive', '/v', 'Answer', '/t', 'REG_SZ', '/d', '42', '/f'], launcher: runLauncher(prefix, ['--translate']), timeoutMs: 120_000 });
    expect(add.exitCode).toBe(0);
    expect(fs.readFileSync(path.join(prefix, 'user.reg'), 'latin1')).toContain('[Software\\\\WineKernelLive]');
    const plain = await runWineProgram({ prefix, exe: 'reg', args: ['query', 'HKCU\\Software\\WineKernelLive'], timeoutMs: 120_000 });
    expect(plain.stdout).toMatch(/Answer\s+REG_SZ\s+42/);
    await stopWineserver(prefix);
    const proxied = await runWineProgram({ prefix, exe: 'reg', args: ['query', 'HKCU\\Software\\WineKernelLive'], launcher: runLauncher(prefix, ['--translate']), timeoutMs: 120_000 });
    expect(proxied.stdout).toBe(plain.stdout);
    expect(proxied.exitCode).toBe(0);
  }, 300_000);
});

describe('winekernel serve --translate', () => {
  it('registry_keys.exe through the serving proxy: expected output, registry answered by the proxy, saved at stop', async () => {
    const prefix = await freshPrefix('serve');
    const record = path.join(work, 'serve.wkrec');
    const serve = await startServe(prefix, ['--translate', '--record', record], 60_000);
    let stopped = false;
    try {
      const result = await runWineProgram({ prefix, exe: corpusExe('registry_keys'), timeoutMs: 120_000 });
      expect(result.stdout).toBe(corpusExpected('registry_keys'));
      expect(result.exitCode).toBe(0);
      const add = await runWineProgram({ prefix, exe: 'reg', args: ['add', 'HKCU\\Software\\WineKernelServe', '/v', 'X', '/t', 'REG_DWORD', '/d', '7', '/f'], timeoutMs: 120_000 });
      expect(add.exitCode).toBe(0);
      expect(await serve.stop()).toBe(0);
      stopped = true;
    } finally {
      if (!stopped) await serve.stop();
    }
    const routing = registryRouting(record);
    expect(routing.forwarded).toEqual([]);
    expect(routing.translated).toBeGreaterThan(100); // Wine's own start-up alone reads hundreds of keys
    expect(fs.readFileSync(path.join(prefix, 'user.reg'), 'latin1')).toContain('[Software\\\\WineKernelServe]');
    const plain = await runWineProgram({ prefix, exe: 'reg', args: ['query', 'HKCU\\Software\\WineKernelServe'], timeoutMs: 120_000 });
    expect(plain.stdout).toMatch(/X\s+REG_DWORD\s+0x7/);
  }, 400_000);
});
