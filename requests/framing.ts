// Streaming framers for the two directions of a wineserver thread's pipes.
//
// On its request pipe a client writes, per request, exactly 64 bytes of fixed
// part (a 12-byte header { int req; u32 request_size; u32 reply_size } and the
// request's own fields, zero-padded) followed by request_size bytes of
// variable data. wineserver answers on the reply pipe with 64 bytes (an
// 8-byte header { u32 error; u32 reply_size } and the reply's fields)
// followed by reply_size bytes. Framing only finds message boundaries; what
// the bytes mean is decided by requests/protocol.ts.
//
// Both framers accept input split at any byte and several messages per chunk
// and give the same frames either way. A message that breaks the rules (a
// request bigger than the configured limit, a reply bigger than its request
// allowed) is reported as a ProtocolError, its bytes are skipped (its size is
// known from its header, so the stream stays in step) and framing goes on.

import { ProtocolError } from './errors.ts';

export const REQUEST_FIXED_SIZE = 64;
export const REPLY_FIXED_SIZE = 64;

/**
 * wineserver itself sets no bound on request_size (it allocates whatever the
 * client announces); the proxy must, or one client could make it buffer
 * gigabytes. Real requests stay far below: the largest are registry values
 * and window/clipboard data.
 */
export const DEFAULT_MAX_REQUEST_DATA = 64 * 1024 * 1024;

export interface RequestFrame {
  code: number;
  requestSize: number;
  replySize: number;
  /** The whole frame: 64 bytes of fixed part, then requestSize bytes. */
  bytes: Buffer;
}

export interface ReplyFrame {
  error: number;
  replySize: number;
  /** The whole frame: 64 bytes of fixed part, then replySize bytes. */
  bytes: Buffer;
}

export interface FrameSink<F> {
  frame(frame: F): void;
  error(error: ProtocolError): void;
}

/** Accumulates bytes and hands out whole messages; shared by both directions. */
abstract class Framer<F> {
  /**
   * Whether frames own their bytes (a copy). The relay turns this off: it
   * forwards most frames before the next chunk arrives, so a view of the
   * input spares a copy and an allocation per message; it copies itself
   * whatever it keeps (see `retainFrameBytes`).
   */
  protected copyFrames = true;
  private buffer: Buffer = Buffer.alloc(0);
  private start = 0;
  private end = 0;
  /** Bytes still to drop from a message that was rejected. */
  private skipping = 0;

  /** Bytes received but not yet part of a whole message. */
  get pendingBytes(): number {
    return this.end - this.start;
  }

  /** Whether the stream ended in the middle of a message. */
  get midMessage(): boolean {
    return this.end > this.start || this.skipping > 0;
  }

  push(chunk: Buffer, sink: FrameSink<F>): void {
    let input = chunk;
    if (this.skipping > 0) {
      const dropped = Math.min(this.skipping, input.length);
      this.skipping -= dropped;
      input = input.subarray(dropped);
      if (input.length === 0) return;
    }
    this.append(input);
    while (this.end - this.start >= 64) {
      const available = this.end - this.start;
      const header = this.buffer;
      const at = this.start;
      const dataSize = header.readUInt32LE(at + 4);
      const violation = this.check(header, at);
      if (violation) {
        // Drop the offending message without buffering it; the stream stays in step.
        const inBuffer = Math.min(available, 64 + dataSize);
        this.start += inBuffer;
        this.skipping = 64 + dataSize - inBuffer;
        sink.error(violation);
        if (this.skipping > 0) break;
        continue;
      }
      const total = 64 + dataSize;
      if (available < total) break;
      // Copy out unless the caller takes views: the buffer is reused.
      const bytes = this.copyFrames
        ? Buffer.from(this.buffer.subarray(at, at + total))
        : at === 0 && total === this.buffer.length
          ? this.buffer
          : this.buffer.subarray(at, at + total);
      this.start += total;
      sink.frame(this.make(bytes, dataSize));
    }
    if (this.start === this.end) {
      this.start = this.end = 0;
    }
  }

