// The registry requests that need wineserver's side of the caller — its token,
// its file handles, its events — answered by the proxy through server calls
// (docs/translation.md "Server calls"): save_registry(), load_registry(),
// unload_registry() (registry_hive.exe) and set_registry_notification()
// (registry_notify.exe: filters, subtrees, changes by another thread, by
// another process, a synchronous watch, closing the watched key).
//
// Each program's output through `run --translate` equals plain wine's, every
// one of these requests was answered by the proxy (never forwarded), and the
// server calls the proxy made are in the recording, flagged, each with its
// reply on the same thread before the client's translated reply.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUX_SERVER_CALL, AUX_TRANSLATED, FdRoleCode, RecordKind } from '../../proxy/recording/format.ts';
import { readRecording } from '../../proxy/recording/reader.ts';
import { loadProtocol } from '../../requests/protocol.ts';
import {
  corpusExe,
  corpusExpected,
  runWineProgram,
  stopWineserver,
  wineserverPidsForPrefix,
} from '../support/wine.js';
import { childPids, eventually, processName, runLauncher, startServe, useCorpusPrefixes } from './harness.ts';

const protocol = loadProtocol('wine-8.0');
const { fresh: freshPrefix, work } = useCorpusPrefixes('translate-live');

interface Routing {
  translated: Map<string, number>;
  forwarded: Map<string, number>;
  serverCalls: Map<string, number>;
  claimedFds: number;
}

function routingOf(file: string): Routing {
  const records = readRecording(file).records;
  const routing: Routing = { translated: new Map(), forwarded: new Map(), serverCalls: new Map(), claimedFds: 0 };
  const bump = (map: Map<string, number>, name: string) => map.set(name, (map.get(name) ?? 0) + 1);
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    if (record.kind === RecordKind.FdToClient && record.aux === FdRoleCode.ServerCall) routing.claimedFds++;
    if (record.kind !== RecordKind.Request) continue;
    const name = protocol.requests[record.code]?.name ?? `#${record.code}`;
    if (record.aux & AUX_SERVER_CALL) {
      bump(routing.serverCalls, name);
      // The call's reply is the next reply or request of that thread, flagged the same.
      const next = records.slice(i + 1).find((x) => x.threadKey === record.threadKey && (x.kind === RecordKind.Reply || x.kind === RecordKind.Request));
      expect(next?.kind, `reply to server call ${name}`).toBe(RecordKind.Reply);
      expect(next!.aux & AUX_SERVER_CALL).toBe(AUX_SERVER_CALL);
      expect(next!.code).toBe(record.code);
    } else if (record.aux & AUX_TRANSLATED) bump(routing.translated, name);
    else bump(routing.forwarded, name);
  }
  return routing;
}

async function directAndTranslated(name: string): Promise<Routing> {
  const prefix = await freshPrefix(name);
  const direct = await runWineProgram({ prefix, exe: corpusExe(name), timeoutMs: 120_000 });
  await stopWineserver(prefix);
  expect(direct.stdout).toBe(corpusExpected(name));
  const record = path.join(work, `${name}.wkrec`);
  const translated = await runWineProgram({ prefix, exe: corpusExe(name), launcher: runLauncher(prefix, ['--translate', '--record', record]), timeoutMs: 180_000 });
  expect(translated.stdout).toBe(direct.stdout);
  expect(translated.exitCode).toBe(direct.exitCode);
  return routingOf(record);
}

