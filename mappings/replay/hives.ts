// What a fixture needs besides the recording to be replayed: the prefix's
// registry files as wineserver loaded them at the start of the run, and the
// clock relation Wine's timeouts were computed on (docs/replay.md). Both are
// kept in `<name>.hives.json.gz` beside `<name>.wkrec.gz`.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { z } from 'zod';
import type { Recording } from '../../proxy/recording/reader.ts';
import { PREFIX_HIVES, type HiveTexts } from '../registry/init.ts';
import { monotonicRawOffset100ns, WaitClockError } from '../sync/mutexes.ts';
import { ReplayError } from './report.ts';

const HIVE_SNAPSHOT_SUFFIX = '.hives.json.gz';

const hiveSnapshotSchema = z.object({
  format: z.literal('winekernel-hives'),
  version: z.literal(1),
  /** File name (system.reg, user.reg, userdef.reg) → its bytes, base64. */
  files: z.record(z.string(), z.string()),
  /**
   * CLOCK_MONOTONIC_RAW minus CLOCK_MONOTONIC in 100 ns units (decimal) on the
   * recording machine when the snapshot was taken: relative wait deadlines
   * in the recording are on the raw clock, record times on the other.
   * Optional (older snapshots lack it; the replay then measures the
   * replaying machine's offset, right only on the same boot).
   */
  monotonicRawOffset100ns: z.string().regex(/^-?\d+$/).optional(),
});

/** The starting state of a recording. */
export interface StartingState {
  hives: HiveTexts;
  /** See hiveSnapshotSchema; null when unknown. */
  monotonicRawOffset100ns: bigint | null;
}

/** `fixtures/recordings/x.wkrec.gz` → `fixtures/recordings/x.hives.json.gz`. */
function hiveSnapshotPath(recordingPath: string): string {
  return recordingPath.replace(/\.wkrec(\.gz)?$/, '') + HIVE_SNAPSHOT_SUFFIX;
}

/** The hive files of a prefix as they are now. */
export function readPrefixHives(prefix: string): HiveTexts {
  const hives: HiveTexts = {};
  for (const hive of PREFIX_HIVES) {
    const file = path.join(prefix, hive.file);
    if (fs.existsSync(file)) hives[hive.file] = fs.readFileSync(file);
  }
  return hives;
}

/** This machine's raw-clock offset, or null when it cannot be measured (no python3). */
function currentRawOffset(): bigint | null {
  try {
    return monotonicRawOffset100ns();
  } catch (error) {
    if (error instanceof WaitClockError) return null;
    throw error;
  }
}

/**
 * The prefix's hive files and this machine's clock offset as a snapshot
 * (what scripts/record-fixtures.sh stores beside a fixture, right before the run).
 */
export function encodeHiveSnapshot(prefix: string): Buffer {
  const files: Record<string, string> = {};
  for (const [file, bytes] of Object.entries(readPrefixHives(prefix))) if (bytes) files[file] = Buffer.from(bytes).toString('base64');
  const offset = currentRawOffset();
  const snapshot = { format: 'winekernel-hives', version: 1, files, ...(offset === null ? {} : { monotonicRawOffset100ns: offset.toString() }) };
  return zlib.gzipSync(Buffer.from(JSON.stringify(snapshot)), { level: 9 });
}

export function decodeStartingState(bytes: Buffer, where: string): StartingState {
  let json: unknown;
  try {
    json = JSON.parse(zlib.gunzipSync(bytes).toString('utf8'));
  } catch (error) {
    throw new ReplayError('WK_REPLAY_BAD_SNAPSHOT', `${where}: not a gzip'd JSON hive snapshot (${(error as Error).message})`);
  }
  const parsed = hiveSnapshotSchema.safeParse(json);
  if (!parsed.success) throw new ReplayError('WK_REPLAY_BAD_SNAPSHOT', `${where}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  const hives: HiveTexts = {};
  for (const [file, b64] of Object.entries(parsed.data.files)) hives[file] = Buffer.from(b64, 'base64');
  const offset = parsed.data.monotonicRawOffset100ns;
  return { hives, monotonicRawOffset100ns: offset === undefined ? null : BigInt(offset) };
}

/**
 * The state a recording started from: the snapshot beside it, else the
 * prefix its header names if its hive files are still there (they may have
 * changed since: the run itself saved into them), else null.
 */
export function findStartingHives(recordingPath: string, recording: Recording): (StartingState & { source: string }) | null {
  const snapshot = hiveSnapshotPath(recordingPath);
  if (fs.existsSync(snapshot)) return { ...decodeStartingState(fs.readFileSync(snapshot), snapshot), source: snapshot };
  const prefix = recording.header.prefix;
  if (prefix && fs.existsSync(path.join(prefix, 'system.reg'))) {
    return { hives: readPrefixHives(prefix), monotonicRawOffset100ns: null, source: `${prefix} (current files; may differ from when the recording started)` };
  }
  return null;
}
