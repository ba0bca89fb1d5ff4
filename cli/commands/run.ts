// `winekernel run [options] -- COMMAND...`: runs a wine command with every
// wineserver request of it and its children going through the proxy.

import path from 'node:path';
import { constants as osConstants } from 'node:os';
import type { Command } from '../main.ts';
import { ProxyError } from '../../proxy/errors.ts';
import { parseProxyArgs, reportFailure } from '../../proxy/cli-options.ts';
import { createProxyLogger } from '../../proxy/logger.ts';
import { MOUNT_FAILED_STATUS, spawnWithPrivateWineDir } from '../../proxy/namespace.ts';
import { ProxySession } from '../../proxy/session.ts';
import { ensurePrefixDirectory, ensurePrivateDir, findWine, resolvePrefix } from '../../proxy/wine-env.ts';

const USAGE = `usage: winekernel run [--prefix DIR] [--record FILE] [--log-level LEVEL] [--log-file FILE]
                     [--server-stderr FILE] [--translate [--backend KIND] [--registry-save-period S]] -- COMMAND [ARGS...]

Runs COMMAND (e.g. wine PROGRAM ARGS) against a private wineserver for the
prefix (default: $WINEPREFIX or ~/.wine), with all its wineserver traffic and
that of every process it starts going through the winekernel proxy.
Exits with COMMAND's status once the wineserver has shut down (as
'wine ...; wineserver -w' would); 125 when the proxy cannot start.

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

/** How long the wineserver may take to shut down after the command (system processes quit first). */
const SERVER_SHUTDOWN_WAIT_MS = 30_000;

export const command: Command = {
  summary: 'run a wine command through the proxy',
  async run(args: string[]): Promise<number> {
    let session: ProxySession | null = null;
    try {
      const { options, command: argv } = parseProxyArgs(args, true);
      if (options.help) {
        process.stdout.write(USAGE);
        return 0;
      }
      if (argv.length === 0) throw new ProxyError('USAGE', `no command given\n${USAGE}`);
      const log = createProxyLogger(options.logLevel, options.logFile);
      const wine = findWine();
      const prefix = resolvePrefix(options.prefix);
      ensurePrefixDirectory(prefix);

      session = await ProxySession.start({
        mode: 'run',
        wine,
        prefix,
        recordFile: options.record,
        serverStderrFile: options.serverStderr,
        command: argv,
        log,
        translate: options.translate ? { backend: options.backend, savePeriodMs: options.registrySavePeriod * 1000 } : null,
      });

      // For the command, wine's server base directory is a private one
      // holding only the proxy's socket, named as wine derives it.
      const clientRoot = path.join(session.privateRoot, 'client');
      ensurePrivateDir(clientRoot);
      const serverDir = path.join(clientRoot, session.location.serverDirName);
      ensurePrivateDir(serverDir);
      session.proxy.listen(path.join(serverDir, 'socket'));

      const child = spawnWithPrivateWineDir(session.location.baseDir, clientRoot, argv, {
        stdio: 'inherit',
        env: { ...process.env, WINEPREFIX: prefix },
      });
      const forward = (signal: NodeJS.Signals) => child.kill(signal);
      process.on('SIGINT', forward);
      process.on('SIGTERM', forward);
      const status = await new Promise<number>((resolve, reject) => {
        child.once('error', (error) => reject(new ProxyError('NAMESPACE_UNAVAILABLE', `cannot start ${argv[0]}: ${error.message}`)));
        child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? osConstants.signals[signal] : 0)));
      });
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      if (status === MOUNT_FAILED_STATUS) {
        log.warn('the command exited with 125: either it did, or the private /tmp/.wine mount failed');
      }

      // Like `wineserver -w`: the command's helper processes (services,
      // explorer...) end when wineserver tells them to, then it exits.
      if (!(await session.server.waitForExit(SERVER_SHUTDOWN_WAIT_MS))) {
        log.warn('wineserver still running after the command; stopping it');
      }
      await session.stop();
      session = null;
      return status;
    } catch (error) {
      if (session) await session.stop().catch(() => {});
      return reportFailure('run', error);
    }
  },
};

