// A unix stream socket that carries descriptor messages (SCM_RIGHTS) the way
// wineserver and its clients use theirs: every message is a few bytes of
// data with at most one descriptor. Receiving and sending are nonblocking;
// sends that do not fit wait in order for the socket to become writable.

import { fdAddon, isErrno, READABLE, WRITABLE, type FdMessage, type NativeWatcher } from '../native.ts';

export interface FdSocketHandlers {
  /** A message arrived; the caller owns `message.fd` (if not -1). */
  message(message: FdMessage): void;
  /** The peer closed (or reset) the connection, or receiving failed. Called once. */
  end(error?: Error): void;
}

interface PendingSend {
  fd: number;
  data: Buffer;
  /** Close our copy of `fd` once it has been sent (or dropped). */
  closeAfter: boolean;
}

export class FdSocket {
  private readonly watcher: NativeWatcher;
  private readonly sendQueue: PendingSend[] = [];
  private flushedCallbacks: Array<() => void> = [];
  private closed = false;
  private ended = false;

  constructor(
    readonly fd: number,
    private readonly handlers: FdSocketHandlers,
  ) {
    fdAddon.setNonBlocking(fd, true);
    this.watcher = new fdAddon.Watcher(fd, (_status, events) => this.onEvents(events));
    this.watcher.start(READABLE);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Messages waiting for the socket to become writable. */
  get pendingSends(): number {
    return this.sendQueue.length;
  }

  /**
   * Receives whatever is already waiting, synchronously. The relay calls this
   * when a request names a descriptor that may still sit in the socket buffer.
   */
  drainNow(): void {
    this.receiveAvailable();
  }

  /**
   * Sends `fd` (or only data when fd is -1) with `data`. Order is kept with
   * earlier sends. False when the socket is closed (then `fd` is closed too
   * if `closeAfter`).
   */
  send(fd: number, data: Buffer, closeAfter: boolean): boolean {
    if (this.closed) {
      if (closeAfter && fd >= 0) fdAddon.close(fd);
      return false;
    }
    if (this.sendQueue.length === 0 && this.trySend(fd, data, closeAfter)) return true;
    if (this.closed) return false;
    this.sendQueue.push({ fd, data, closeAfter });
    this.watcher.start(READABLE | WRITABLE);
    return true;
  }

  /** Runs `callback` once every queued send has gone out (now, if none is queued). */
  whenFlushed(callback: () => void): void {
    if (this.sendQueue.length === 0 || this.closed) callback();
    else this.flushedCallbacks.push(callback);
  }

  /** Closes the socket; queued sends are dropped (their descriptors closed). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher.close();
    fdAddon.close(this.fd);
    for (const pending of this.sendQueue) if (pending.closeAfter && pending.fd >= 0) fdAddon.close(pending.fd);
    this.sendQueue.length = 0;
    const callbacks = this.flushedCallbacks;
    this.flushedCallbacks = [];
    for (const callback of callbacks) callback();
  }

  /** True when sent; false when it must wait. Fatal errors close the socket. */
  private trySend(fd: number, data: Buffer, closeAfter: boolean): boolean {
    let sent: number | null;
    try {
      sent = fdAddon.sendFd(this.fd, fd, data);
    } catch (error) {
      if (closeAfter && fd >= 0) fdAddon.close(fd);
      this.fail(error as Error);
      return false;
    }
    if (sent === null) return false;
    // Stream sockets may in theory take part of the data; the descriptor went
    // with the first byte, the rest follows as plain data.
    if (sent < data.length) this.sendQueue.unshift({ fd: -1, data: data.subarray(sent), closeAfter: false });
    if (closeAfter && fd >= 0) fdAddon.close(fd);
    return true;
  }

  private onEvents(events: number): void {
    if (this.closed) return;
    if (events & WRITABLE) this.flushQueue();
    if (!this.closed && events & READABLE) this.receiveAvailable();
  }

  private flushQueue(): void {
    while (!this.closed && this.sendQueue.length > 0) {
      const head = this.sendQueue.shift()!;
      if (!this.trySend(head.fd, head.data, head.closeAfter)) {
        if (!this.closed) this.sendQueue.unshift(head);
        return;
      }
    }
    if (this.closed) return;
    this.watcher.start(READABLE);
    const callbacks = this.flushedCallbacks;
    this.flushedCallbacks = [];
    for (const callback of callbacks) callback();
  }

  private receiveAvailable(): void {
    while (!this.closed && !this.ended) {
      let message: FdMessage | null;
      try {
        message = fdAddon.recvFd(this.fd);
      } catch (error) {
        this.fail(error as Error);
        return;
      }
      if (message === null) return;
      if (message.data.length === 0) {
        if (message.fd >= 0) fdAddon.close(message.fd);
        this.fail(null);
        return;
      }
      this.handlers.message(message);
    }
  }

  /** End of the connection (error null: orderly). The socket is closed first: an ended socket stays readable forever and would spin the loop. */
  private fail(error: Error | null): void {
    if (this.ended) return;
    this.ended = true;
    this.close();
    this.handlers.end(error && !isErrno(error, 'ECONNRESET', 'EPIPE') ? error : undefined);
  }
}
