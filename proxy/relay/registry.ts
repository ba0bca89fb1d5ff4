// Every live client connection of one proxy, with counters for logs,
// leak checks and tests.

import type { ClientConnection } from './client-connection.ts';

export interface RegistryStats {
  /** Connections currently open. */
  open: number;
  /** Connections opened since start. */
  opened: number;
  /** Connections closed since start. */
  closed: number;
  /** Threads currently relayed. */
  threads: number;
  /** Descriptors held for clients (sockets, pipe ends, unclaimed inflight). */
  descriptors: number;
}

export class ConnectionRegistry {
  private readonly live = new Set<ClientConnection>();
  private openedCount = 0;
  private closedCount = 0;
  private idleWaiters: Array<() => void> = [];

  add(connection: ClientConnection): void {
    this.live.add(connection);
    this.openedCount++;
  }

  remove(connection: ClientConnection): void {
    if (!this.live.delete(connection)) return;
    this.closedCount++;
    if (this.live.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const waiter of waiters) waiter();
    }
  }

  get size(): number {
    return this.live.size;
  }

  all(): ClientConnection[] {
    return [...this.live];
  }

  /** Resolves when no connection is open (at once if none is). */
  whenIdle(): Promise<void> {
    if (this.live.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stats(): RegistryStats {
    let threads = 0;
    let descriptors = 0;
    for (const connection of this.live) {
      threads += connection.threadCount;
      descriptors += connection.openDescriptors();
    }
    return { open: this.live.size, opened: this.openedCount, closed: this.closedCount, threads, descriptors };
  }
}
