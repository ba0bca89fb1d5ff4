// object_type_info / object_types_info: per-type object statistics
// (NtQueryObject ObjectTypeInformation / ObjectTypesInformation).
//
// Wire layout of one entry: name_len, index, obj_count, handle_count,
// obj_max, handle_max, valid_access (u32 each), generic_map_t mapping, then
// the UTF-16 name; wineserver consumes 44 + ((name_len + 2) & ~3) bytes.

import type { VarargKind } from './kind.ts';
import { copyBytes, put32, u32 } from './bytes.ts';
import { formatWideChars, hexPad, udec32 } from './format.ts';
import { formatGenericMap, writeGenericMap, type GenericMap } from './fixed.ts';
import { isMalformed, malformed, type Malformed } from './malformed.ts';

const HEADER = 44;

export interface ObjectTypeInfo {
  index: number;
  obj_count: number;
  handle_count: number;
  obj_max: number;
  handle_max: number;
  valid_access: number;
  mapping: GenericMap;
  name: string;
  /** Bytes after the name up to the consumed size; zeros of the canonical length when absent. */
  padding?: Buffer;
}

/** As for object_attributes: `seen` keeps bytes the dumper checked but did not consume. */
export interface MalformedObjectTypeInfo extends Malformed {
  seen?: Buffer;
}

const paddedNameLength = (nameLen: number) => ((nameLen + 2) & ~3) >>> 0;

/** One dump_varargs_object_type_info step over b[pos, pos + size): the text and the bytes consumed. */
function traceEntry(b: Buffer, pos: number, size: number, prefix: string): { text: string; consumed: number } {
  if (!size) return { text: `${prefix}{}`, consumed: 0 };
  const nameLen = u32(b, pos);
  if (size < HEADER || size - HEADER < nameLen) return { text: `${prefix}{***invalid***}`, consumed: size };
  const f = (i: number) => u32(b, pos + 4 * i);
  const text =
    `${prefix}{index=${udec32(f(1))},obj_count=${udec32(f(2))},handle_count=${udec32(f(3))},obj_max=${udec32(f(4))}` +
    `,handle_max=${udec32(f(5))},valid=${hexPad(f(6), 8)},access=${formatGenericMap({ read: f(7), write: f(8), exec: f(9), all: f(10) })}` +
    `,name=L"${formatWideChars(b, pos + HEADER, nameLen)}"}`;
  return { text, consumed: Math.min(size, HEADER + paddedNameLength(nameLen)) };
}

function consumedSize(buf: Buffer, offset: number, available: number): number {
  if (!available) return 0;
  const nameLen = u32(buf, offset);
  if (available < HEADER || available - HEADER < nameLen) return available;
  return Math.min(available, HEADER + paddedNameLength(nameLen));
}

export function encodeObjectTypeInfo(v: ObjectTypeInfo): Buffer {
  const name = Buffer.from(v.name, 'utf16le');
  const header = Buffer.alloc(HEADER);
  [name.length, v.index, v.obj_count, v.handle_count, v.obj_max, v.handle_max, v.valid_access].forEach((n, i) => put32(header, 4 * i, n));
  writeGenericMap(header, 28, v.mapping);
  const padding = v.padding ?? Buffer.alloc(paddedNameLength(name.length) - name.length);
  return Buffer.concat([header, name, padding]);
}

function parseEntry(bytes: Buffer): ObjectTypeInfo | undefined {
  const nameLen = u32(bytes, 0);
  if (bytes.length < HEADER || nameLen % 2 || nameLen > bytes.length - HEADER) return undefined;
  const f = (i: number) => u32(bytes, 4 * i);
  return {
    index: f(1),
    obj_count: f(2),
    handle_count: f(3),
    obj_max: f(4),
    handle_max: f(5),
    valid_access: f(6),
    mapping: { read: f(7), write: f(8), exec: f(9), all: f(10) },
    name: bytes.toString('utf16le', HEADER, HEADER + nameLen),
    padding: copyBytes(bytes, HEADER + nameLen, bytes.length - HEADER - nameLen),
  };
}

type Entry = ObjectTypeInfo | MalformedObjectTypeInfo;

function decodeEntry(buf: Buffer, offset: number, available: number): { value: Entry; size: number } {
  const size = consumedSize(buf, offset, available);
  const bytes = buf.subarray(offset, offset + size);
  const parsed = parseEntry(bytes);
  if (parsed && encodeObjectTypeInfo(parsed).equals(bytes)) return { value: parsed, size };
  const value: MalformedObjectTypeInfo = malformed(bytes);
  const seenSize = Math.min(available, HEADER + u32(buf, offset));
  if (available >= HEADER && seenSize > size) value.seen = copyBytes(buf, offset, seenSize);
  return { value, size };
}

const encodeEntry = (v: Entry): Buffer => (isMalformed(v) ? Buffer.from(v.bytes) : encodeObjectTypeInfo(v));

const sampleEntries = (): ObjectTypeInfo[] => [
  { index: 0, obj_count: 0, handle_count: 0, obj_max: 0, handle_max: 0, valid_access: 0, mapping: { read: 0, write: 0, exec: 0, all: 0 }, name: '' },
  {
    index: 2,
    obj_count: 14,
    handle_count: 30,
    obj_max: 14,
    handle_max: 30,
    valid_access: 0x1f0003,
    mapping: { read: 0x20001, write: 0x20002, exec: 0x120000, all: 0x1f0003 },
    name: 'Event',
  },
  { index: 7, obj_count: 1, handle_count: 1, obj_max: 0xffffffff, handle_max: 1, valid_access: 0xf01ff, mapping: { read: 1, write: 2, exec: 4, all: 8 }, name: 'Key' },
];

export const objectTypeInfoKind: VarargKind<Entry | null> = {
  kind: 'object_type_info',
  decode(buf, offset, available) {
    if (!available) return { value: null, size: 0 };
    return decodeEntry(buf, offset, available);
  },
  encode: (value) => (value === null ? Buffer.alloc(0) : encodeEntry(value)),
  format(value) {
    if (value === null) return '{}';
    const bytes = isMalformed(value) && value.seen ? value.seen : encodeEntry(value);
    return traceEntry(bytes, 0, bytes.length, '').text;
  },
  samples: () => [null, ...sampleEntries(), malformed(Buffer.alloc(10, 3)), malformed(Buffer.concat([Buffer.from([100, 0, 0, 0]), Buffer.alloc(40)]))],
};

/** All object types: consecutive entries; the last malformed one takes the rest. */
export const objectTypesInfoKind: VarargKind<Entry[]> = {
  kind: 'object_types_info',
  decode(buf, offset, available) {
    const entries: Entry[] = [];
    let pos = 0;
    while (pos < available) {
      const { value, size } = decodeEntry(buf, offset + pos, available - pos);
      entries.push(value);
      pos += size;
    }
    return { value: entries, size: available };
  },
  encode: (entries) => Buffer.concat(entries.map(encodeEntry)),
  format(entries) {
    const bytes = Buffer.concat(entries.map(encodeEntry));
    let text = '{';
    // wineserver passes "," as the prefix of every entry, the first one included.
    for (let pos = 0; pos < bytes.length; ) {
      const step = traceEntry(bytes, pos, bytes.length - pos, ',');
      text += step.text;
      pos += step.consumed;
    }
    return text + '}';
  },
  samples: () => [[], sampleEntries(), [...sampleEntries(), malformed(Buffer.alloc(12, 1))]],
};
