// Event-driven reading and writing of raw descriptors (pipe ends, mostly)
// on Node's loop, through the addon's Watcher. Nothing here ever blocks:
// reads and writes are nonblocking and resume on readiness.

import { fdAddon, isErrno, READABLE, WRITABLE, type NativeWatcher } from '../native.ts';

const READ_CHUNK = 64 * 1024;

export interface ReaderHandlers {
  /**
   * Bytes that arrived. `chunk` may be a view of a buffer the reader reuses;
   * call `reader.detachBuffer()` from inside the handler when keeping a
   * reference past it (the framers do when a message is split).
   */
  data(chunk: Buffer): void;
  /** End of stream (`error` undefined) or a read error. Called once. */
  end(error?: Error): void;
}

/** Reads a descriptor whenever it is readable; owns (and closes) it. */
export class FdReader {
  private readonly watcher: NativeWatcher;
  private buffer = Buffer.allocUnsafe(READ_CHUNK);
  private closed = false;
  private paused = false;

  constructor(
    readonly fd: number,
    private readonly handlers: ReaderHandlers,
  ) {
    fdAddon.setNonBlocking(fd, true);
    this.watcher = new fdAddon.Watcher(fd, () => this.onReadable());
    this.watcher.start(READABLE);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The next read goes into a fresh buffer: the last chunk stays valid. */
  detachBuffer(): void {
    this.buffer = Buffer.allocUnsafe(READ_CHUNK);
  }

  pause(): void {
    if (this.closed || this.paused) return;
    this.paused = true;
    this.watcher.stop();
  }

  resume(): void {
    if (this.closed || !this.paused) return;
    this.paused = false;
    this.watcher.start(READABLE);
  }

  /**
   * Reads what is there now, outside the loop's order (an end found calls
   * `end` at once); nothing when paused or closed.
   */
  drainNow(): void {
    this.onReadable();
  }

  /** Stops watching and closes the descriptor without calling `end`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher.close();
    fdAddon.close(this.fd);
  }

  private onReadable(): void {
    // Drain what is there now; level-triggered readiness brings us back for more.
    for (let rounds = 0; rounds < 16 && !this.closed && !this.paused; rounds++) {
      let count: number | null;
      try {
        count = fdAddon.read(this.fd, this.buffer, 0, this.buffer.length);
      } catch (error) {
        this.finish(error as Error);
        return;
      }
      if (count === null) return;
      if (count === 0) {
        this.finish();
        return;
      }
      this.handlers.data(this.buffer.subarray(0, count));
      if (count < this.buffer.length) return;
    }
  }

  private finish(error?: Error): void {
    if (this.closed) return;
    this.close();
    // A reset peer is an ordinary end for a relay.
    this.handlers.end(error && isErrno(error, 'ECONNRESET') ? undefined : error);
  }
}

export interface WriterHandlers {
  /** The peer went away (EPIPE) or writing failed; queued data is dropped. Called once. */
  error(error: Error): void;
  /** Everything queued has been written (after a write had to wait). */
  drain?(): void;
}

/** Writes to a descriptor, queueing what does not fit; owns (and closes) it. */
export class FdWriter {
  private watcher: NativeWatcher | null = null;
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private closed = false;
  private closeWhenDrained = false;

  constructor(
    readonly fd: number,
    private readonly handlers: WriterHandlers,
  ) {
    fdAddon.setNonBlocking(fd, true);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes accepted but not yet written. */
  get pending(): number {
    return this.queuedBytes;
  }

  /**
   * Writes `bytes` now or as soon as possible; false once closed. `bytes` may
   * be a view of a buffer the caller reuses: what has to wait is copied.
   */
  write(bytes: Buffer): boolean {
    if (this.closed || this.closeWhenDrained) return false;
    if (this.queue.length === 0) {
      const written = this.tryWrite(bytes);
      if (written < 0) return false;
      if (written === bytes.length) return true;
      bytes = bytes.subarray(written);
    }
    bytes = Buffer.from(bytes);
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    this.watchWritable();
    return true;
  }

  /** Closes once the queue is empty (at once if it is). */
  end(): void {
    if (this.closed) return;
    if (this.queue.length === 0) this.close();
    else this.closeWhenDrained = true;
  }

  /** Closes now, dropping anything queued. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.watcher?.close();
    this.watcher = null;
    fdAddon.close(this.fd);
  }

  /** Bytes written, or -1 after a fatal error (which closes the writer). */
  private tryWrite(bytes: Buffer): number {
    try {
      return fdAddon.write(this.fd, bytes, 0, bytes.length) ?? 0;
    } catch (error) {
      this.close();
      this.handlers.error(error as Error);
      return -1;
    }
  }

  private watchWritable(): void {
    if (!this.watcher) this.watcher = new fdAddon.Watcher(this.fd, () => this.onWritable());
    this.watcher.start(WRITABLE);
  }

  private onWritable(): void {
    while (!this.closed && this.queue.length > 0) {
      const head = this.queue[0];
      const written = this.tryWrite(head);
      if (written < 0) return;
      this.queuedBytes -= written;
      if (written < head.length) {
        this.queue[0] = head.subarray(written);
        return;
      }
      this.queue.shift();
    }
    if (this.closed) return;
    this.watcher?.stop();
    if (this.closeWhenDrained) this.close();
    else this.handlers.drain?.();
  }
}
