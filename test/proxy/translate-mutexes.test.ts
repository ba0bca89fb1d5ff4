// Mutexes translated live (docs/mutexes.md, "Live"): with `--translate` a
// mutex lives only in the proxy (its name reserved in wineserver by a
// placeholder), every wait naming one is answered by the proxy, and real
// Wine programs cannot tell: the mutexes and mutex_waits corpus programs
// print the same lines and exit the same way as under plain Wine, with their
// mutex requests answered by the proxy. Clients SIGKILLed while holding or
// while waiting on a proxy mutex leave the proxy serving, the mutex
// abandoned to the next waiter, and nothing held.

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleOwner } from '../../mappings/handles.ts';
import { AUX_SERVER_CALL, AUX_TRANSLATED, RecordKind } from '../../proxy/recording/format.ts';
import { readRecording } from '../../proxy/recording/reader.ts';
import { loadProtocol } from '../../requests/protocol.ts';
import {
  corpusExe,
  corpusExpected,
  createTestPrefix,
  removeTestPrefix,
  runWineProgram,
  stopWineserver,
  WINE_LOADER,
  wineEnv,
} from '../support/wine.js';
import { corpusDirectThenTranslated, eventually, openFdCount, runLauncher, sleep, startServe, type ServeHandle, useCorpusPrefixes } from './harness.ts';

const protocol = loadProtocol('wine-8.0');
const { fresh: freshPrefix, work } = useCorpusPrefixes('translate-mutexes');
const MUTEX_REQUESTS = new Set(['create_mutex', 'open_mutex', 'release_mutex', 'query_mutex']);

interface MutexRouting {
  /** Client requests answered by the proxy, by type. */
  translated: Map<string, number>;
  /** Client mutex requests that reached wineserver, with the handles they named. */
  forwarded: { name: string; handles: number[] }[];
  /** selects naming a proxy handle: answered by the proxy / forwarded. */
  proxySelects: { translated: number; forwarded: number };
  /** Wake-ups the proxy wrote itself (ends of waits it answered STATUS_PENDING). */
  ownWakeups: number;
  /** Requests the proxy sent to wineserver on a client's thread (placeholders, mixed waits). */
  serverCalls: Map<string, number>;
}

function mutexRouting(file: string): MutexRouting {
  const recording = readRecording(file);
  const routing: MutexRouting = { translated: new Map(), forwarded: [], proxySelects: { translated: 0, forwarded: 0 }, ownWakeups: 0, serverCalls: new Map() };
  const count = (map: Map<string, number>, name: string) => map.set(name, (map.get(name) ?? 0) + 1);
  for (const record of recording.records) {
    if (record.kind === RecordKind.Wakeup && record.aux & AUX_TRANSLATED) routing.ownWakeups++;
    if (record.kind !== RecordKind.Request) continue;
    const name = protocol.requests[record.code]?.name;
    if (!name) continue;
    if (record.aux & AUX_SERVER_CALL) {
      count(routing.serverCalls, name);
      continue;
    }
    const translated = (record.aux & AUX_TRANSLATED) !== 0;
    if (translated) count(routing.translated, name);
    if (name === 'select') {
      const data = (protocol.decodeRequest(record.payload).body as { data?: { handles?: number[]; wait?: number } }).data;
      const handles = data?.handles ?? (data?.wait !== undefined ? [data.wait] : []);
      if (handles.some((h) => handleOwner(h) === 'proxy')) routing.proxySelects[translated ? 'translated' : 'forwarded']++;
    } else if (MUTEX_REQUESTS.has(name) && !translated) {
      const body = protocol.decodeRequest(record.payload).body as { handle?: number };
      routing.forwarded.push({ name, handles: body.handle === undefined ? [] : [body.handle] });
    }
  }
  return routing;
}

describe('winekernel run --translate: mutexes answered by the proxy', () => {
  for (const name of ['mutexes', 'mutex_waits']) {
    it(`${name}.exe: same output and exit status as plain wine; its mutex requests and waits answered by the proxy`, async () => {
      const record = await corpusDirectThenTranslated(await freshPrefix(name), name, work);

      const routing = mutexRouting(record);
      // Every create/open reached the proxy; release/query reached wineserver only for wineserver's handles
      // (mutex_waits releases an event and an invalid handle on purpose; mutexes queries NULL, the
      // current process and an event).
      for (const forwarded of routing.forwarded) {
        expect(['release_mutex', 'query_mutex']).toContain(forwarded.name);
        expect(forwarded.handles.every((h) => handleOwner(h) !== 'proxy')).toBe(true);
      }
      expect(routing.translated.get('create_mutex') ?? 0).toBeGreaterThan(3);
      expect(routing.translated.get('open_mutex') ?? 0).toBeGreaterThan(1);
      expect(routing.translated.get('release_mutex') ?? 0).toBeGreaterThan(10);
      // Every wait naming a proxy mutex, mixed ones included, was answered by the proxy.
      expect(routing.proxySelects.forwarded).toBe(0);
      expect(routing.proxySelects.translated).toBeGreaterThan(10);
      expect(routing.ownWakeups).toBeGreaterThan(0);
      // Named mutexes reserve their names in wineserver: placeholders made, read and closed as the client's thread.
      expect(routing.serverCalls.get('create_mutex') ?? 0).toBeGreaterThan(0);
      expect(routing.serverCalls.get('get_object_name') ?? 0).toBeGreaterThan(0);
      expect(routing.serverCalls.get('close_handle') ?? 0).toBeGreaterThan(0);
      // Queries of proxy mutexes: owned, free, held by a child, abandoned by a thread, without MUTANT_QUERY_STATE.
      if (name === 'mutexes') expect(routing.translated.get('query_mutex') ?? 0).toBe(8);
      if (name === 'mutex_waits') {
        // Contention queued threads on the proxy's locks; mixed waits polled wineserver.
        expect(routing.translated.get('select') ?? 0).toBeGreaterThan(200);
        expect(routing.serverCalls.get('select') ?? 0).toBeGreaterThan(0);
        expect(routing.translated.get('dup_handle') ?? 0).toBeGreaterThan(0);
      }
    }, 420_000);
  }
});

