// process_info: list_processes' reply, a sequence of 8-byte aligned records:
// a process_info header, its UTF-16 name, then (8-byte aligned)
// thread_count thread_info records.

import type { TraceContext, VarargKind } from './kind.ts';
import { i32, i64, put32, put64, u32, u64 } from './bytes.ts';
import { dec32, formatTimeout, formatWideChars, hexPad, udec32 } from './format.ts';
import { isMalformed, malformed, structuredOrMalformed, type Malformed } from './malformed.ts';

const PROCESS_SIZE = 40;
const THREAD_SIZE = 40;
const align8 = (n: number) => (n + 7) & ~7;

export interface ThreadInfo {
  start_time: bigint;
  tid: number;
  base_priority: number;
  current_priority: number;
  unix_tid: number;
  teb: bigint;
  entry_point: bigint;
}

export interface ProcessInfo {
  start_time: bigint;
  priority: number;
  pid: number;
  parent_pid: number;
  session_id: number;
  handle_count: number;
  unix_pid: number;
  name: string;
  threads: ThreadInfo[];
}

export type ProcessInfoList = ProcessInfo[] | Malformed;

export function encodeProcessInfos(processes: ProcessInfo[]): Buffer {
  const parts: Buffer[] = [];
  let length = 0;
  const push = (b: Buffer) => {
    parts.push(b);
    length += b.length;
  };
  const pad = () => push(Buffer.alloc(align8(length) - length));
  for (const p of processes) {
    pad();
    const name = Buffer.from(p.name, 'utf16le');
    const head = Buffer.alloc(PROCESS_SIZE);
    put64(head, 0, p.start_time);
    put32(head, 8, name.length);
    put32(head, 12, p.threads.length);
    put32(head, 16, p.priority);
    put32(head, 20, p.pid);
    put32(head, 24, p.parent_pid);
    put32(head, 28, p.session_id);
    put32(head, 32, p.handle_count);
    put32(head, 36, p.unix_pid);
    push(head);
    push(name);
    pad();
    for (const t of p.threads) {
      const rec = Buffer.alloc(THREAD_SIZE);
      put64(rec, 0, t.start_time);
      put32(rec, 8, t.tid);
      put32(rec, 12, t.base_priority);
      put32(rec, 16, t.current_priority);
      put32(rec, 20, t.unix_tid);
      put64(rec, 24, t.teb);
      put64(rec, 32, t.entry_point);
      push(rec);
    }
  }
  return Buffer.concat(parts, length);
}

function parseProcessInfos(b: Buffer): ProcessInfo[] | undefined {
  const out: ProcessInfo[] = [];
  let pos = 0;
  while (pos < b.length) {
    pos = align8(pos);
    if (b.length - pos < PROCESS_SIZE) return undefined;
    const nameLen = u32(b, pos + 8);
    const threadCount = u32(b, pos + 12);
    const nameAt = pos + PROCESS_SIZE;
    if (nameLen % 2 || nameLen > b.length - nameAt) return undefined;
    let tpos = align8(nameAt + nameLen);
    if (threadCount > (b.length - tpos) / THREAD_SIZE) return undefined;
    const threads: ThreadInfo[] = [];
    for (let i = 0; i < threadCount; i++, tpos += THREAD_SIZE) {
      threads.push({
        start_time: i64(b, tpos),
        tid: u32(b, tpos + 8),
        base_priority: i32(b, tpos + 12),
        current_priority: i32(b, tpos + 16),
        unix_tid: i32(b, tpos + 20),
        teb: u64(b, tpos + 24),
        entry_point: u64(b, tpos + 32),
      });
    }
    out.push({
      start_time: i64(b, pos),
      priority: i32(b, pos + 16),
      pid: u32(b, pos + 20),
      parent_pid: u32(b, pos + 24),
      session_id: u32(b, pos + 28),
      handle_count: i32(b, pos + 32),
      unix_pid: i32(b, pos + 36),
      name: b.toString('utf16le', nameAt, nameAt + nameLen),
      threads,
    });
    pos = tpos;
  }
  return out;
}

