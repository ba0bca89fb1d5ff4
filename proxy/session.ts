// Pieces shared by `winekernel run` and `winekernel serve`: a proxy in
// front of a private legacy wineserver, with optional recording.

import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { LegacyWineserver } from './legacy-wineserver.ts';
import { loadProxyProtocol } from './protocol-adapter.ts';
import { WineserverProxy } from './proxy-server.ts';
import { NullRecorder, RecordingWriter, type Recorder } from './recording/writer.ts';
import { RecordKind } from './recording/format.ts';
import { createMissingHives, PREFIX_HIVES } from '../mappings/registry/init.ts';
import { TranslationRouter } from './translate/router.ts';
import { serverLocation, type ServerLocation, type WineInstallation } from './wine-env.ts';

export interface SessionOptions {
  mode: 'run' | 'serve';
  wine: WineInstallation;
  prefix: string;
  recordFile?: string;
  /** Where wineserver's stderr goes; inherit by default. */
  serverStderrFile?: string;
  command?: string[];
  log: Logger;
  /** Answer translated requests in the proxy (the registry, owned for the session). */
  translate?: { backend: 'inprocess' | 'device'; savePeriodMs?: number } | null;
}

/** A proxy with its wineserver; `restartable` servers come back on the next client after dying. */
export class ProxySession {
  server: LegacyWineserver;
  /** The prefix's files wineserver must never write (the hives, when the proxy owns the registry). */
  private readonly shadowFiles: readonly string[];
  private restarting: Promise<void> | null = null;
  private stopping = false;
  /**
   * SIGUSR2 logs (at warn, so with the default level) what every client
   * thread waits for: the first thing to look at when a program hangs
   * behind the proxy. The test harness sends it before killing a program
   * that timed out.
   */
  private readonly dumpState = () => {
    this.options.log.warn({ wineserverPid: this.server.pid, ...this.proxy.describe(), router: this.router?.stats ?? null }, 'state dump (SIGUSR2)');
  };

  private constructor(
    readonly options: SessionOptions,
    readonly privateRoot: string,
    readonly proxy: WineserverProxy,
    readonly recorder: Recorder,
    readonly location: ServerLocation,
    server: LegacyWineserver,
    private readonly serverStderr: number | 'inherit',
    readonly router: TranslationRouter | null,
  ) {
    this.server = server;
    this.shadowFiles = shadowFilesFor(options);
    process.on('SIGUSR2', this.dumpState);
  }

  static async start(options: SessionOptions): Promise<ProxySession> {
    const protocol = loadProxyProtocol();
    const recorder: Recorder = options.recordFile
      ? new RecordingWriter(
          options.recordFile,
          { protocolVersion: protocol.protocolVersion, wineVersion: options.wine.version, prefix: options.prefix, command: options.command, mode: options.mode },
          (error) => options.log.error({ err: error.message }, 'recording stopped'),
        )
      : new NullRecorder();
    const privateRoot = fs.mkdtempSync('/tmp/winekernel-') // short: socket paths are limited to 107 bytes;
    const location = serverLocation(options.prefix, options.wine.wineserver);
    const serverStderr = options.serverStderrFile ? fs.openSync(options.serverStderrFile, 'a') : 'inherit';
    // The proxy owns the registry: wineserver's copy goes stale and must never reach the prefix, so
    // every hive is shadowed for it, those the prefix lacks too (made first, as wineserver loads nothing).
    const madeHives = options.translate ? createMissingHives(options.prefix) : [];
    if (madeHives.length) options.log.debug({ files: madeHives }, 'hive files the prefix lacked made empty, to be shadowed for wineserver');
    const forgetMadeHives = () => {
      for (const file of madeHives) fs.rmSync(file, { force: true });
    };
    let server: LegacyWineserver;
    try {
      server = await LegacyWineserver.start({
        wineserver: options.wine.wineserver,
        prefix: options.prefix,
        location,
        privateRoot: path.join(privateRoot, 'server'),
        persistent: options.mode === 'serve',
        stderr: serverStderr,
        log: options.log,
        shadowFiles: shadowFilesFor(options),
      });
    } catch (error) {
      recorder.close();
      fs.rmSync(privateRoot, { recursive: true, force: true });
      forgetMadeHives();
      throw error;
    }
    let router: TranslationRouter | null = null;
    if (options.translate) {
      try {
        const backend = options.translate.backend === 'device'
          ? (await import('../backends/device/index.ts')).createDeviceBackend()
          : (await import('../backends/inprocess/index.ts')).createInProcessBackend();
        router = await TranslationRouter.start({ backend, prefix: options.prefix, protocolVersion: protocol.protocolVersion, log: options.log, savePeriodMs: options.translate.savePeriodMs });
      } catch (error) {
        await server.stop();
        recorder.close();
        fs.rmSync(privateRoot, { recursive: true, force: true });
        forgetMadeHives();
        throw error;
      }
    }
    let session: ProxySession | null = null;
    const proxy = new WineserverProxy({
      protocol,
      log: options.log,
      recorder,
      router,
      connectUpstream: () => session!.connectUpstream(),
    });
    session = new ProxySession(options, privateRoot, proxy, recorder, location, server, serverStderr, router);
    server.exited.then((exit) => session!.onServerExit(exit));
    return session;
  }

