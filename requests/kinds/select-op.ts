// select_op: what a select request waits for (the VARARG(data,select_op,size)).

import type { VarargKind } from './kind.ts';
import { u32, u64, put32, put64 } from './bytes.ts';
import { formatUint64, hexPad, udec32 } from './format.ts';
import { isMalformed, malformed, structuredOrMalformed, type Malformed } from './malformed.ts';

export const SELECT_NONE = 0;
export const SELECT_WAIT = 1;
export const SELECT_WAIT_ALL = 2;
export const SELECT_SIGNAL_AND_WAIT = 3;
export const SELECT_KEYED_EVENT_WAIT = 4;
export const SELECT_KEYED_EVENT_RELEASE = 5;
const MAXIMUM_WAIT_OBJECTS = 64;
/** sizeof(select_op_t) and of its wait member. */
const SELECT_OP_SIZE = 264;
const WAIT_SIZE = 4 + 4 * MAXIMUM_WAIT_OBJECTS;

export type SelectOp =
  | { op: typeof SELECT_NONE }
  | { op: typeof SELECT_WAIT | typeof SELECT_WAIT_ALL; handles: number[] }
  | { op: typeof SELECT_SIGNAL_AND_WAIT; wait: number; signal: number }
  | { op: typeof SELECT_KEYED_EVENT_WAIT | typeof SELECT_KEYED_EVENT_RELEASE; handle: number; key: bigint };

export type SelectOpField = SelectOp | Malformed | null;

export function encodeSelectOp(value: SelectOp): Buffer {
  switch (value.op) {
    case SELECT_NONE:
      return Buffer.alloc(4);
    case SELECT_WAIT:
    case SELECT_WAIT_ALL: {
      const out = Buffer.alloc(4 + 4 * value.handles.length);
      put32(out, 0, value.op);
      value.handles.forEach((h, i) => put32(out, 4 + 4 * i, h));
      return out;
    }
    case SELECT_SIGNAL_AND_WAIT: {
      const out = Buffer.alloc(12);
      put32(out, 0, value.op);
      put32(out, 4, value.wait);
      put32(out, 8, value.signal);
      return out;
    }
    case SELECT_KEYED_EVENT_WAIT:
    case SELECT_KEYED_EVENT_RELEASE: {
      const out = Buffer.alloc(16);
      put32(out, 0, value.op);
      put32(out, 4, value.handle);
      put64(out, 8, value.key);
      return out;
    }
  }
}

function parseSelectOp(b: Buffer): SelectOp | undefined {
  const op = u32(b, 0);
  switch (op) {
    case SELECT_NONE:
      return { op };
    case SELECT_WAIT:
    case SELECT_WAIT_ALL: {
      if (b.length % 4 || b.length > WAIT_SIZE) return undefined;
      const handles: number[] = [];
      for (let o = 4; o < b.length; o += 4) handles.push(u32(b, o));
      return { op, handles };
    }
    case SELECT_SIGNAL_AND_WAIT:
      return { op, wait: u32(b, 4), signal: u32(b, 8) };
    case SELECT_KEYED_EVENT_WAIT:
    case SELECT_KEYED_EVENT_RELEASE:
      return { op, handle: u32(b, 4), key: u64(b, 8) };
  }
  return undefined;
}

/** dump_varargs_select_op, from the exact bytes. */
export function traceSelectOp(bytes: Buffer): string {
  const size = bytes.length;
  if (!size) return '{}';
  const data = Buffer.alloc(SELECT_OP_SIZE);
  bytes.copy(data, 0, 0, SELECT_OP_SIZE);
  const op = u32(data, 0);
  let body: string;
  switch (op) {
    case SELECT_NONE:
      body = 'NONE';
      break;
    case SELECT_WAIT:
    case SELECT_WAIT_ALL: {
      body = op === SELECT_WAIT ? 'WAIT' : 'WAIT_ALL';
      if (size > 4) {
        const count = Math.floor((Math.min(size, WAIT_SIZE) - 4) / 4);
        const handles: string[] = [];
        for (let i = 0; i < count; i++) handles.push(hexPad(u32(data, 4 + 4 * i), 4));
        body += `,handles={${handles.join(',')}}`;
      }
      break;
    }
    case SELECT_SIGNAL_AND_WAIT:
      body = `SIGNAL_AND_WAIT,signal=${hexPad(u32(data, 8), 4)},wait=${hexPad(u32(data, 4), 4)}`;
      break;
    case SELECT_KEYED_EVENT_WAIT:
    case SELECT_KEYED_EVENT_RELEASE:
      body = `KEYED_EVENT_${op === SELECT_KEYED_EVENT_WAIT ? 'WAIT' : 'RELEASE'},handle=${hexPad(u32(data, 4), 4)},key=${formatUint64(u64(data, 8))}`;
      break;
    default:
      body = `op=${udec32(op)}`;
  }
  return `{${body}}`;
}

const encodeField = (value: SelectOpField): Buffer =>
  value === null ? Buffer.alloc(0) : isMalformed(value) ? Buffer.from(value.bytes) : encodeSelectOp(value);

export const selectOpKind: VarargKind<SelectOpField> = {
  kind: 'select_op',
  decode(buf, offset, available) {
    if (!available) return { value: null, size: 0 };
    const bytes = buf.subarray(offset, offset + available);
    return { value: structuredOrMalformed(bytes, parseSelectOp, encodeSelectOp), size: available };
  },
  encode: encodeField,
  format: (value) => traceSelectOp(encodeField(value)),
  samples: () => [
    null,
    { op: SELECT_NONE },
    { op: SELECT_WAIT, handles: [] },
    { op: SELECT_WAIT, handles: [4] },
    { op: SELECT_WAIT_ALL, handles: Array.from({ length: MAXIMUM_WAIT_OBJECTS }, (_, i) => 4 * (i + 1)) },
    { op: SELECT_SIGNAL_AND_WAIT, wait: 0x10, signal: 0x14 },
    { op: SELECT_KEYED_EVENT_WAIT, handle: 0x40, key: 0x7ffe0000n },
    { op: SELECT_KEYED_EVENT_RELEASE, handle: 0x44, key: 0xffffffffffffffffn },
    malformed(Buffer.from([1, 0, 0, 0, 4, 0])),
    malformed(Buffer.from([9, 0, 0, 0])),
    malformed(Buffer.from([3, 0])),
    malformed(Buffer.alloc(300, 1)),
  ],
};
