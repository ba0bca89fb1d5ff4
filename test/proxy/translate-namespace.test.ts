// Object directories and symbolic links translated live
// (docs/object-namespace.md, "Live"): with `--translate` every directory and
// link a client makes or opens is a proxy object with a server twin, and
// requests wineserver serves that name one (the BaseNamedObjects root of
// every named event, semaphore, mapping, ...) reach wineserver with the twin
// in its place. Real Wine programs cannot tell: the corpus programs that use
// the namespace print the same lines and exit the same way as under plain
// Wine, no client request of the six namespace types reaches wineserver,
// and no forwarded request carries a proxy handle.

import { describe, expect, it } from 'vitest';
import { handleOwner, handlesNamedBy } from '../../mappings/handles.ts';
import { AUX_SERVER_CALL, AUX_TRANSLATED, RecordKind } from '../../proxy/recording/format.ts';
import { readRecording } from '../../proxy/recording/reader.ts';
import { loadProtocol } from '../../requests/protocol.ts';
import { corpusExe, corpusExpected, runWineProgram, stopWineserver } from '../support/wine.js';
import { runLauncher, useCorpusPrefixes } from './harness.ts';

const protocol = loadProtocol('wine-8.0');
const { fresh: freshPrefix, work } = useCorpusPrefixes('translate-namespace');
const NAMESPACE_REQUESTS = new Set(['create_directory', 'open_directory', 'get_directory_entry', 'create_symlink', 'open_symlink', 'query_symlink']);

interface NamespaceRouting {
  /** Client requests answered by the proxy, by type. */
  translated: Map<string, number>;
  /** Client namespace requests that reached wineserver. */
  forwardedNamespace: string[];
  /** Client requests that reached wineserver naming a proxy handle (must be none). */
  forwardedWithProxyHandles: string[];
  /** Handles the proxy answered open_directory / create_directory with. */
  directoryHandles: number[];
  /** Requests the proxy sent to wineserver on a client's thread. */
  serverCalls: Map<string, number>;
}

function namespaceRouting(file: string): NamespaceRouting {
  const recording = readRecording(file);
  const routing: NamespaceRouting = { translated: new Map(), forwardedNamespace: [], forwardedWithProxyHandles: [], directoryHandles: [], serverCalls: new Map() };
  const count = (map: Map<string, number>, name: string) => map.set(name, (map.get(name) ?? 0) + 1);
  for (const record of recording.records) {
    const name = protocol.requests[record.code]?.name;
    if (!name) continue;
    if (record.kind === RecordKind.Reply && record.aux & AUX_TRANSLATED && (name === 'open_directory' || name === 'create_directory')) {
      const handle = (protocol.decodeReply(record.code, record.payload).body as { handle: number }).handle;
      if (handle) routing.directoryHandles.push(handle);
    }
    if (record.kind !== RecordKind.Request) continue;
    if (record.aux & AUX_SERVER_CALL) {
      count(routing.serverCalls, name);
      continue;
    }
    if (record.aux & AUX_TRANSLATED) {
      count(routing.translated, name);
      continue;
    }
    if (NAMESPACE_REQUESTS.has(name)) routing.forwardedNamespace.push(name);
    const request = protocol.decodeRequest(record.payload);
    const handles = handlesNamedBy(protocol.info(record.code), request.body as Record<string, unknown>);
    if (handles.some((h) => handleOwner(h) === 'proxy')) routing.forwardedWithProxyHandles.push(name);
  }
  return routing;
}

describe('winekernel run --translate: directories and symbolic links owned by the proxy', () => {
  // objdir: directories, links, listing, objects inside directories, a child resolving the names;
  // events and semaphores: named objects wineserver keeps, created under the proxy's BaseNamedObjects.
  for (const name of ['objdir', 'events', 'semaphores', 'mutexes']) {
    it(`${name}.exe: same output and exit status as plain wine; namespace requests answered by the proxy`, async () => {
      const prefix = await freshPrefix(name);
      const direct = await runWineProgram({ prefix, exe: corpusExe(name), timeoutMs: 120_000 });
      expect(direct.stdout).toBe(corpusExpected(name));
      await stopWineserver(prefix);
      const record = `${work}/${name}.wkrec`;
      const translated = await runWineProgram({ prefix, exe: corpusExe(name), launcher: runLauncher(prefix, ['--translate', '--record', record]), timeoutMs: 180_000 });
      expect(translated.stdout).toBe(direct.stdout);
      expect(translated.exitCode).toBe(direct.exitCode);

      const routing = namespaceRouting(record);
      expect(routing.forwardedNamespace).toEqual([]);
      expect(routing.forwardedWithProxyHandles).toEqual([]);
      // Every Wine process opens \Sessions\1\BaseNamedObjects through the proxy, and gets a proxy handle.
      expect(routing.translated.get('open_directory') ?? 0).toBeGreaterThan(0);
      expect(routing.directoryHandles.length).toBeGreaterThan(0);
      expect(routing.directoryHandles.every((h) => handleOwner(h) === 'proxy')).toBe(true);
      // Its twin, made and described as the client's thread.
      expect(routing.serverCalls.get('open_directory') ?? 0).toBeGreaterThan(0);
      expect(routing.serverCalls.get('get_object_name') ?? 0).toBeGreaterThan(0);
      if (name === 'objdir') {
        for (const type of NAMESPACE_REQUESTS) expect(routing.translated.get(type) ?? 0, type).toBeGreaterThan(0);
        // Listing is wineserver's answer for the twin; events made under a proxy directory are bridged.
        expect(routing.serverCalls.get('get_directory_entry') ?? 0).toBeGreaterThan(0);
        expect(routing.serverCalls.get('create_event') ?? 0).toBeGreaterThan(0);
      }
      if (name === 'events' || name === 'semaphores') {
        const made = name === 'events' ? 'create_event' : 'create_semaphore';
        expect(routing.serverCalls.get(made) ?? 0).toBeGreaterThan(0);
      }
    }, 400_000);
  }
});
