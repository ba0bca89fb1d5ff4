// Runs a corpus program under real Wine through `winekernel run --record`,
// with wineserver's own +server trace captured beside the recording and the
// prefix's registry files as wineserver loaded them, for the tests that
// replay real traffic through the translators (mappings/replay.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { createInProcessBackend } from '../../backends/inprocess/index.ts';
import { readPrefixHives, replayRecording, type ReplayReport, type StartingState } from '../../mappings/replay.ts';
import { readRecording, type Recording } from '../../proxy/recording/reader.ts';
import { loadProtocol } from '../../requests/protocol.ts';
import { runLauncher } from '../proxy/harness.ts';
import { corpusExe, createTestPrefix, removeTestPrefix, runWineProgram } from '../support/wine.ts';

export interface RecordedRun {
  recording: Recording;
  /** wineserver's own +server trace of the run. */
  trace: string;
  /** The registry the run started from (the clock offset is this machine's: the replay measures it). */
  start: StartingState;
}

/** Records `exe` in a fresh prefix copy (removed afterwards); `check` looks at its output. */
export async function recordProgram(label: string, exe: string, args: string[], check: (stdout: string, exitCode: number | null) => void): Promise<RecordedRun> {
  const prefix = await createTestPrefix(`replay-${label}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `wk-replay-${label}-`));
  try {
    const record = path.join(dir, `${label}.wkrec`);
    const serverTrace = path.join(dir, `${label}.server-trace`);
    const start: StartingState = { hives: readPrefixHives(prefix), monotonicRawOffset100ns: null };
    const run = await runWineProgram({
      prefix,
      exe,
      args,
      env: { WINEDEBUG: '+server' },
      launcher: runLauncher(prefix, ['--record', record, '--server-stderr', serverTrace]),
      timeoutMs: 240_000,
    });
    check(run.stdout, run.exitCode);
    return { recording: readRecording(record), trace: fs.readFileSync(serverTrace, 'utf8'), start };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await removeTestPrefix(prefix);
  }
}

/** Records the corpus program `name`, which must print "<name>: all checks passed". */
export function recordCorpusProgram(name: string): Promise<RecordedRun> {
  return recordProgram(name, corpusExe(name), [], (stdout) => expect(stdout).toContain(`${name}: all checks passed`));
}

/** Replays a recorded run through every translated family on a fresh in-process instance, keeping the compared lines. */
export function replayRun(run: RecordedRun): Promise<ReplayReport> {
  return replayRecording(run.recording, {
    protocol: loadProtocol('wine-8.0'),
    backend: createInProcessBackend(),
    hives: run.start.hives,
    monotonicRawOffset100ns: run.start.monotonicRawOffset100ns,
    keepLines: true,
    maxExamples: 20,
  });
}

/** Every difference a replay found (mismatched replies, wake-ups, mirrored outcomes): empty when it matched throughout. */
export function replayDifferences(report: ReplayReport): string[] {
  return [...Object.values(report.types).flatMap((t) => t.examples), ...report.wakeups.examples, ...report.mirrored.examples];
}

/** The skip reasons of a replay that match none of `allowed`. */
export function unexpectedSkips(report: ReplayReport, allowed: RegExp[]): string[] {
  return Object.keys(report.skipped).filter((why) => !allowed.some((re) => re.test(why)));
}

/** The compared lines (wineserver's) of these request types. */
export function linesOf(report: ReplayReport, requests: readonly string[]): string[] {
  return report.lines.filter((l) => requests.some((r) => l.includes(`: ${r}() = `)));
}

/** The lines of `lines` that do not occur in `trace` in that order (empty when all do). */
export function missingFromTraceInOrder(lines: string[], trace: string): string[] {
  const missing: string[] = [];
  let from = 0;
  for (const line of lines) {
    const at = trace.indexOf(`${line}\n`, from);
    if (at < 0) missing.push(line);
    else from = at + line.length;
  }
  return missing;
}
