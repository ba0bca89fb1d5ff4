// Tests that compare against Wine's own sources get them here: the source
// package is fetched (apt-get source) if it is not unpacked yet, so these
// tests never silently pass for want of it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..');
export const WINE_SOURCE = join(PROJECT_ROOT, 'third_party', 'wine-src');

export function ensureWineSource(): string {
  if (!existsSync(join(WINE_SOURCE, 'server', 'protocol.def'))) {
    execFileSync('bash', [join(PROJECT_ROOT, 'scripts', 'fetch-wine-source.sh')], { stdio: 'inherit' });
  }
  if (!existsSync(join(WINE_SOURCE, 'server', 'protocol.def'))) {
    throw new Error(`Wine's source could not be fetched into ${WINE_SOURCE}`);
  }
  return WINE_SOURCE;
}
