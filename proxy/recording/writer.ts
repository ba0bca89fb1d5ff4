// Appends records to a recording file. Every record goes to the kernel with
// one writev as it happens, so a crash of the proxy (or anything else) loses
// nothing recorded before it. At wineserver traffic rates (tens of
// thousands of messages a second at most) one syscall per record is cheap.

import fs from 'node:fs';
import {
  Direction,
  RECORD_HEADER_SIZE,
  RECORDING_FORMAT,
  RECORDING_VERSION,
  RecordKind,
  type RecordingHeader,
} from './format.ts';
import { WinekernelError } from '../../errors/winekernel-error.ts';

export interface RecordContext {
  connection: number;
  threadKey: number;
  tid: number;
  pid: number;
  unixPid: number;
}

const NO_CONTEXT: RecordContext = { connection: 0, threadKey: 0, tid: 0, pid: 0, unixPid: 0 };
const EMPTY = Buffer.alloc(0);

/** What the relay needs from a recorder; NullRecorder when not recording. */
export interface Recorder {
  readonly enabled: boolean;
  record(kind: RecordKind, direction: Direction, context: RecordContext, code: number, aux: number, payload: Buffer): void;
  note(context: RecordContext | null, kind: RecordKind, json: Record<string, unknown>): void;
  close(): void;
}

export class NullRecorder implements Recorder {
  readonly enabled = false;
  record(): void {}
  note(): void {}
  close(): void {}
}

export class RecordingWriteError extends WinekernelError<'RECORDING_WRITE_FAILED'> {
  constructor(path: string, cause: unknown) {
    super('RECORDING_WRITE_FAILED', `cannot write recording ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export class RecordingWriter implements Recorder {
  readonly enabled = true;
  private fd: number;
  private readonly header = Buffer.alloc(RECORD_HEADER_SIZE);
  private failed: Error | null = null;
  /** Records written, for tests and the final log line. */
  count = 0;

  constructor(
    readonly path: string,
    header: Omit<RecordingHeader, 'format' | 'version' | 'createdAt' | 'monotonicStartNs'>,
    private readonly onError: (error: Error) => void = () => {},
  ) {
    const full: RecordingHeader = {
      format: RECORDING_FORMAT,
      version: RECORDING_VERSION,
      createdAt: new Date().toISOString(),
      monotonicStartNs: process.hrtime.bigint().toString(),
      ...header,
    };
    try {
      this.fd = fs.openSync(path, 'w');
      fs.writeSync(this.fd, JSON.stringify(full) + '\n');
    } catch (error) {
      throw new RecordingWriteError(path, error);
    }
  }

  record(kind: RecordKind, direction: Direction, context: RecordContext, code: number, aux: number, payload: Buffer): void {
    if (this.fd < 0) return;
    const h = this.header;
    h.writeUInt32LE(RECORD_HEADER_SIZE + payload.length, 0);
    h.writeUInt8(kind, 4);
    h.writeUInt8(direction, 5);
    h.writeUInt16LE(aux & 0xffff, 6);
    h.writeBigUInt64LE(process.hrtime.bigint(), 8);
    h.writeUInt32LE(context.connection >>> 0, 16);
    h.writeUInt32LE(context.threadKey >>> 0, 20);
    h.writeUInt32LE(context.tid >>> 0, 24);
    h.writeUInt32LE(context.pid >>> 0, 28);
    h.writeInt32LE(context.unixPid | 0, 32);
    h.writeInt32LE(code | 0, 36);
    try {
      fs.writevSync(this.fd, payload.length ? [h, payload] : [h]);
      this.count++;
    } catch (error) {
      // A full disk must not take the relay down: stop recording, say so once.
      this.failed = new RecordingWriteError(this.path, error);
      this.closeQuietly();
      this.onError(this.failed);
    }
  }

  note(context: RecordContext | null, kind: RecordKind, json: Record<string, unknown>): void {
    this.record(kind, Direction.None, context ?? NO_CONTEXT, -1, 0, json ? Buffer.from(JSON.stringify(json)) : EMPTY);
  }

  close(): void {
    this.closeQuietly();
  }

  private closeQuietly(): void {
    if (this.fd < 0) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already gone
    }
    this.fd = -1;
  }
}
