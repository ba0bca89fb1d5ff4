// The global atom table owned by the proxy live (`winekernel run --translate`),
// with the window-class and window-property requests bridged
// (docs/translation.md, "Live atoms: the atom bridge"): real Wine clients on a
// real wineserver give the same output and exit status as plain wine, no atom
// request reaches wineserver from a client, and every request that carries
// atoms is rewritten by the proxy instead of being forwarded as it is.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ATOM_BRIDGED_REQUESTS, ATOM_SERVER_INTERNAL_REQUESTS } from '../../mappings/atom-bridge.ts';
import { ATOM_TRANSLATORS } from '../../mappings/atoms.ts';
import { splitDomains } from '../../mappings/dispatch.ts';
import { AUX_SERVER_CALL, AUX_TRANSLATED, RecordKind } from '../../proxy/recording/format.ts';
import { readRecording } from '../../proxy/recording/reader.ts';
import { liveCatalog } from '../../proxy/translate/live/index.ts';
import { loadProtocol } from '../../requests/protocol.ts';
import {
  corpusExe,
  corpusExpected,
  runWineProgram,
  stopWineserver,
  type RunWineProgramOptions,
} from '../support/wine.js';
import { runLauncher, useCorpusPrefixes } from './harness.ts';

const protocol = loadProtocol('wine-8.0');
const { fresh: freshPrefix, work } = useCorpusPrefixes('translate-atoms');
const ATOM_REQUESTS = new Set<string>(ATOM_TRANSLATORS.map((entry) => entry.request));
const BRIDGED = new Set(Object.keys(ATOM_BRIDGED_REQUESTS));

interface Routing {
  /** Client requests answered by the proxy (atom requests) or bridged, by name. */
  translated: Map<string, number>;
  /** Atom requests and bridged requests a client sent that went to wineserver as they were. */
  forwarded: string[];
  /** Requests the proxy sent wineserver itself (server calls), by name. */
  serverCalls: Map<string, number>;
}

function routingOf(file: string): Routing {
  const records = readRecording(file).records;
  const routing: Routing = { translated: new Map(), forwarded: [], serverCalls: new Map() };
  const count = (map: Map<string, number>, name: string) => map.set(name, (map.get(name) ?? 0) + 1);
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    if (record.kind !== RecordKind.Request) continue;
    const name = protocol.requests[record.code]?.name;
    if (!name) continue;
    if (record.aux & AUX_SERVER_CALL) {
      count(routing.serverCalls, name);
      continue;
    }
    if (!ATOM_REQUESTS.has(name) && !BRIDGED.has(name)) continue;
    if (!(record.aux & AUX_TRANSLATED)) {
      routing.forwarded.push(name);
      continue;
    }
    count(routing.translated, name);
    // The proxy's reply is the next record of the thread that is not a server call.
    const reply = records.slice(i + 1).find((r) => r.threadKey === record.threadKey && !(r.aux & AUX_SERVER_CALL) && (r.kind === RecordKind.Reply || r.kind === RecordKind.Request));
    expect(reply?.kind).toBe(RecordKind.Reply);
    expect(reply!.aux & AUX_TRANSLATED).toBe(AUX_TRANSLATED);
    expect(reply!.code).toBe(record.code);
  }
  return routing;
}

/** The same command directly and through `run --translate`; the translated run is recorded. */
async function directAndTranslated(label: string, options: Omit<RunWineProgramOptions, 'prefix' | 'launcher'>) {
  const prefix = await freshPrefix(label);
  const direct = await runWineProgram({ ...options, prefix });
  await stopWineserver(prefix);
  const record = path.join(work, `${label}.wkrec`);
  const translated = await runWineProgram({ ...options, prefix, launcher: runLauncher(prefix, ['--translate', '--record', record]), timeoutMs: 180_000 });
  return { direct, translated, routing: routingOf(record) };
}

