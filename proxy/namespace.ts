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

const SHIM = 'mount --bind -- "$1" "$2" || exit 125; shift 2; exec "$@"';

export function findUnshare(): string {
  for (const candidate of ['/usr/bin/unshare', '/bin/unshare']) {
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new ProxyError('NAMESPACE_UNAVAILABLE', 'unshare(1) is not installed (Debian: util-linux); the proxy needs it to place sockets where wine looks');
}

/**
 * Spawns `argv` so that, for it and its children, `target` shows the
 * contents of `privateRoot`. The caller handles the child's exit; status 125 means the
 * mount failed (not permitted?).
 */
export function spawnWithPrivateWineDir(target: string, privateRoot: string, argv: string[], options: SpawnOptions): ChildProcess {
  // The mount point must exist; wine would create it with the same mode.
  ensurePrivateDir(target);
  ensurePrivateDir(privateRoot);
  return spawn(findUnshare(), ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', SHIM, 'sh', privateRoot, target, ...argv], options);
}
