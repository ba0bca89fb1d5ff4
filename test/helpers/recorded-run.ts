// Runs a corpus program under real Wine through `winekernel run --record`,
// with wineserver's own +server trace captured beside the recording, for
// the tests that replay real traffic through the translators.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { readRecording, type Recording } from '../../proxy/recording/reader.ts';
import { runLauncher } from '../proxy/harness.ts';
import { corpusExe, createTestPrefix, removeTestPrefix, runWineProgram } from '../support/wine.ts';

/** Records `name` (which must print "<name>: all checks passed") in a fresh prefix copy, removed afterwards. */
export async function recordCorpusProgram(name: string): Promise<{ recording: Recording; trace: string }> {
  const prefix = await createTestPrefix(`replay-${name}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `wk-replay-${name}-`));
  try {
    const record = path.join(dir, `${name}.wkrec`);
    const serverTrace = path.join(dir, `${name}.server-trace`);
    const run = await runWineProgram({
      prefix,
      exe: corpusExe(name),
      env: { WINEDEBUG: '+server' },
      launcher: runLauncher(prefix, ['--record', record, '--server-stderr', serverTrace]),
      timeoutMs: 240_000,
    });
    expect(run.stdout).toContain(`${name}: all checks passed`);
    return { recording: readRecording(record), trace: fs.readFileSync(serverTrace, 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await removeTestPrefix(prefix);
  }
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
