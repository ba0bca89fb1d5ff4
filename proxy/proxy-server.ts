// The proxy: accepts client processes (on a listening socket, or as
// descriptors handed to it), connects each to wineserver, and relays.
// One proxy serves any number of clients; each client's failure stays its own.

import type { Logger } from 'pino';
import { fdAddon, READABLE, type NativeWatcher } from './native.ts';
import { ClientConnection, type ClientConnectionState, type ConnectionEnvironment, type ConnectionOrigin } from './relay/client-connection.ts';
import { ConnectionRegistry, type RegistryStats } from './relay/registry.ts';
import type { ProxyProtocol } from './protocol-adapter.ts';
import { NullRecorder, type Recorder } from './recording/writer.ts';
import { RecordKind } from './recording/format.ts';
import type { TranslationRouter } from './translate/router.ts';

/** Connects to wineserver; null when it should be retried shortly (backlog full). */
export type UpstreamConnector = () => number | null;

export interface ProxyOptions {
  protocol: ProxyProtocol;
  connectUpstream: UpstreamConnector;
  log: Logger;
  recorder?: Recorder;
  /** `--translate`: the router that answers translated requests (proxy/translate/). */
  router?: TranslationRouter | null;
}

const CONNECT_RETRY_MS = 10;
const CONNECT_ATTEMPTS = 300;

export class WineserverProxy implements ConnectionEnvironment {
  readonly protocol: ProxyProtocol;
  readonly recorder: Recorder;
  readonly log: Logger;
  readonly router: TranslationRouter | null;
  readonly registry = new ConnectionRegistry();
  /** The version the wineserver announced, once a client connected. */
  announcedProtocol = 0;
  private readonly connectUpstream: UpstreamConnector;
  private connectionIds = 0;
  private threadKeys = 0;
  private listener: { fd: number; watcher: NativeWatcher } | null = null;
  private stopped = false;
  /** Accepted clients waiting for a wineserver connection. */
  private readonly waitingForUpstream = new Set<{ fd: number; timer: NodeJS.Timeout | null }>();

  constructor(options: ProxyOptions) {
    this.protocol = options.protocol;
    this.recorder = options.recorder ?? new NullRecorder();
    this.log = options.log;
    this.connectUpstream = options.connectUpstream;
    this.router = options.router ?? null;
  }

  nextConnectionId(): number {
    return ++this.connectionIds;
  }

  nextThreadKey(): number {
    return ++this.threadKeys;
  }

  connectionOpened(connection: ClientConnection): void {
    this.registry.add(connection);
  }

  connectionClosed(connection: ClientConnection): void {
    this.registry.remove(connection);
  }

  protocolAnnounced(version: number): void {
    if (this.announcedProtocol === version) return;
    this.announcedProtocol = version;
    this.log.debug({ protocolVersion: version }, 'wineserver protocol version');
  }

  /** Accepts clients on a listening unix socket we created at `socketPath`. */
  listen(socketPath: string): void {
    const fd = fdAddon.listenUnix(socketPath, 128);
    const watcher = new fdAddon.Watcher(fd, () => this.acceptPending());
    watcher.start(READABLE);
    this.listener = { fd, watcher };
    this.log.debug({ socketPath }, 'proxy listening');
  }

  /** Serves a client whose socket we already hold (e.g. a socket pair end). */
  adoptClient(clientFd: number, origin: ConnectionOrigin = 'adopted'): void {
    this.attach(clientFd, origin, 0);
  }

  stats(): RegistryStats & { waitingForUpstream: number } {
    return { ...this.registry.stats(), waitingForUpstream: this.waitingForUpstream.size };
  }

  /** Every client and what its threads wait for (the SIGUSR2 state dump of run/serve). */
  describe(): { stats: ReturnType<WineserverProxy['stats']>; clients: ClientConnectionState[] } {
    const now = Date.now();
    return { stats: this.stats(), clients: this.registry.all().map((connection) => connection.describe(now)) };
  }

  /** Stops accepting; with `closeClients`, tears every connection down now. */
  stop(closeClients: boolean): void {
    if (!this.stopped) {
      this.stopped = true;
      if (this.listener) {
        this.listener.watcher.close();
        fdAddon.close(this.listener.fd);
        this.listener = null;
      }
      for (const waiting of this.waitingForUpstream) {
        if (waiting.timer) clearTimeout(waiting.timer);
        fdAddon.close(waiting.fd);
      }
      this.waitingForUpstream.clear();
    }
    if (closeClients) for (const connection of this.registry.all()) connection.close('proxy stopping');
  }

  private acceptPending(): void {
    if (!this.listener) return;
    for (;;) {
      let clientFd: number | null;
      try {
        clientFd = fdAddon.accept(this.listener.fd);
      } catch (error) {
        // EMFILE and friends: log, keep the listener; the client retries.
        this.log.error({ err: (error as Error).message }, 'accept failed');
        return;
      }
      if (clientFd === null) return;
      this.attach(clientFd, 'accepted', 0);
    }
  }

  private attach(clientFd: number, origin: ConnectionOrigin, attempt: number, waiting?: { fd: number; timer: NodeJS.Timeout | null }): void {
    if (this.stopped) {
      fdAddon.close(clientFd);
      return;
    }
    let serverFd: number | null;
    try {
      serverFd = this.connectUpstream();
    } catch (error) {
      // No wineserver: the client sees its socket close, as with a dead server.
      this.log.error({ err: (error as Error).message }, 'cannot connect to wineserver; dropping client');
      this.recorder.note(null, RecordKind.Note, { event: 'upstream-unavailable', message: (error as Error).message });
      if (waiting) this.waitingForUpstream.delete(waiting);
      fdAddon.close(clientFd);
      return;
    }
    if (serverFd === null) {
      if (attempt >= CONNECT_ATTEMPTS) {
        this.log.error('wineserver does not accept connections; dropping client');
        if (waiting) this.waitingForUpstream.delete(waiting);
        fdAddon.close(clientFd);
        return;
      }
      const entry = waiting ?? { fd: clientFd, timer: null };
      this.waitingForUpstream.add(entry);
      entry.timer = setTimeout(() => this.attach(clientFd, origin, attempt + 1, entry), CONNECT_RETRY_MS);
      return;
    }
    if (waiting) this.waitingForUpstream.delete(waiting);
    new ClientConnection(this, clientFd, serverFd, origin);
  }
}