  private connectUpstream(): number | null {
    if (this.server.hasExited && this.options.mode === 'serve' && !this.stopping) {
      // serve: a wineserver that died (or was killed) comes back for the next client.
      this.restart();
      return null;
    }
    return this.server.connect();
  }

  private restart(): void {
    if (this.restarting) return;
    this.options.log.warn('wineserver is gone; starting a new one for the next client');
    this.restarting = LegacyWineserver.start({
      wineserver: this.options.wine.wineserver,
      prefix: this.options.prefix,
      location: this.location,
      privateRoot: path.join(this.privateRoot, 'server'),
      persistent: true,
      stderr: this.serverStderr,
      log: this.options.log,
      // A new wineserver loads the hives as the proxy last saved them, and must not write them either.
      shadowFiles: this.shadowFiles,
    })
      .then((server) => {
        this.server = server;
        server.exited.then((exit) => this.onServerExit(exit));
      })
      .catch((error) => this.options.log.error({ err: (error as Error).message }, 'cannot restart wineserver'))
      .finally(() => {
        this.restarting = null;
      });
  }

  private onServerExit(exit: { code: number | null; signal: NodeJS.Signals | null }): void {
    this.recorder.note(null, RecordKind.Note, { event: 'wineserver-exit', code: exit.code, signal: exit.signal });
    if (!this.stopping) {
      const level = exit.code === 0 && this.options.mode === 'run' ? 'debug' : 'warn';
      this.options.log[level]({ code: exit.code, signal: exit.signal }, 'wineserver exited');
    }
  }

  /** Stops wineserver (saving the registry), drops every client, removes private files. */
  async stop(): Promise<void> {
    this.stopping = true;
    process.off('SIGUSR2', this.dumpState);
    await this.restarting;
    this.proxy.stop(false);
    await this.server.stop();
    // wineserver's end closes every relayed pipe; whatever is left goes now.
    this.proxy.stop(true);
    // wineserver is gone, so the proxy's save of the registry is the last one.
    if (this.router) {
      await this.router.stop().catch((error) => this.options.log.error({ err: (error as Error).message }, 'saving the registry failed'));
    }
    this.recorder.close();
    if (typeof this.serverStderr === 'number') fs.closeSync(this.serverStderr);
    fs.rmSync(this.privateRoot, { recursive: true, force: true });
  }
}

/** The files wineserver must not write: the prefix's hives while the proxy owns the registry. */
function shadowFilesFor(options: SessionOptions): string[] {
  return options.translate ? PREFIX_HIVES.map((hive) => path.join(options.prefix, hive.file)) : [];
}