describe('registry requests answered through server calls (run --translate)', () => {
  it('registry_hive.exe: save_registry(), load_registry(), unload_registry() answered by the proxy with the caller\'s privileges and files', async () => {
    const routing = await directAndTranslated('registry_hive');
    for (const request of ['save_registry', 'load_registry', 'unload_registry']) {
      expect(routing.forwarded.get(request) ?? 0, request).toBe(0);
    }
    // Two refused for the missing privilege, two that wrote the file (the second overwrites).
    expect(routing.translated.get('save_registry')).toBe(3);
    expect(routing.translated.get('load_registry')).toBe(4);
    expect(routing.translated.get('unload_registry')).toBeGreaterThanOrEqual(3);
    // Privileges: one token opened and checked per request.
    expect(routing.serverCalls.get('check_token_privileges')).toBeGreaterThanOrEqual(10);
    // Files: a descriptor per successful save and load, taken by the proxy, never passed on.
    expect(routing.serverCalls.get('get_handle_fd')).toBeGreaterThanOrEqual(4);
    expect(routing.claimedFds).toBe(routing.serverCalls.get('get_handle_fd'));
  }, 400_000);

  it('registry_notify.exe: set_registry_notification() answered by the proxy; changes by threads and processes signal the watcher\'s event', async () => {
    const routing = await directAndTranslated('registry_notify');
    expect(routing.forwarded.get('set_registry_notification') ?? 0).toBe(0);
    expect(routing.translated.get('set_registry_notification')).toBe(11); // every RegNotifyChangeKeyValue of the program
    // Each watch takes a private duplicate of the event and resets it; each firing sets it.
    expect(routing.serverCalls.get('dup_handle')).toBeGreaterThanOrEqual(10);
    expect(routing.serverCalls.get('event_op')).toBeGreaterThanOrEqual(20);
    // The change by another process reaches into the watcher's handle table.
    expect(routing.serverCalls.get('open_process')).toBeGreaterThanOrEqual(1);
  }, 400_000);

  it('a changed registry is saved into the prefix periodically, so a proxy killed without warning loses nothing older than the period', async () => {
    const prefix = await freshPrefix('live-periodic');
    const serve = await startServe(prefix, ['--translate', '--registry-save-period', '1'], 60_000);
    try {
      const add = await runWineProgram({ prefix, exe: 'reg', args: ['add', 'HKCU\\Software\\WineKernelPeriodic', '/v', 'Saved', '/t', 'REG_SZ', '/d', 'yes', '/f'], timeoutMs: 120_000 });
      expect(add.exitCode).toBe(0);
      const userReg = path.join(prefix, 'user.reg');
      const deadline = Date.now() + 15_000;
      while (!fs.readFileSync(userReg, 'latin1').includes('[Software\\\\WineKernelPeriodic]') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(fs.readFileSync(userReg, 'latin1')).toContain('[Software\\\\WineKernelPeriodic]');
    } finally {
      // No orderly stop: the proxy is killed; its wineserver follows it (parent-death signal).
      const servers = childPids(serve.pid).filter((pid) => processName(pid).startsWith('wineserver'));
      expect(servers.length).toBe(1);
      serve.child.kill('SIGKILL');
      await new Promise((r) => serve.child.once('exit', r));
      expect(await eventually(() => servers.every((pid) => !fs.existsSync(`/proc/${pid}`)), 10_000)).toBe(true);
    }
    await stopWineserver(prefix);
    const plain = await runWineProgram({ prefix, exe: 'reg', args: ['query', 'HKCU\\Software\\WineKernelPeriodic'], timeoutMs: 120_000 });
    expect(plain.stdout).toMatch(/Saved\s+REG_SZ\s+yes/);
  }, 400_000);

  it('through the serving proxy: registry_notify.exe and registry_hive.exe, one after the other on one proxy', async () => {
    const prefix = await freshPrefix('live-serve');
    const record = path.join(work, 'serve.wkrec');
    const serve = await startServe(prefix, ['--translate', '--record', record], 60_000);
    let stopped = false;
    try {
      for (const name of ['registry_notify', 'registry_hive']) {
        const result = await runWineProgram({ prefix, exe: corpusExe(name), timeoutMs: 180_000 });
        expect(result.stdout).toBe(corpusExpected(name));
        expect(result.exitCode).toBe(0);
      }
      expect(await serve.stop()).toBe(0);
      stopped = true;
    } finally {
      if (!stopped) await serve.stop();
    }
    const routing = routingOf(record);
    for (const request of ['set_registry_notification', 'save_registry', 'load_registry', 'unload_registry']) {
      expect(routing.forwarded.get(request) ?? 0, request).toBe(0);
      expect(routing.translated.get(request) ?? 0, request).toBeGreaterThan(0);
    }
  }, 600_000);
});

/**
 * Watches a prefix directory and the wineservers serving it: what is made or
 * renamed in the directory, and which of those names are wineserver's
 * temporary files (it saves a hive through reg<pid hex><4 hex digits>.tmp in
 * the hive's directory, renamed over it: server/registry.c save_branch; into
 * a private copy, which has a second link, it writes in place).
 */
function watchPrefix(prefix: string) {
  const names = new Set<string>();
  const watcher = fs.watch(prefix, (_event, name) => {
    if (name) names.add(String(name));
  });
  const servers = new Set<number>();
  const poll = setInterval(() => wineserverPidsForPrefix(prefix).forEach((pid) => servers.add(pid)), 50);
  return {
    names,
    servers,
    stop() {
      clearInterval(poll);
      watcher.close();
    },
    serverTemporaries: () => [...names].filter((name) => [...servers].some((pid) => new RegExp(`^reg${pid.toString(16)}[0-9a-f]{4}\\.tmp$`).test(name))),
  };
}

describe('wineserver never writes the prefix\'s hives while the proxy owns the registry', () => {
  it('a prefix without hive files (run --translate): not even those missing at start; afterwards they are the proxy\'s and plain Wine reads them', async () => {
    // An empty prefix: wine initialises it (wineboot) through the proxy, which owns the registry from the start.
    const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'wk-fresh-prefix-'));
    try {
      const watch = watchPrefix(prefix);
      let added;
      try {
        added = await runWineProgram({
          prefix,
          exe: 'reg',
          args: ['add', 'HKCU\\Software\\WineKernelFresh', '/v', 'Saved', '/t', 'REG_SZ', '/d', 'yes', '/f'],
          launcher: runLauncher(prefix, ['--translate']),
          timeoutMs: 600_000,
        });
      } finally {
        watch.stop();
      }
      expect(added.exitCode, added.stderr).toBe(0);
      expect(watch.servers.size).toBeGreaterThan(0);
      expect(watch.serverTemporaries()).toEqual([]);
      for (const hive of ['system.reg', 'userdef.reg', 'user.reg']) expect(watch.names.has(hive), hive).toBe(true);
      // The proxy's registry, with what wineboot wrote (wineserver's own copy never saw a registry request).
      expect(fs.readFileSync(path.join(prefix, 'system.reg'), 'latin1')).toContain('[Software\\\\Microsoft\\\\Windows NT\\\\CurrentVersion]');
      expect(fs.readFileSync(path.join(prefix, 'user.reg'), 'latin1')).toContain('[Software\\\\WineKernelFresh]');
      const plain = await runWineProgram({ prefix, exe: 'reg', args: ['query', 'HKCU\\Software\\WineKernelFresh'], timeoutMs: 300_000 });
      expect(plain.stdout).toMatch(/Saved\s+REG_SZ\s+yes/);
    } finally {
      await stopWineserver(prefix);
      fs.rmSync(prefix, { recursive: true, force: true });
    }
  }, 900_000);

  it('serve --translate: a wineserver started again after the first was killed writes its own copies too', async () => {
    const prefix = await freshPrefix('live-restart');
    const serve = await startServe(prefix, ['--translate'], 60_000);
    const watch = watchPrefix(prefix);
    let stopped = false;
    try {
      const reg = (value: string) => runWineProgram({ prefix, exe: 'reg', args: ['add', 'HKCU\\Software\\WineKernelRestart', '/v', value, '/t', 'REG_SZ', '/d', 'yes', '/f'], timeoutMs: 180_000 });
      expect((await reg('Before')).exitCode).toBe(0);
      const first = childPids(serve.pid).filter((pid) => processName(pid).startsWith('wineserver'));
      expect(first.length).toBe(1);
      process.kill(first[0], 'SIGKILL');
      expect(await eventually(() => !fs.existsSync(`/proc/${first[0]}`), 10_000)).toBe(true);
      // The next client gets a new wineserver, which loads the hives and (all its keys loaded dirty) saves them at its end.
      expect((await reg('After')).exitCode).toBe(0);
      const second = childPids(serve.pid).filter((pid) => processName(pid).startsWith('wineserver'));
      expect(second.length).toBe(1);
      expect(second[0]).not.toBe(first[0]);
      expect(await serve.stop()).toBe(0);
      stopped = true;
    } finally {
      watch.stop();
      if (!stopped) await serve.stop();
    }
    expect(watch.servers.size).toBeGreaterThanOrEqual(2);
    expect(watch.serverTemporaries()).toEqual([]);
    const plain = await runWineProgram({ prefix, exe: 'reg', args: ['query', 'HKCU\\Software\\WineKernelRestart'], timeoutMs: 180_000 });
    expect(plain.stdout).toMatch(/Before\s+REG_SZ\s+yes/);
    expect(plain.stdout).toMatch(/After\s+REG_SZ\s+yes/);
  }, 600_000);
});
