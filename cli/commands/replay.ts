// `winekernel replay FIXTURE... [--backend inprocess|device] [--hives FILE] [--json]`:
// every request of a translated type in a recording answered again by the
// translators and compared with the recorded reply (docs/replay.md).
// Exit status: 0 all matched, 1 a mismatch (or a fixture that cannot be
// replayed), 2 usage.
//
// `winekernel replay --save-hives PREFIX --out FILE` writes the snapshot of a
// prefix's registry files that a fixture needs (scripts/record-fixtures.sh).

import fs from 'node:fs';
import { parseArgs } from 'node:util';
import type { Command } from '../main.ts';
import type { Backend } from '../../backends/primitives.ts';
import { decodeStartingState, encodeHiveSnapshot, findStartingHives, replayRecording, ReplayError, type ReplayReport, type StartingState } from '../../mappings/replay.ts';
import { WaitClockError } from '../../mappings/sync/mutexes.ts';
import { readRecording, RecordingFormatError } from '../../proxy/recording/reader.ts';
import { ProtocolError } from '../../requests/errors.ts';
import { loadProtocol } from '../../requests/protocol.ts';
import { WinekernelError } from '../../errors/winekernel-error.ts';

const USAGE = `usage: winekernel replay FIXTURE... [--backend inprocess|device] [--hives FILE] [--json]
       winekernel replay --save-hives PREFIX --out FILE

Answers every recorded request of a translated type (registry, atoms,
object namespace, object security, mutexes and waits on one mutex) again
through the translators, in recorded order, and compares each reply's trace
line with the recorded one (handles and atom numbers mapped, run-time key
times masked: docs/replay.md); forwarded requests that name objects in the
namespace are mirrored and their status compared. The registry starts from
FIXTURE's snapshot (<name>.hives.json.gz beside it), or --hives FILE, or the
prefix the recording names if its files are still there. Exit status 1 on
any mismatch.
`;

async function openBackend(kind: string): Promise<Backend> {
  if (kind === 'inprocess') return (await import('../../backends/inprocess/index.ts')).createInProcessBackend();
  if (kind === 'device') return (await import('../../backends/device/index.ts')).createDeviceBackend();
  throw new ReplayUsageError(`unknown backend '${kind}' (inprocess or device)`);
}

class ReplayUsageError extends WinekernelError<'USAGE'> {
  constructor(message: string) {
    super('USAGE', message);
  }
}

interface FixtureResult {
  fixture: string;
  hives: string | null;
  report?: ReplayReport;
  error?: { code: string; message: string };
}

function printHuman(result: FixtureResult): void {
  const out = process.stdout;
  if (result.error) {
    out.write(`${result.fixture}: cannot replay: ${result.error.message}\n`);
    return;
  }
  const r = result.report!;
  out.write(`${result.fixture}: ${r.matched}/${r.replayed} replies match (${Math.round(r.elapsedMs)} ms, registry from ${result.hives ?? 'nowhere: registry requests skipped'})\n`);
  const families = Object.entries(r.families).sort();
  if (families.length) out.write(`  families: ${families.map(([name, f]) => `${name} ${f.matched}/${f.replayed}`).join(', ')}\n`);
  const row = (name: string, matched: number, compared: number, skipped: number, examples: string[]) => {
    const bad = compared - matched;
    out.write(`  ${name.padEnd(22)} ${String(matched).padStart(6)}/${String(compared).padEnd(6)}${skipped ? ` skipped ${skipped}` : ''}${bad ? `  MISMATCH ${bad}` : ''}\n`);
    for (const example of examples) out.write(`    ${example.replace(/\n/g, '\n    ')}\n`);
  };
  for (const [name, s] of Object.entries(r.types).sort()) row(name, s.matched, s.replayed, s.skipped, s.examples);
  if (r.wakeups.compared) row('(wake-ups)', r.wakeups.matched, r.wakeups.compared, 0, r.wakeups.examples);
  if (r.mirrored.compared) row('(mirrored forwarded)', r.mirrored.matched, r.mirrored.compared, 0, r.mirrored.examples);
  for (const [why, n] of Object.entries(r.skipped)) out.write(`  skipped ${n}: ${why}\n`);
}

export const command: Command = {
  summary: 'replay a recording through the translators and compare every reply',
  async run(args) {
    let values: { backend?: string; hives?: string; json?: boolean; help?: boolean; 'save-hives'?: string; out?: string };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: {
          backend: { type: 'string', default: 'inprocess' },
          hives: { type: 'string' },
          json: { type: 'boolean', default: false },
          help: { type: 'boolean', default: false },
          'save-hives': { type: 'string' },
          out: { type: 'string' },
        },
      }));
    } catch (error) {
      process.stderr.write(`winekernel replay: ${(error as Error).message}\n${USAGE}`);
      return 2;
    }
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (values['save-hives']) {
      if (!values.out) {
        process.stderr.write(`winekernel replay: --save-hives needs --out FILE\n`);
        return 2;
      }
      fs.writeFileSync(values.out, encodeHiveSnapshot(values['save-hives']));
      return 0;
    }
    if (positionals.length === 0) {
      process.stderr.write(USAGE);
      return 2;
    }
    let backend: Backend;
    try {
      backend = await openBackend(values.backend!);
    } catch (error) {
      process.stderr.write(`winekernel replay: ${(error as Error).message}\n`);
      return error instanceof ReplayUsageError ? 2 : 1;
    }
    const results: FixtureResult[] = [];
    for (const fixture of positionals) {
      const result: FixtureResult = { fixture, hives: null };
      try {
        const recording = readRecording(fixture);
        const protocol = loadProtocol(recording.header.protocolVersion || undefined);
        let start: StartingState | null = null;
        if (values.hives) {
          start = decodeStartingState(fs.readFileSync(values.hives), values.hives);
          result.hives = values.hives;
        } else {
          const found = findStartingHives(fixture, recording);
          if (found) ({ source: result.hives, ...start } = found);
        }
        result.report = await replayRecording(recording, { protocol, backend, hives: start?.hives, monotonicRawOffset100ns: start?.monotonicRawOffset100ns });
      } catch (error) {
        const expected = error instanceof RecordingFormatError || error instanceof ProtocolError || error instanceof ReplayError || error instanceof WaitClockError;
        if (!expected && (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        result.error = { code: String((error as { code?: string }).code), message: (error as Error).message };
      }
      results.push(result);
      if (!values.json) printHuman(result);
    }
    if (values.json) {
      const summary = results.map((r) => ({
        fixture: r.fixture,
        hives: r.hives,
        error: r.error ?? null,
        replayed: r.report?.replayed ?? 0,
        matched: r.report?.matched ?? 0,
        mismatched: r.report?.mismatched ?? 0,
        byteExact: r.report?.byteExact ?? 0,
        families: r.report?.families ?? {},
        types: Object.fromEntries(Object.entries(r.report?.types ?? {}).map(([name, s]) => [name, { replayed: s.replayed, matched: s.matched, skipped: s.skipped, examples: s.examples }])),
        wakeups: r.report?.wakeups ?? null,
        mirrored: r.report?.mirrored ?? null,
        unanswerable: r.report?.unanswerable ?? [],
        skipped: r.report?.skipped ?? {},
        elapsedMs: r.report ? Math.round(r.report.elapsedMs) : 0,
      }));
      process.stdout.write(JSON.stringify({ backend: values.backend, fixtures: summary }, null, 2) + '\n');
    }
    const failed = results.some((r) => r.error || !r.report || r.report.mismatched > 0);
    return failed ? 1 : 0;
  },
};
