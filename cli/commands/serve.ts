// `winekernel serve --prefix DIR`: takes the prefix's wineserver socket so
// that every wine command on that prefix goes through the proxy, with a
// private legacy wineserver behind it, until SIGINT/SIGTERM.

import fs from 'node:fs';
import path from 'node:path';
import type { Command } from '../main.ts';
import { ProxyError } from '../../proxy/errors.ts';
import { parseProxyArgs, reportFailure } from '../../proxy/cli-options.ts';
import { createProxyLogger } from '../../proxy/logger.ts';
import { fdAddon, isErrno } from '../../proxy/native.ts';
import { ProxySession } from '../../proxy/session.ts';
import { ensurePrivateDir, findWine, requireExistingPrefix, resolvePrefix, serverLocation } from '../../proxy/wine-env.ts';

const USAGE = `usage: winekernel serve [--prefix DIR] [--record FILE] [--log-level LEVEL] [--log-file FILE]
                       [--server-stderr FILE] [--translate [--backend KIND] [--registry-save-period S]]

Serves the prefix (default: $WINEPREFIX or ~/.wine) at the socket wine looks
for, so that any wine command on it goes through the proxy, until SIGINT or
SIGTERM (also sent by 'wineserver -k'). The legacy wineserver behind it is
private, persistent while serving, and restarted if it dies. Run it with the
same TMPDIR as the wine commands (Debian's wine places the socket under it
unless /run/user/<uid> exists).

  --record FILE         record all traffic to FILE (docs/fixture-format.md)
  --log-level LEVEL     fatal|error|warn|info|debug|trace|silent (default warn)
  --log-file FILE       proxy log (JSON lines) to FILE instead of stderr
  --server-stderr FILE  wineserver's stderr (its WINEDEBUG=+server trace) to FILE
  --translate           answer translated requests in the proxy (the registry,
                        owned by the proxy for the session: docs/translation.md)
  --backend KIND        primitives backend for --translate: inprocess (default) or device
  --registry-save-period S
                        with --translate: save a changed registry into the prefix
                        every S seconds (default 30, as wineserver) and at the end
`;

/** Takes the wineserver lock of the server directory; false if someone holds it. */
function takeServerLock(serverDir: string): number | null {
  const fd = fs.openSync(path.join(serverDir, 'lock'), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  if (fdAddon.lockFile(fd)) return fd;
  fs.closeSync(fd);
  return null;
}

/** Removes a socket nobody listens on; refuses one that answers. */
function claimSocketPath(socketPath: string, prefix: string): void {
  if (!fs.existsSync(socketPath)) return;
  try {
    const probe = fdAddon.connectUnix(socketPath);
    if (probe !== null) fdAddon.close(probe);
  } catch (error) {
    if (isErrno(error, 'ECONNREFUSED', 'ENOENT')) {
      fs.rmSync(socketPath, { force: true });
      return;
    }
    throw error;
  }
  throw new ProxyError('SOCKET_PATH_TAKEN', `something already serves ${prefix} at ${socketPath}; stop it first (WINEPREFIX=${prefix} wineserver -k)`);
}

export const command: Command = {
  summary: 'serve a prefix through the proxy',
  async run(args: string[]): Promise<number> {
    let session: ProxySession | null = null;
    let lockFd: number | null = null;
    let socketPath: string | null = null;
    try {
      const { options } = parseProxyArgs(args, false);
      if (options.help) {
        process.stdout.write(USAGE);
        return 0;
      }
      const log = createProxyLogger(options.logLevel, options.logFile);
      const wine = findWine();
      const prefix = resolvePrefix(options.prefix);
      requireExistingPrefix(prefix);
      const location = serverLocation(prefix, wine.wineserver);
      ensurePrivateDir(location.baseDir);
      const serverDir = path.join(location.baseDir, location.serverDirName);
      ensurePrivateDir(serverDir);
      lockFd = takeServerLock(serverDir);
      if (lockFd === null) {
        throw new ProxyError('SOCKET_PATH_TAKEN', `a wineserver is already running for ${prefix} (it holds ${serverDir}/lock); stop it first (WINEPREFIX=${prefix} wineserver -k)`);
      }
      claimSocketPath(location.socketPath, prefix);

      session = await ProxySession.start({ mode: 'serve', wine, prefix, recordFile: options.record, serverStderrFile: options.serverStderr, log, translate: options.translate ? { backend: options.backend, savePeriodMs: options.registrySavePeriod * 1000 } : null });
      session.proxy.listen(location.socketPath);
      socketPath = location.socketPath;
      process.stderr.write(`winekernel serve: serving ${prefix} at ${location.socketPath} (pid ${process.pid})\n`);

      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      });
      log.info({ signal }, 'stopping');
      fs.rmSync(socketPath, { force: true });
      socketPath = null;
      await session.stop();
      session = null;
      return 0;
    } catch (error) {
      if (session) await session.stop().catch(() => {});
      return reportFailure('serve', error);
    } finally {
      if (socketPath) fs.rmSync(socketPath, { force: true });
      if (lockFd !== null) fs.closeSync(lockFd);
    }
  },
};
