// Prints a recording as wineserver's +server trace (per thread) and compares
// it with the trace wineserver itself wrote. Used by the peer check test and
// by anyone debugging a difference. The normalisations are the documented
// exceptions of docs/fixture-format.md.

import type { Protocol } from '../../requests/protocol.ts';
import { RecordKind } from './format.ts';
import type { Recording } from './reader.ts';

const TRACE_LINE = /^([0-9a-f]{4,}): ([a-z_0-9]+)\(/;

/**
 * Values printed relative to wineserver's clock at the moment it handled the
 * message (`(+0.0189290)` after absolute times, `timeout=+299.9999667`):
 * the recording has the absolute value, not wineserver's clock.
 */
export function normaliseTraceLine(line: string): string {
  return line.replace(/ \([+-]?\d+\.\d+\)/g, '').replace(/=\+\d+\.\d+/g, '=+<relative>');
}

function hex4(value: number): string {
  return value.toString(16).padStart(4, '0');
}

function push(map: Map<string, string[]>, key: string, line: string): void {
  let lines = map.get(key);
  if (!lines) map.set(key, (lines = []));
  lines.push(line);
}

/** Request and reply lines of a recording, keyed by thread id (4+ hex digits). */
export function traceLinesByThread(protocol: Protocol, recording: Recording): Map<string, string[]> {
  const byThread = new Map<string, string[]>();
  for (const record of recording.records) {
    let line: string | null = null;
    try {
      if (record.kind === RecordKind.Request) line = protocol.formatRequest(record.tid, protocol.decodeRequest(record.payload));
      else if (record.kind === RecordKind.Reply && record.code >= 0) line = protocol.formatReply(record.tid, protocol.decodeReply(record.code, record.payload));
    } catch (error) {
      line = `${hex4(record.tid)}: <undecodable: ${(error as Error).message}>`;
    }
    if (line) push(byThread, hex4(record.tid), normaliseTraceLine(line));
  }
  return byThread;
}

/** Request and reply lines of wineserver's stderr trace, keyed by thread id. */
export function serverTraceLinesByThread(trace: string): Map<string, string[]> {
  const byThread = new Map<string, string[]>();
  for (const line of trace.split('\n')) {
    const match = TRACE_LINE.exec(line);
    if (match) push(byThread, match[1], normaliseTraceLine(line));
  }
  return byThread;
}

export interface TraceComparison {
  threads: number;
  lines: number;
  mismatches: Array<{ tid: string; index: number; server?: string; proxy?: string }>;
  /** Last requests of threads that wineserver never read (see compareTraces). */
  unreadTail: string[];
}

/**
 * Compares per thread. Order across threads is not comparable: the proxy
 * and wineserver each serve ready pipes in their own order. Within a thread
 * requests are strictly sequential, so order must match exactly.
 *
 * One exception: wineserver starts tracing while handling the first
 * init_first_thread that carries debug_level, so it never prints that
 * request line; the recording has it.
 *
 * Another: a thread's last request, forwarded by the proxy but never read by
 * wineserver because it killed the process or shut down first. It has no
 * reply in either; it is reported in `unreadTail`, not as a mismatch.
 */
export function compareTraces(server: Map<string, string[]>, proxy: Map<string, string[]>): TraceComparison {
  const result: TraceComparison = { threads: 0, lines: 0, mismatches: [], unreadTail: [] };
  const tids = new Set([...server.keys(), ...proxy.keys()]);
  for (const tid of tids) {
    result.threads++;
    const theirs = server.get(tid) ?? [];
    let ours = proxy.get(tid) ?? [];
    if (/ init_first_thread\( /.test(ours[0] ?? '') && !/ init_first_thread\( /.test(theirs[0] ?? '')) ours = ours.slice(1);
    const last = ours[ours.length - 1] ?? '';
    if (ours.length === theirs.length + 1 && /^[0-9a-f]+: [a-z_0-9]+\( /.test(last)) {
      result.unreadTail.push(last);
      ours = ours.slice(0, -1);
    }
    const count = Math.max(theirs.length, ours.length);
    for (let index = 0; index < count; index++) {
      result.lines++;
      if (theirs[index] !== ours[index]) result.mismatches.push({ tid, index, server: theirs[index], proxy: ours[index] });
    }
  }
  return result;
}
