// Reads recordings written by RecordingWriter (docs/fixture-format.md).
// A recording cut short by a crash reads up to its last whole record
// (`truncatedTail` says so); anything else malformed is a RecordingFormatError.

import fs from 'node:fs';
import zlib from 'node:zlib';
import {
  Direction,
  MAX_RECORD_SIZE,
  RECORD_HEADER_SIZE,
  RecordKind,
  recordingHeaderSchema,
  type RecordEntry,
  type RecordingHeader,
} from './format.ts';
import { WinekernelError } from '../../errors/winekernel-error.ts';

export class RecordingFormatError extends WinekernelError<'RECORDING_INVALID'> {
  constructor(path: string, detail: string) {
    super('RECORDING_INVALID', `${path} is not a valid winekernel recording: ${detail}`);
  }
}

export interface Recording {
  header: RecordingHeader;
  records: RecordEntry[];
  /** The file ended inside a record (the writer was killed mid-write). */
  truncatedTail: boolean;
}

const MAX_HEADER_LINE = 64 * 1024;

/** Parses a whole recording held in memory. */
export function parseRecording(bytes: Buffer, path = '<buffer>'): Recording {
  const newline = bytes.indexOf(0x0a);
  if (newline < 0 || newline > MAX_HEADER_LINE) throw new RecordingFormatError(path, 'no JSON header line');
  let json: unknown;
  try {
    json = JSON.parse(bytes.subarray(0, newline).toString('utf8'));
  } catch (error) {
    throw new RecordingFormatError(path, `header is not JSON (${(error as Error).message})`);
  }
  const parsed = recordingHeaderSchema.safeParse(json);
  if (!parsed.success) {
    throw new RecordingFormatError(path, `bad header: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const records: RecordEntry[] = [];
  let at = newline + 1;
  let truncatedTail = false;
  while (at < bytes.length) {
    if (bytes.length - at < RECORD_HEADER_SIZE) {
      truncatedTail = true;
      break;
    }
    const length = bytes.readUInt32LE(at);
    if (length < RECORD_HEADER_SIZE || length > MAX_RECORD_SIZE) {
      throw new RecordingFormatError(path, `record at byte ${at} has impossible length ${length}`);
    }
    if (bytes.length - at < length) {
      truncatedTail = true;
      break;
    }
    const kind = bytes.readUInt8(at + 4);
    if (!(kind in RecordKind)) throw new RecordingFormatError(path, `record at byte ${at} has unknown kind ${kind}`);
    records.push({
      kind,
      direction: bytes.readUInt8(at + 5) as Direction,
      aux: bytes.readUInt16LE(at + 6),
      timeNs: bytes.readBigUInt64LE(at + 8),
      connection: bytes.readUInt32LE(at + 16),
      threadKey: bytes.readUInt32LE(at + 20),
      tid: bytes.readUInt32LE(at + 24),
      pid: bytes.readUInt32LE(at + 28),
      unixPid: bytes.readInt32LE(at + 32),
      code: bytes.readInt32LE(at + 36),
      payload: bytes.subarray(at + RECORD_HEADER_SIZE, at + length),
      offset: at,
    });
    at += length;
  }
  resolveLateIdentities(records);
  return { header: parsed.data, records, truncatedTail };
}

/** Reads a recording file. */
export function readRecording(path: string): Recording {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path);
  } catch (error) {
    throw new RecordingFormatError(path, (error as Error).message);
  }
  // Committed fixtures are gzip-compressed; recordings as written are not.
  if (bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = zlib.gunzipSync(bytes);
    } catch (error) {
      throw new RecordingFormatError(path, `bad gzip data (${(error as Error).message})`);
    }
  }
  return parseRecording(bytes, path);
}

/**
 * A thread's wine id (and its process's) is learnt from a reply, after the
 * first records of that thread were written (init_first_thread's request).
 * Fill them in so that every record of a thread carries its ids.
 */
function resolveLateIdentities(records: RecordEntry[]): void {
  const tidByThread = new Map<number, number>();
  const pidByConnection = new Map<number, number>();
  const unixPidByConnection = new Map<number, number>();
  for (const record of records) {
    if (record.threadKey && record.tid) tidByThread.set(record.threadKey, record.tid);
    if (record.connection && record.pid) pidByConnection.set(record.connection, record.pid);
    if (record.connection && record.unixPid) unixPidByConnection.set(record.connection, record.unixPid);
  }
  for (const record of records) {
    if (!record.tid && record.threadKey) record.tid = tidByThread.get(record.threadKey) ?? 0;
    if (!record.pid && record.connection) record.pid = pidByConnection.get(record.connection) ?? 0;
    if (!record.unixPid && record.connection) record.unixPid = unixPidByConnection.get(record.connection) ?? 0;
  }
}

/** The JSON payload of informational records (ConnectionOpen, Note, ...). */
export function recordJson(record: RecordEntry): Record<string, unknown> | null {
  if (record.payload.length === 0) return null;
  try {
    return JSON.parse(record.payload.toString('utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}
