// Peer check: for one run through the proxy, the +server trace printed from
// the recording (requests/ formatting) equals wineserver's own
// WINEDEBUG=+server trace, thread by thread, line for line. The lines that
// cannot match are listed and justified in docs/fixture-format.md.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus, corpusExe, createTestPrefix, ensureTemplatePrefix, ensureWineInstalled, removeTestPrefix, runWineProgram } from '../support/wine.js';
import { loadProtocol } from '../../requests/protocol.ts';
import { readRecording } from '../../proxy/recording/reader.ts';
import { traceLinesByThread, serverTraceLinesByThread, compareTraces } from '../../proxy/recording/trace-compare.ts';
import { runLauncher } from './harness.ts';

const prefixes: string[] = [];

beforeAll(async () => {
  ensureWineInstalled();
  buildCorpus();
  await ensureTemplatePrefix();
}, 600_000);

afterEach(async () => {
  while (prefixes.length) await removeTestPrefix(prefixes.pop()!);
});

describe('recording versus wineserver +server trace', () => {
  for (const [label, exe, args] of [
    ['cmd /c echo', 'cmd', ['/c', 'echo', 'peer']],
    ['atoms.exe', 'atoms', []],
  ] as const) {
    it(`${label}: identical request and reply lines per thread`, async () => {
      const prefix = await createTestPrefix(`proxy-peer-${label.replace(/\W+/g, '-')}`);
      prefixes.push(prefix);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wk-peer-'));
      const record = path.join(dir, 'run.wkrec');
      const serverTrace = path.join(dir, 'server.trace');
      const result = await runWineProgram({
        prefix,
        exe: exe === 'cmd' ? 'cmd' : corpusExe(exe),
        args: [...args],
        env: { WINEDEBUG: '+server' },
        launcher: runLauncher(prefix, ['--record', record, '--server-stderr', serverTrace]),
        timeoutMs: 120_000,
      });
      expect(result.exitCode).toBe(0);

      const protocol = loadProtocol(758);
      const ours = traceLinesByThread(protocol, readRecording(record));
      const theirs = serverTraceLinesByThread(fs.readFileSync(serverTrace, 'utf8'));
      const comparison = compareTraces(theirs, ours);
      expect(comparison.lines).toBeGreaterThan(1000);
      expect(comparison.threads).toBe(ours.size);
      expect(comparison.mismatches.slice(0, 5)).toEqual([]);
      // Requests wineserver never read (process killed at shutdown): a handful at most.
      expect(comparison.unreadTail.length).toBeLessThan(ours.size);
    }, 300_000);
  }
});
