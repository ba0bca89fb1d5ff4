import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, ensureWineSource } from '../helpers/wine-source.ts';

describe('generated protocol', () => {
  it('regenerating from protocol.def yields no diff', () => {
    ensureWineSource();
    // --check exits 1 and names each file that differs.
    const run = () =>
      execFileSync(process.execPath, ['--import', 'tsx', 'requests/generator/cli.ts', '--check'], {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    expect(run).not.toThrow();
  });
});
