// Runs a command with a private directory mounted over the directory that
// holds wine's server directories (/tmp/.wine-<uid>, or Debian's per-prefix
// <root>/wine-XXXXXX; see wine-env.ts), in
// a mount namespace of its own (unshare -m). That is how the proxy puts a
// socket of its choosing where wine looks for the server (and gives the
// legacy wineserver a server directory that collides with nobody's): the
// path is fixed by Wine, so a private mount is the only transparent way.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import { ProxyError } from './errors.ts';
import { ensurePrivateDir } from './wine-env.ts';

/** Exit status of the shim when the bind mount fails. */
export const MOUNT_FAILED_STATUS = 125;

// Arguments: SOURCE TARGET pairs to bind, then `--`, then the command.
const SHIM = 'while [ "$1" != "--" ]; do mount --bind -- "$1" "$2" || exit 125; shift 2; done; shift; exec "$@"';

export function findUnshare(): string {
  for (const candidate of ['/usr/bin/unshare', '/bin/unshare']) {
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new ProxyError('NAMESPACE_UNAVAILABLE', 'unshare(1) is not installed (Debian: util-linux); the proxy needs it to place sockets where wine looks');
}

/** setpriv(1) (util-linux), or null when it is missing (the children then outlive a killed proxy). */
function findSetpriv(): string | null {
  for (const candidate of ['/usr/bin/setpriv', '/bin/setpriv']) {
    if (fs.existsSync(candidate)) return candidate;
  }
  return null;
}

/**
 * Spawns `argv` so that, for it and its children, `target` shows the
 * contents of `privateRoot`. The caller handles the child's exit; status 125 means the
 * mount failed (not permitted?).
 */
export function spawnWithPrivateWineDir(
  target: string,
  privateRoot: string,
  argv: string[],
  options: SpawnOptions,
  /** More [source, target] bind mounts for the child only (files or directories; targets must exist). */
  extraBinds: ReadonlyArray<readonly [string, string]> = [],
): ChildProcess {
  // The mount point must exist; wine would create it with the same mode.
  ensurePrivateDir(target);
  ensurePrivateDir(privateRoot);
  // setpriv --pdeathsig: if the proxy dies without warning, its wineserver
  // (and a `run` command) get SIGTERM instead of living on orphaned behind a
  // socket nobody serves; wineserver flushes its registry on SIGTERM.
  const deathSignal = findSetpriv();
  const shim = deathSignal ? [deathSignal, '--pdeathsig', 'TERM', '--', '/bin/sh'] : ['/bin/sh'];
  return spawn(findUnshare(), ['--mount', '--propagation', 'private', '--', ...shim, '-c', SHIM, 'sh', privateRoot, target, ...extraBinds.flat(), '--', ...argv], options);
}
