// Where Wine keeps things on this machine: the binaries, the prefix, and the
// server directory whose name the clients derive from the prefix's device
// and inode (/tmp/.wine-<uid>/server-<dev hex>-<inode hex>, a fixed /tmp
// path: TMPDIR does not move it).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ProxyError } from './errors.ts';

export interface WineInstallation {
  /** The `wine` launcher. */
  wine: string;
  /** The wineserver binary itself (not Debian's wrapper, which adds -p0). */
  wineserver: string;
  version: string;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return null;
}

export function findWine(env: NodeJS.ProcessEnv = process.env): WineInstallation {
  const wine = onPath('wine') ?? (isExecutable('/usr/bin/wine') ? '/usr/bin/wine' : null);
  const candidates = [env.WINESERVER, '/usr/lib/wine/wineserver64', '/usr/lib/wine/wineserver', onPath('wineserver') ?? undefined];
  const wineserver = candidates.find((c): c is string => !!c && isExecutable(c)) ?? null;
  if (!wine || !wineserver) {
    throw new ProxyError(
      'WINE_NOT_INSTALLED',
      `Wine is not installed (${!wine ? 'no `wine` on PATH' : 'no wineserver found'}); install it (Debian: apt-get install wine64) or set WINESERVER`,
    );
  }
  let version = 'unknown';
  try {
    version = execFileSync(wine, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  } catch {
    // the version is informational only
  }
  return { wine, wineserver, version };
}

/** The prefix a wine command would use: WINEPREFIX, else ~/.wine; always absolute. */
export function resolvePrefix(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = explicit ?? env.WINEPREFIX ?? path.join(env.HOME ?? os.homedir(), '.wine');
  const absolute = path.resolve(chosen).replace(/\/+$/, '');
  return absolute === '' ? '/' : absolute;
}

/** Checks the prefix exists and is a directory owned by us (as wine requires). */
export function requireExistingPrefix(prefix: string): fs.Stats {
  let stats: fs.Stats;
  try {
    stats = fs.statSync(prefix);
  } catch {
    throw new ProxyError('PREFIX_MISSING', `the Wine prefix ${prefix} does not exist; create it first (e.g. \`winekernel run --prefix ${prefix} -- wineboot --init\`)`);
  }
  if (!stats.isDirectory()) throw new ProxyError('PREFIX_INVALID', `the Wine prefix ${prefix} is not a directory`);
  if (stats.uid !== process.getuid!()) throw new ProxyError('PREFIX_INVALID', `the Wine prefix ${prefix} is not owned by you`);
  return stats;
}

/**
 * Makes sure the prefix directory exists, as wine's first process would
 * (it only needs to exist for its device and inode; wine fills it).
 */
export function ensurePrefixDirectory(prefix: string): void {
  if (fs.existsSync(prefix)) return;
  const parent = path.dirname(prefix);
  if (!fs.existsSync(parent)) {
    throw new ProxyError('PREFIX_MISSING', `cannot create the Wine prefix ${prefix}: its parent directory ${parent} does not exist`);
  }
  fs.mkdirSync(prefix, { mode: 0o777 });
}

/** /tmp/.wine-<uid>: the directory wine and wineserver put server directories in. */
export function wineTmpDir(): string {
  return `/tmp/.wine-${process.getuid!()}`;
}

/** `server-<dev hex>-<inode hex>`, the per-prefix server directory name. */
export function serverDirName(prefix: string): string {
  const stats = fs.statSync(prefix, { bigint: true });
  return `server-${stats.dev.toString(16)}-${stats.ino.toString(16)}`;
}

/** Creates a directory with mode 0700 if missing; checks owner and mode as wine does. */
export function ensurePrivateDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stats = fs.statSync(dir);
  if (!stats.isDirectory()) throw new ProxyError('PREFIX_INVALID', `${dir} is not a directory`);
  if (stats.uid !== process.getuid!()) throw new ProxyError('PREFIX_INVALID', `${dir} is not owned by you`);
  if ((stats.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
}
