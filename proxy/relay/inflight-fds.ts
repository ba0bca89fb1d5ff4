// Descriptors a client sent on its socket that no request has claimed yet.
//
// A client passes a descriptor to wineserver in two steps: a message on its
// socket ({ thread id, client fd number } plus the descriptor), then a
// request naming that fd number. wineserver keeps such "inflight"
// descriptors per thread until a request claims them. The proxy holds them
// the same way, because only the claiming request tells whether a
// descriptor is one of the thread's own pipes (which the proxy replaces with
// its own) or an ordinary file to pass on unchanged.

export interface InflightFd {
  /** Thread id the client named (0 = the process's first thread). */
  tid: number;
  /** The descriptor number in the client, as requests name it. */
  clientFd: number;
  /** Our copy of the descriptor. */
  fd: number;
  /** The message data as received, resent unchanged to wineserver. */
  data: Buffer;
}

/** wineserver keeps 16 per thread; a process has several threads. */
export const MAX_HELD_FDS = 64;

export class InflightFds {
  private readonly held: InflightFd[] = [];

  get size(): number {
    return this.held.length;
  }

  /** Adds one; returns the oldest entry when over the bound (the caller passes it on). */
  add(entry: InflightFd): InflightFd | undefined {
    this.held.push(entry);
    return this.held.length > MAX_HELD_FDS ? this.held.shift() : undefined;
  }

  /**
   * Takes the descriptor numbered `clientFd` that was sent for a thread:
   * `tid` names the thread (0 matches the first thread only, as in
   * wineserver).
   */
  claim(clientFd: number, tid: number, isFirstThread: boolean): InflightFd | undefined {
    const index = this.held.findIndex(
      (entry) => entry.clientFd === clientFd && (entry.tid === 0 ? isFirstThread : entry.tid === tid),
    );
    if (index < 0) return undefined;
    return this.held.splice(index, 1)[0];
  }

  /** Removes everything (for closing). */
  takeAll(): InflightFd[] {
    return this.held.splice(0);
  }
}