  /** Frames of `chunk`; throws the first ProtocolError after framing the whole chunk. */
  pushAll(chunk: Buffer): F[] {
    const frames: F[] = [];
    let first: ProtocolError | null = null;
    this.push(chunk, {
      frame: (f) => frames.push(f),
      error: (e) => {
        first ??= e;
      },
    });
    if (first) throw Object.assign(first, { frames });
    return frames;
  }

  /** Forgets everything buffered (the stream was closed or replaced). */
  reset(): void {
    this.buffer = Buffer.alloc(0);
    this.start = this.end = this.skipping = 0;
  }

  protected abstract check(buf: Buffer, at: number): ProtocolError | null;
  protected abstract make(bytes: Buffer, dataSize: number): F;

  private append(input: Buffer): void {
    if (this.start === this.end && input.length >= 64) {
      // Fast path: nothing buffered; parse straight from a private copy only if a message is split.
      this.buffer = input;
      this.start = 0;
      this.end = input.length;
      return;
    }
    const needed = this.end - this.start + input.length;
    if (this.buffer.length - this.end < input.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2, 4096));
      this.buffer.copy(grown, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
      this.buffer = grown;
    }
    input.copy(this.buffer, this.end);
    this.end += input.length;
  }
}

export interface FramerOptions {
  /**
   * false: a frame's `bytes` may be a view of the pushed chunk or of the
   * framer's buffer, valid only until `frame` returns; whoever keeps a frame
   * past that copies it (`retainFrameBytes`). Default true (frames own a copy).
   */
  copyFrames?: boolean;
}

/** A frame whose bytes are its own, for keeping past the sink call of a view-mode framer. */
export function retainFrameBytes<F extends { bytes: Buffer }>(frame: F): F {
  return { ...frame, bytes: Buffer.from(frame.bytes) };
}

export class RequestFramer extends Framer<RequestFrame> {
  constructor(
    private readonly maxRequestData = DEFAULT_MAX_REQUEST_DATA,
    options: FramerOptions = {},
  ) {
    super();
    this.copyFrames = options.copyFrames ?? true;
  }

  protected check(buf: Buffer, at: number): ProtocolError | null {
    const size = buf.readUInt32LE(at + 4);
    if (size > this.maxRequestData) {
      return new ProtocolError(
        'WK_REQUEST_TOO_LARGE',
        `request ${buf.readInt32LE(at)} announces ${size} bytes of data, over the limit of ${this.maxRequestData}`,
      );
    }
    return null;
  }

  protected make(bytes: Buffer, dataSize: number): RequestFrame {
    return { code: bytes.readInt32LE(0), requestSize: dataSize, replySize: bytes.readUInt32LE(8), bytes };
  }
}

/**
 * Replies come in the order the requests were sent (one outstanding request
 * per thread), so the framer is told each request's reply_size limit as the
 * request goes out, and checks the reply against it.
 */
export class ReplyFramer extends Framer<ReplyFrame> {
  private readonly limits: number[] = [];

  constructor(options: FramerOptions = {}) {
    super();
    this.copyFrames = options.copyFrames ?? true;
  }

  /** Records that a request allowing `replySize` bytes of reply data was sent. */
  expect(replySize: number): void {
    this.limits.push(replySize);
  }

  protected check(buf: Buffer, at: number): ProtocolError | null {
    const size = buf.readUInt32LE(at + 4);
    const limit = this.limits.length ? this.limits[0] : undefined;
    if (limit !== undefined && size > limit) {
      this.limits.shift();
      return new ProtocolError('WK_REPLY_TOO_LARGE', `reply announces ${size} bytes of data, but its request allowed ${limit}`);
    }
    if (limit === undefined && size > DEFAULT_MAX_REQUEST_DATA) {
      return new ProtocolError('WK_REPLY_TOO_LARGE', `reply announces ${size} bytes of data with no request outstanding`);
    }
    return null;
  }

  protected make(bytes: Buffer, dataSize: number): ReplyFrame {
    this.limits.shift();
    return { error: bytes.readUInt32LE(0), replySize: dataSize, bytes };
  }
}
