// filesystem_event: change notifications (read_change reply), a sequence of
// { action, len, name[len] } records each padded to a multiple of 4.

import type { VarargKind } from './kind.ts';
import { copyBytes, put32, u32 } from './bytes.ts';
import { formatNarrowChars, udec32 } from './format.ts';

const HEADER = 8;
const ACTIONS = ['', 'ADDED', 'REMOVED', 'MODIFIED', 'RENAMED_OLD_NAME', 'RENAMED_NEW_NAME', 'ADDED_STREAM', 'REMOVED_STREAM', 'MODIFIED_STREAM'];

export interface FilesystemEvent {
  action: number;
  /** The name as bytes (a Unix file name). */
  name: Buffer;
  /** Bytes after the name up to the 4-byte boundary; zeros when absent. */
  padding?: Buffer;
}

export interface FilesystemEventList {
  events: FilesystemEvent[];
  /** Bytes after the last whole record. */
  trailing: Buffer;
}

/** The record length wineserver computes (in 32-bit arithmetic). */
const recordLength = (nameLen: number) => ((Math.floor((HEADER + nameLen + 3) / 4) * 4) % 2 ** 32) >>> 0;

export function traceFilesystemEvents(b: Buffer): string {
  let size = b.length;
  let pos = 0;
  let out = '{';
  while (size) {
    const action = u32(b, pos);
    const nameLen = u32(b, pos + 4);
    const len = recordLength(nameLen);
    if (size < len || len === 0) break; // len 0 (a wrapped length) would loop forever in wineserver
    out += ACTIONS[action] && action < ACTIONS.length ? `{action=${ACTIONS[action]}` : `{action=${udec32(action)}`;
    const shown = nameLen > 0x7fffffff ? b.length - pos - HEADER : nameLen;
    out += `,name="${formatNarrowChars(b, pos + HEADER, Math.max(0, shown))}"}`;
    size -= len;
    pos += len;
    if (size) out += ',';
  }
  return out + '}';
}

function encodeList(value: FilesystemEventList): Buffer {
  const parts: Buffer[] = [];
  for (const ev of value.events) {
    const head = Buffer.alloc(HEADER);
    put32(head, 0, ev.action);
    put32(head, 4, ev.name.length);
    parts.push(head, ev.name, ev.padding ?? Buffer.alloc(recordLength(ev.name.length) - HEADER - ev.name.length));
  }
  parts.push(value.trailing);
  return Buffer.concat(parts);
}

export const filesystemEventKind: VarargKind<FilesystemEventList> = {
  kind: 'filesystem_event',
  decode(buf, offset, available) {
    const events: FilesystemEvent[] = [];
    let pos = 0;
    while (available - pos >= HEADER) {
      const nameLen = u32(buf, offset + pos + 4);
      const len = HEADER + nameLen + ((4 - ((HEADER + nameLen) % 4)) % 4);
      if (len > available - pos || len !== recordLength(nameLen)) break;
      events.push({
        action: u32(buf, offset + pos),
        name: copyBytes(buf, offset + pos + HEADER, nameLen),
        padding: copyBytes(buf, offset + pos + HEADER + nameLen, len - HEADER - nameLen),
      });
      pos += len;
    }
    return { value: { events, trailing: copyBytes(buf, offset + pos, available - pos) }, size: available };
  },
  encode: encodeList,
  format: (value) => traceFilesystemEvents(encodeList(value)),
  samples: () => [
    { events: [], trailing: Buffer.alloc(0) },
    { events: [{ action: 1, name: Buffer.from('new.txt') }], trailing: Buffer.alloc(0) },
    {
      events: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xffffffff].map((action) => ({ action, name: Buffer.from(`f${action}`) })),
      trailing: Buffer.alloc(0),
    },
    { events: [{ action: 3, name: Buffer.from('a\0b'), padding: Buffer.from([0xff]) }, { action: 2, name: Buffer.alloc(0) }], trailing: Buffer.from([1, 0, 0]) },
    { events: [], trailing: Buffer.from([1, 0, 0, 0, 50, 0, 0, 0, 0x41]) },
  ],
};
