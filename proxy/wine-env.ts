// Where Wine keeps things on this machine: the binaries, the prefix, and the
// server directory whose name the clients derive from the prefix's device
// and inode (see serverLocation for the two layouts in use).

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
  // Wine's own variables name the binaries explicitly; an explicit path that
  // is not there is an error, not a reason to pick another installation.
  if (env.WINESERVER && !isExecutable(env.WINESERVER)) {
    throw new ProxyError('WINE_NOT_INSTALLED', `WINESERVER=${env.WINESERVER} is not an executable; install Wine (Debian: apt-get install wine64) or fix WINESERVER`);
  }
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

/**
 * Where wine and wineserver put a prefix's server directory. Two layouts:
 *
 * - upstream Wine: /tmp/.wine-<uid>/server-<dev>-<ino>
 * - Debian's patched Wine (the one installed here): <root>/<name>/server-<dev>-<ino>,
 *   where <root> is /run/user/<uid> if that exists, else $TMPDIR, else /tmp,
 *   and <name> ("wine-" + 6 random characters) is kept in the file
 *   <prefix>/wineserver, created (mode 0400) by whoever comes first.
 *
 * In both, "base" is the directory holding server-<dev>-<ino>; the proxy
 * mounts private directories over it.
 */
export type ServerDirLayout = 'upstream' | 'debian-tmpdir';

export interface ServerLocation {
  layout: ServerDirLayout;
  /** The directory holding server-<dev>-<ino>. */
  baseDir: string;
  /** server-<dev hex>-<inode hex> */
  serverDirName: string;
  /** baseDir/serverDirName/socket */
  socketPath: string;
}

const layoutCache = new Map<string, ServerDirLayout>();

/** Tells the layouts apart by a string only Debian's patched wineserver contains. */
export function detectServerDirLayout(wineserver: string): ServerDirLayout {
  let layout = layoutCache.get(wineserver);
  if (!layout) {
    const binary = fs.readFileSync(fs.realpathSync(wineserver));
    layout = binary.includes('wineserver tmpdir') && binary.includes('wine-XXXXXX') ? 'debian-tmpdir' : 'upstream';
    layoutCache.set(wineserver, layout);
  }
  return layout;
}

const DEBIAN_NAME = /^wine-[A-Za-z0-9]{6}$/;

function debianRoot(env: NodeJS.ProcessEnv): string {
  const runtime = `/run/user/${process.getuid!()}`;
  try {
    if (fs.statSync(runtime).isDirectory()) return runtime;
  } catch {
    // no per-user runtime directory
  }
  return env.TMPDIR || '/tmp';
}

/** Reads (or, like the first wine process would, creates) <prefix>/wineserver. */
function debianBaseDir(prefix: string, env: NodeJS.ProcessEnv): string {
  const root = debianRoot(env);
  const nameFile = path.join(prefix, 'wineserver');
  let name: string;
  if (fs.existsSync(nameFile)) {
    name = fs.readFileSync(nameFile, 'utf8').trim();
    if (!DEBIAN_NAME.test(name)) {
      throw new ProxyError('PREFIX_INVALID', `${nameFile} does not hold a wineserver directory name (found ${JSON.stringify(name.slice(0, 40))}); remove it and retry`);
    }
  } else {
    name = path.basename(fs.mkdtempSync(path.join(root, 'wine-')));
    fs.writeFileSync(nameFile, name, { mode: 0o400, flag: 'wx' });
  }
  return path.join(root, name);
}

export function serverLocation(prefix: string, wineserver: string, env: NodeJS.ProcessEnv = process.env): ServerLocation {
  const layout = detectServerDirLayout(wineserver);
  const baseDir = layout === 'debian-tmpdir' ? debianBaseDir(prefix, env) : `/tmp/.wine-${process.getuid!()}`;
  const stats = fs.statSync(prefix, { bigint: true });
  const serverDirName = `server-${stats.dev.toString(16)}-${stats.ino.toString(16)}`;
  return { layout, baseDir, serverDirName, socketPath: path.join(baseDir, serverDirName, 'socket') };
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
