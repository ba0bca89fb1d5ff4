// The legacy wineserver behind the proxy: started for one prefix in a mount
// namespace where wine's server base directory is a private one, so its
// socket lands at <private>/server-<dev>-<ino>/socket where only the proxy
// looks.

import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { fdAddon, isErrno } from './native.ts';
import { ProxyError } from './errors.ts';
import { MOUNT_FAILED_STATUS, spawnWithPrivateWineDir } from './namespace.ts';
import type { ServerLocation } from './wine-env.ts';

export interface LegacyWineserverOptions {
  wineserver: string;
  prefix: string;
  /** Where wine looks for the prefix's server directory. */
  location: ServerLocation;
  /** Mounted over `location.baseDir` for the wineserver. */
  privateRoot: string;
  /** `-p`: stay up when the last client leaves (serve), else `-p0` (run). */
  persistent: boolean;
  /** Where wineserver's stderr goes (its +server trace, its errors): an fd, or 'inherit'. */
  stderr: number | 'inherit';
  env?: NodeJS.ProcessEnv;
  log: Logger;
  startTimeoutMs?: number;
  /**
   * Files of the prefix wineserver must not write (the registry hives while
   * the proxy owns the registry): each is replaced, for wineserver only, by
   * a private copy (mappings of its mount namespace); what wineserver saves
   * lands in the copy. Each must exist (a bind mount needs a target): a
   * missing one fails the start rather than being left to wineserver.
   */
  shadowFiles?: readonly string[];
}

export interface WineserverExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class LegacyWineserver {
  readonly exited: Promise<WineserverExit>;
  private exitInfo: WineserverExit | null = null;

  private constructor(
    private readonly child: ChildProcess,
    readonly socketPath: string,
    private readonly log: Logger,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get hasExited(): boolean {
    return this.exitInfo !== null;
  }

  static async start(options: LegacyWineserverOptions): Promise<LegacyWineserver> {
    fs.mkdirSync(options.privateRoot, { recursive: true });
    const socketPath = path.join(options.privateRoot, options.location.serverDirName, 'socket');
    const argv = [options.wineserver, '--foreground', options.persistent ? '--persistent' : '--persistent=0'];
    const child = spawnWithPrivateWineDir(
      options.location.baseDir,
      options.privateRoot,
      argv,
      {
        env: { ...(options.env ?? process.env), WINEPREFIX: options.prefix },
        stdio: ['ignore', 'ignore', options.stderr],
        detached: false,
      },
      shadowCopies(options.privateRoot, options.shadowFiles ?? []),
    );
    const server = new LegacyWineserver(child, socketPath, options.log);
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
    for (;;) {
      if (server.exitInfo) {
        const { code, signal } = server.exitInfo;
        if (code === MOUNT_FAILED_STATUS) {
          throw new ProxyError('NAMESPACE_UNAVAILABLE', `cannot mount a private directory over ${options.location.baseDir} for wineserver (mount namespaces need root or CAP_SYS_ADMIN)`);
        }
        throw new ProxyError('WINESERVER_REFUSED', `wineserver for ${options.prefix} exited at start (${signal ? `signal ${signal}` : `status ${code}`}); see its messages above`);
      }
      const raced = await Promise.race([spawnError, delay(20).then(() => null)]);
      if (raced) throw new ProxyError('WINESERVER_START_FAILED', `cannot start wineserver: ${raced.message}`, { cause: raced });
      // No probe connection: wineserver would count it as a process, and
      // with --persistent=0 the end of its only process shuts it down. The
      // socket file appears at bind(); connect() retries the short moment
      // until listen().
      if (fs.existsSync(socketPath)) {
        options.log.debug({ pid: child.pid, socketPath }, 'legacy wineserver is up');
        return server;
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new ProxyError('WINESERVER_START_FAILED', `wineserver did not open ${socketPath} in time`);
      }
    }
  }

  /** A new connection to the wineserver (null: backlog full, retry). */
  connect(): number | null {
    try {
      return fdAddon.connectUnix(this.socketPath);
    } catch (error) {
      // Between bind() and listen() the socket refuses; a live server gets retried.
      if (isErrno(error, 'ECONNREFUSED') && !this.exitInfo) return null;
      if (this.exitInfo) {
        throw new ProxyError('UPSTREAM_UNAVAILABLE', `wineserver has exited (${this.exitInfo.signal ?? `status ${this.exitInfo.code}`})`);
      }
      throw error;
    }
  }

  /** SIGTERM (wineserver saves the registry and exits); SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<WineserverExit> {
    if (this.exitInfo) return this.exitInfo;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      this.log.warn({ pid: this.pid }, 'wineserver ignored SIGTERM; killing it');
      this.child.kill('SIGKILL');
    }, graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }

  /** Waits up to `timeoutMs` for wineserver to exit on its own; true if it did. */
  async waitForExit(timeoutMs: number): Promise<boolean> {
    if (this.exitInfo) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const outcome = await Promise.race([this.exited.then(() => true), timedOut]);
    clearTimeout(timer);
    return outcome;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Private copies of `files` for wineserver's mount namespace, as [copy,
 * original] bind pairs. Each copy has a second link: wineserver (like the
 * proxy, init.ts saveHivesToPrefix) writes a file with several links in
 * place instead of renaming a temporary file over it, and a rename onto a
 * mount point would fail. A restarted wineserver gets fresh copies.
 */
function shadowCopies(privateRoot: string, files: readonly string[]): Array<readonly [string, string]> {
  const dir = path.join(privateRoot, 'shadow');
  fs.rmSync(dir, { recursive: true, force: true });
  const binds: Array<readonly [string, string]> = [];
  files.forEach((file, index) => {
    if (!fs.existsSync(file)) {
      throw new ProxyError('WINESERVER_START_FAILED', `${file} does not exist, so it cannot be kept from wineserver (a bind mount needs it)`);
    }
    fs.mkdirSync(dir, { recursive: true });
    const copy = path.join(dir, `${index}-${path.basename(file)}`);
    fs.copyFileSync(file, copy);
    fs.linkSync(copy, `${copy}.link`);
    binds.push([copy, file] as const);
  });
  return binds;
}

