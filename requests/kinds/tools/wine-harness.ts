// Builds wine-trace-harness.c against a Wine source tree: copies the tree's
// server/ and include/ to a scratch directory, runs Wine's make_requests
// there to generate server_protocol.h, extracts get_timeout_str (fd.c) and
// dump_strW (unicode.c), and compiles with gcc. Needs gcc and perl.

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WinekernelError } from '../../../errors/winekernel-error.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_WINE_SRC = join(here, '../../../third_party/wine-src');

export class HarnessBuildError extends WinekernelError<'WK_TRACE_HARNESS_BUILD'> {
  constructor(message: string) {
    super('WK_TRACE_HARNESS_BUILD', message);
  }
}

/** The text of a top-level C function, from its signature line to the closing brace at column 0. */
function extractFunction(source: string, signature: string): string {
  const start = source.indexOf(`\n${signature}`);
  if (start < 0) throw new HarnessBuildError(`cannot find "${signature}" in the Wine sources`);
  const end = source.indexOf('\n}\n', start);
  return source.slice(start + 1, end + 3);
}

export function buildWineTraceHarness(wineSrc = DEFAULT_WINE_SRC): string {
  for (const tool of ['gcc', 'perl']) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
    } catch {
      throw new HarnessBuildError(`${tool} is required to build the wineserver trace harness (apt-get install ${tool})`);
    }
  }
  if (!existsSync(join(wineSrc, 'server/trace.c'))) throw new HarnessBuildError(`no Wine source tree at ${wineSrc}`);
  const work = mkdtempSync(join(tmpdir(), 'wk-trace-harness-'));
  cpSync(join(wineSrc, 'server'), join(work, 'server'), { recursive: true });
  cpSync(join(wineSrc, 'include'), join(work, 'include'), { recursive: true });
  mkdirSync(join(work, 'tools'));
  cpSync(join(wineSrc, 'tools/make_requests'), join(work, 'tools/make_requests'));
  execFileSync('perl', ['tools/make_requests'], { cwd: work, stdio: 'ignore' });
  writeFileSync(join(work, 'include/config.h'), '');
  const helpers =
    extractFunction(readFileSync(join(work, 'server/fd.c'), 'utf8'), 'const char *get_timeout_str') +
    extractFunction(readFileSync(join(work, 'server/unicode.c'), 'utf8'), 'int dump_strW');
  writeFileSync(join(work, 'server/wine_helpers.inc'), helpers);
  const binary = join(work, 'harness');
  try {
    execFileSync(
      'gcc',
      ['-w', '-O2', '-DNOCRYPT', '-DNOGDI', '-I', join(work, 'include'), '-I', join(work, 'server'), '-o', binary, join(here, 'wine-trace-harness.c')],
      { stdio: 'pipe' },
    );
  } catch (err) {
    throw new HarnessBuildError(`gcc failed: ${(err as { stderr?: Buffer }).stderr?.toString() ?? err}`);
  }
  return binary;
}