/** A corpus role running under the proxy, watched line by line. */
class WineClient {
  private out = '';
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(prefix: string, args: string[]) {
    this.child = spawn(WINE_LOADER, [corpusExe('mutex_waits'), ...args], { env: wineEnv(prefix), stdio: ['ignore', 'pipe', 'ignore'] });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.out += chunk.replace(/\r\n/g, '\n');
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get output(): string {
    return this.out;
  }

  async line(text: string, timeoutMs = 120_000): Promise<void> {
    if (!(await eventually(() => this.out.split('\n').includes(text), timeoutMs, 50))) {
      throw new Error(`no line '${text}' from mutex_waits ${this.child.spawnargs.slice(2).join(' ')}; got:\n${this.out}`);
    }
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

describe('winekernel serve --translate: clients killed around a proxy mutex', () => {
  let prefix: string;
  let serve: ServeHandle;
  let baselineFds: number;
  const clients: WineClient[] = [];
  const start = (args: string[]) => {
    const client = new WineClient(prefix, args);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    prefix = await createTestPrefix('translate-mutexes-faults');
    serve = await startServe(prefix, ['--translate', '--record', path.join(work, 'faults.wkrec'), '--log-level', 'error'], 60_000);
    // Boot the prefix's services through the proxy before measuring.
    const warm = await runWineProgram({ prefix, exe: corpusExe('mutexes'), timeoutMs: 180_000 });
    expect(warm.stdout).toBe(corpusExpected('mutexes'));
    baselineFds = openFdCount(serve.pid);
  }, 600_000);

  afterAll(async () => {
    for (const client of clients) if (client.child.exitCode === null && client.child.signalCode === null) client.kill();
    if (serve) await serve.stop();
    if (prefix) {
      await stopWineserver(prefix);
      await removeTestPrefix(prefix);
    }
  }, 120_000);

  it('the holder is SIGKILLed while another process waits: the waiter gets WAIT_ABANDONED', async () => {
    const holder = start(['hold', 'WineKernel.Faults.Held', '0']);
    await holder.line('held');
    const waiter = start(['wait', 'WineKernel.Faults.Held', '60000']);
    await waiter.line('waiting');
    await sleep(300); // the waiter's select is pending at the proxy
    holder.kill();
    await holder.exited;
    await waiter.line('wait: WAIT_ABANDONED', 60_000);
    expect(await waiter.exited).toBe(0);
  }, 300_000);

  it('a waiter is SIGKILLed: the release goes to the next waiter, not to the dead one', async () => {
    const holder = start(['hold', 'WineKernel.Faults.Waited', '6000']);
    await holder.line('held');
    const doomed = start(['wait', 'WineKernel.Faults.Waited', '60000']);
    await doomed.line('waiting');
    await sleep(300);
    doomed.kill();
    await doomed.exited;
    const next = start(['wait', 'WineKernel.Faults.Waited', '60000']);
    await holder.line('released', 60_000);
    expect(await holder.exited).toBe(0);
    // Had the killed waiter's cancelled wait taken the mutex, this one would see it abandoned (or time out).
    await next.line('wait: WAIT_OBJECT_0', 60_000);
    expect(await next.exited).toBe(0);
  }, 300_000);

  it('the proxy keeps serving, and gives back what the killed clients held', async () => {
    expect(serve.child.exitCode).toBeNull();
    const again = await runWineProgram({ prefix, exe: corpusExe('mutex_waits'), timeoutMs: 180_000 });
    expect(again.stdout).toBe(corpusExpected('mutex_waits'));
    expect(again.exitCode).toBe(0);
    // The names of the killed holders are free again: wineserver closed their placeholders, the proxy their mutexes.
    const fresh = start(['hold', 'WineKernel.Faults.Held', '1']);
    await fresh.line('released', 60_000);
    expect(await fresh.exited).toBe(0);
    expect(await eventually(() => openFdCount(serve.pid) <= baselineFds, 30_000)).toBe(true);
    expect(serve.stderr()).not.toMatch(/translator failed|routing failed/);
  }, 420_000);
});