describe('the atom bridge covers every request that carries atoms', () => {
  it('every request of protocol.def with an atom_t field or a property list is answered by the proxy or bridged', () => {
    const carrying = protocol.requests
      .filter((info) =>
        [info.request, info.reply].some((side) => side.fields.some((field) => field.type === 'atom_t') || side.varargs.some((vararg) => vararg.kind === 'properties')),
      )
      .map((info) => info.name)
      .sort();
    // Wine 8.0: the four atom requests and ten window requests.
    expect(carrying).toHaveLength(14);
    expect(carrying).toEqual([...ATOM_REQUESTS, ...BRIDGED].sort());
  });

  it('the live catalog translates the atom requests and bridges the window requests; the atom table is not a split domain live', () => {
    const catalog = liveCatalog(protocol.requests.map((r) => r.name));
    for (const name of [...ATOM_REQUESTS, ...BRIDGED]) expect(catalog.get(name)?.status, name).toBe('translated');
    for (const name of BRIDGED) expect(catalog.get(name), name).toMatchObject({ liveRouting: 'any', needsServer: true, domains: ['global-atom-table'] });
    for (const name of Object.keys(ATOM_SERVER_INTERNAL_REQUESTS)) {
      expect(catalog.get(name)?.status, name).toBe('forwarded');
      expect(catalog.get(name)?.domains, name).not.toContain('global-atom-table');
    }
    const split = splitDomains(catalog);
    expect(split.has('global-atom-table')).toBe(false);
    expect(split.has('window-tree')).toBe(false);
  });
});

describe('winekernel run --translate: the atom table owned by the proxy', () => {
  for (const name of ['atoms', 'atom_classes']) {
    it(`${name}.exe: same output and exit status as plain wine; atom requests answered by the proxy, class and property atoms bridged`, async () => {
      const { direct, translated, routing } = await directAndTranslated(name, { exe: corpusExe(name), timeoutMs: 120_000 });
      expect(direct.stdout).toBe(corpusExpected(name));
      expect(translated.stdout).toBe(direct.stdout);
      expect(translated.exitCode).toBe(direct.exitCode);
      expect(translated.exitCode).toBe(0);
      // No client's atom request reached wineserver, nor any request carrying atoms unrewritten.
      expect(routing.forwarded).toEqual([]);
      for (const request of ATOM_REQUESTS) expect(routing.translated.get(request) ?? 0, request).toBeGreaterThan(0);
      // user32 registers its builtin classes in every process: all bridged.
      expect(routing.translated.get('create_class') ?? 0).toBeGreaterThan(10);
      if (name === 'atom_classes') {
        for (const request of BRIDGED) expect(routing.translated.get(request) ?? 0, request).toBeGreaterThan(0);
      }
      // Each bridged request reached wineserver once, as the proxy's server call with atoms rewritten.
      for (const request of BRIDGED) expect(routing.serverCalls.get(request) ?? 0, request).toBe(routing.translated.get(request) ?? 0);
    }, 400_000);
  }

  it('cmd /c echo and wineboot (class registrations of every Wine process) run unchanged, with every atom-carrying request bridged', async () => {
    const cmd = await directAndTranslated('cmd', { exe: 'cmd', args: ['/c', 'echo', 'hello'], timeoutMs: 120_000 });
    expect(cmd.direct.stdout).toBe('hello\n');
    expect(cmd.translated.stdout).toBe(cmd.direct.stdout);
    expect(cmd.translated.exitCode).toBe(0);
    expect(cmd.routing.forwarded).toEqual([]);
    expect(cmd.routing.translated.get('create_class') ?? 0).toBeGreaterThan(10);
    expect(cmd.routing.translated.get('create_window') ?? 0).toBeGreaterThan(0);

    const wineboot = await directAndTranslated('wineboot', { exe: 'wineboot', timeoutMs: 120_000 });
    expect(wineboot.translated.exitCode).toBe(wineboot.direct.exitCode);
    expect(wineboot.translated.exitCode).toBe(0);
    expect(wineboot.routing.forwarded).toEqual([]);
    expect(wineboot.routing.translated.get('create_class') ?? 0).toBeGreaterThan(10);
  }, 600_000);
});
