// The state dump of `winekernel run` (SIGUSR2): what every client thread
// waits for, logged as one JSON line. The test harness sends the signal to
// a proxy launcher whose program timed out, so that a hang in CI names the
// process, thread and request it hangs on; this checks both ends.

import { describe, expect, it } from 'vitest';
import { corpusExe, runWineProgram, stopWineserver, WineTestError } from '../support/wine.js';
import type { ClientConnectionState } from '../../proxy/relay/client-connection.ts';
import { runLauncher, useCorpusPrefixes } from './harness.ts';

const { fresh: freshPrefix } = useCorpusPrefixes('state-dump');

interface Dump {
  msg: string;
  wineserverPid: number;
  stats: { open: number; threads: number };
  clients: ClientConnectionState[];
}

describe('winekernel run state dump', () => {
  it('a program that outlives its timeout: the error carries the proxy state dump, one entry per live client and thread', async () => {
    const prefix = await freshPrefix('timeout');
    // Brings the prefix up to date first, so the timed run is only the program.
    const warm = await runWineProgram({ prefix, exe: corpusExe('processes'), args: ['exit-with', '3'], timeoutMs: 120_000 });
    expect(warm.exitCode).toBe(3);
    await stopWineserver(prefix);

    // The `sleep` role sleeps 10 s after its start-up; the run is given 9.5 s in all, so it always times out,
    // with as much time as possible for the processes to be up when the dump is taken.
    const error = await runWineProgram({ prefix, exe: corpusExe('processes'), args: ['sleep'], launcher: runLauncher(prefix, ['--translate']), timeoutMs: 9_500 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WineTestError);
    expect((error as WineTestError).code).toBe('WINE_PROGRAM_TIMEOUT');
    expect((error as WineTestError).message).toContain('state dump (SIGUSR2)');
    const stderr = String((error as WineTestError).details.stderr);
    const line = stderr.split('\n').find((l) => l.includes('state dump (SIGUSR2)'));
    expect(line, 'the launcher logged the dump').toBeDefined();
    const dump = JSON.parse(line!) as Dump;
    expect(dump.wineserverPid).toBeGreaterThan(0);
    expect(dump.clients.length).toBe(dump.stats.open);
    expect(dump.clients.reduce((n, c) => n + c.threads.length, 0)).toBe(dump.stats.threads);
    // The sleeping program (and wine's own services) are up: each initialised
    // process has its first thread relayed with all three pipes open.
    const initialised = dump.clients.filter((c) => c.pid > 0);
    expect(initialised.length).toBeGreaterThan(0);
    for (const client of initialised) {
      expect(client.unixPid).toBeGreaterThan(0);
      const first = client.threads.find((t) => t.first);
      expect(first, `client ${client.connection} has its first thread`).toBeDefined();
      expect(first!.tid).toBeGreaterThan(0);
      expect(first!.pipes).toEqual({ request: true, reply: true, wait: true });
      for (const thread of client.threads) {
        // Nothing is stuck in the proxy: no routed request is still being answered.
        expect(thread.routing).toBeNull();
        expect(thread.held).toBe(0);
        expect(Array.isArray(thread.outstanding)).toBe(true);
      }
    }
  }, 300_000);
});