/**
 * dump_varargs_process_info over the exact bytes. Where wineserver's
 * unsigned arithmetic would run past the buffer (a record ending less than 8
 * bytes before an unaligned end), we stop instead.
 */
export function traceProcessInfos(b: Buffer, ctx: TraceContext): string {
  const size = b.length;
  let pos = 0;
  let out = '{';
  while (size - pos >= PROCESS_SIZE) {
    pos = align8(pos);
    if (size - pos < PROCESS_SIZE) break;
    if (pos) out += ',';
    const threadCount = i32(b, pos + 12);
    out +=
      `{start_time=${formatTimeout(i64(b, pos), ctx)},thread_count=${udec32(threadCount)},priority=${dec32(i32(b, pos + 16))}` +
      `,pid=${hexPad(u32(b, pos + 20), 4)},parent_pid=${hexPad(u32(b, pos + 24), 4)},session_id=${hexPad(u32(b, pos + 28), 8)}` +
      `,handle_count=${udec32(u32(b, pos + 32))},unix_pid=${dec32(i32(b, pos + 36))},name=L"`;
    const nameLen = u32(b, pos + 8);
    pos += PROCESS_SIZE;
    if (pos < size) {
      const len = Math.min(nameLen, size - pos);
      out += formatWideChars(b, pos, len);
      pos += len & ~1;
    }
    pos = align8(pos);
    out += '",threads={';
    // thread_count is compared unsigned, so a negative count means "as many as fit".
    const count = threadCount >>> 0;
    for (let i = 0; i < count; i++) {
      if (size - pos < THREAD_SIZE) break;
      if (i) out += ',';
      out +=
        `{start_time=${formatTimeout(i64(b, pos), ctx)},tid=${hexPad(u32(b, pos + 8), 4)},base_priority=${dec32(i32(b, pos + 12))}` +
        `,current_priority=${dec32(i32(b, pos + 16))},unix_tid=${dec32(i32(b, pos + 20))}}`;
      pos += THREAD_SIZE;
    }
    out += '}}';
  }
  return out + '}';
}

const encodeField = (value: ProcessInfoList): Buffer => (isMalformed(value) ? Buffer.from(value.bytes) : encodeProcessInfos(value));

const thread = (tid: number): ThreadInfo => ({
  start_time: 133_000_000_000_000_000n + BigInt(tid),
  tid,
  base_priority: 8,
  current_priority: -2,
  unix_tid: 1000 + tid,
  teb: 0x7ffde000n,
  entry_point: 0x140001000n,
});

export const processInfoKind: VarargKind<ProcessInfoList> = {
  kind: 'process_info',
  decode(buf, offset, available) {
    const bytes = buf.subarray(offset, offset + available);
    return { value: structuredOrMalformed(bytes, parseProcessInfos, encodeProcessInfos), size: available };
  },
  encode: encodeField,
  format: (value, ctx) => traceProcessInfos(encodeField(value), ctx),
  samples: () => [
    [],
    [{ start_time: 0n, priority: 0, pid: 0x20, parent_pid: 0, session_id: 0, handle_count: 0, unix_pid: 0, name: '', threads: [] }],
    [
      { start_time: 133_000_000_000_000_000n, priority: 8, pid: 0x20, parent_pid: 0, session_id: 1, handle_count: 12, unix_pid: 4242, name: 'wineboot.exe', threads: [thread(0x24)] },
      { start_time: 1n, priority: -1, pid: 0x30, parent_pid: 0x20, session_id: 0xffffffff, handle_count: -1, unix_pid: -1, name: 'a', threads: [thread(0x34), thread(0x38), thread(0x3c)] },
    ],
    malformed(Buffer.alloc(39, 1)),
    malformed(Buffer.alloc(44, 0)),
  ],
};
