// Varargs that are arrays of one fixed-size element: ints, uints, uints64,
// ushorts, user_handles, rectangles, luid_attr, properties,
// cursor_positions, rawinput_devices, handle_infos.

import { Parser } from 'binary-parser';
import { elementListKind, type ElementList } from './element-list.ts';
import { put16, put32, put64 } from './bytes.ts';
import { dec32, formatUint64, hexPad, udec32, hex16 } from './format.ts';
import { formatRectangle, rectangleParser, writeRectangle, type Rectangle } from './fixed.ts';

export type { ElementList };

const INT_EDGES = [0, 1, -1, 0x7fffffff, -0x80000000];
const UINT_EDGES = [0, 1, 0xffffffff, 0x80000000, 0x12345678];

export const intsKind = elementListKind<number>({
  kind: 'ints',
  elementSize: 4,
  element: 'int32le',
  write: (b, o, v) => put32(b, o, v),
  formatItem: (v) => dec32(v),
  sampleItems: [[], [0], INT_EDGES, Array.from({ length: 1024 }, (_, i) => i - 512)],
});

export const uintsKind = elementListKind<number>({
  kind: 'uints',
  elementSize: 4,
  element: 'uint32le',
  write: (b, o, v) => put32(b, o, v),
  formatItem: (v) => hexPad(v, 8),
  sampleItems: [[], [4], UINT_EDGES, Array.from({ length: 1024 }, (_, i) => i * 4 + 4)],
});

export const userHandlesKind = elementListKind<number>({
  kind: 'user_handles',
  elementSize: 4,
  element: 'uint32le',
  write: (b, o, v) => put32(b, o, v),
  formatItem: (v) => hexPad(v, 8),
  sampleItems: [[], [0x10020], UINT_EDGES],
});

export const uints64Kind = elementListKind<bigint>({
  kind: 'uints64',
  elementSize: 8,
  element: 'uint64le',
  write: (b, o, v) => put64(b, o, v),
  formatItem: (v) => formatUint64(v),
  sampleItems: [[], [0n], [1n, 0xffffffffn, 0x100000000n, 0xffffffffffffffffn, 0x7ff000001000n]],
});

export const ushortsKind = elementListKind<number>({
  kind: 'ushorts',
  elementSize: 2,
  element: 'uint16le',
  write: (b, o, v) => put16(b, o, v),
  formatItem: (v) => hex16(v),
  sampleItems: [[], [0x8664], [0x14c, 0x8664, 0x1c4, 0xaa64, 0, 0xffff]],
});

export const rectanglesKind = elementListKind<Rectangle>({
  kind: 'rectangles',
  elementSize: 16,
  element: rectangleParser,
  write: writeRectangle,
  formatItem: formatRectangle,
  sampleItems: [
    [],
    [{ left: 0, top: 0, right: 10, bottom: 10 }],
    [
      { left: -2147483648, top: -1, right: 2147483647, bottom: 0 },
      { left: 5, top: 6, right: 7, bottom: 8 },
    ],
  ],
});

export interface LuidAttr {
  luid: { low_part: number; high_part: number };
  attrs: number;
}

const luidAttrParser = new Parser()
  .endianness('little')
  .nest('luid', { type: new Parser().endianness('little').uint32('low_part').int32('high_part') })
  .uint32('attrs');

export const luidAttrKind = elementListKind<LuidAttr>({
  kind: 'luid_attr',
  elementSize: 12,
  element: luidAttrParser,
  write: (b, o, v) => {
    put32(b, o, v.luid.low_part);
    put32(b, o + 4, v.luid.high_part);
    put32(b, o + 8, v.attrs);
  },
  // Wine prints the LUID as one 16-digit hex number, high part first.
  formatItem: (v) => `{luid=${hexPad(v.luid.high_part, 8)}${hexPad(v.luid.low_part, 8)},attrs=${(v.attrs >>> 0).toString(16)}}`,
  sampleItems: [
    [],
    [{ luid: { low_part: 0x17, high_part: 0 }, attrs: 3 }],
    [
      { luid: { low_part: 0xffffffff, high_part: -1 }, attrs: 0xffffffff },
      { luid: { low_part: 2, high_part: 1 }, attrs: 0 },
    ],
  ],
});

export interface PropertyData {
  atom: number;
  string: number;
  data: bigint;
}

export const propertiesKind = elementListKind<PropertyData>({
  kind: 'properties',
  elementSize: 16,
  element: new Parser().endianness('little').uint32('atom').int32('string').uint64('data'),
  write: (b, o, v) => {
    put32(b, o, v.atom);
    put32(b, o + 4, v.string);
    put64(b, o + 8, v.data);
  },
  formatItem: (v) => `{atom=${hexPad(v.atom, 4)},str=${dec32(v.string)},data=${formatUint64(v.data)}}`,
  sampleItems: [[], [{ atom: 0xc001, string: 1, data: 0x123456789n }], [{ atom: 0xffffffff, string: -1, data: 0n }]],
});

export interface CursorPosition {
  x: number;
  y: number;
  time: number;
  /** The struct's padding word, kept so the bytes round-trip. */
  pad: number;
  info: bigint;
}

export const cursorPositionsKind = elementListKind<CursorPosition>({
  kind: 'cursor_positions',
  elementSize: 24,
  element: new Parser().endianness('little').int32('x').int32('y').uint32('time').int32('pad').uint64('info'),
  write: (b, o, v) => {
    put32(b, o, v.x);
    put32(b, o + 4, v.y);
    put32(b, o + 8, v.time);
    put32(b, o + 12, v.pad);
    put64(b, o + 16, v.info);
  },
  formatItem: (v) => `{x=${dec32(v.x)},y=${dec32(v.y)},time=${udec32(v.time)},info=${formatUint64(v.info)}}`,
  sampleItems: [[], [{ x: -5, y: 10, time: 123456, pad: 0, info: 0n }], Array.from({ length: 64 }, (_, i) => ({ x: i, y: -i, time: 0xffffffff, pad: i, info: BigInt(i) << 40n }))],
});

export interface RawinputDevice {
  usage_page: number;
  usage: number;
  flags: number;
  target: number;
}

export const rawinputDevicesKind = elementListKind<RawinputDevice>({
  kind: 'rawinput_devices',
  elementSize: 12,
  element: new Parser().endianness('little').uint16('usage_page').uint16('usage').uint32('flags').uint32('target'),
  write: (b, o, v) => {
    put16(b, o, v.usage_page);
    put16(b, o + 2, v.usage);
    put32(b, o + 4, v.flags);
    put32(b, o + 8, v.target);
  },
  formatItem: (v) => `{usage_page=${hex16(v.usage_page)},usage=${hex16(v.usage)},flags=${hexPad(v.flags, 8)},target=${hexPad(v.target, 8)}}`,
  commaBeforePartialTail: true,
  sampleItems: [[], [{ usage_page: 1, usage: 2, flags: 0x100, target: 0x10020 }], [{ usage_page: 0xffff, usage: 0, flags: 0xffffffff, target: 0 }, { usage_page: 1, usage: 6, flags: 0, target: 1 }]],
});

export interface HandleInfo {
  owner: number;
  handle: number;
  access: number;
  attributes: number;
  type: number;
}

export const handleInfosKind = elementListKind<HandleInfo>({
  kind: 'handle_infos',
  elementSize: 20,
  element: new Parser().endianness('little').uint32('owner').uint32('handle').uint32('access').uint32('attributes').uint32('type'),
  write: (b, o, v) => {
    put32(b, o, v.owner);
    put32(b, o + 4, v.handle);
    put32(b, o + 8, v.access);
    put32(b, o + 12, v.attributes);
    put32(b, o + 16, v.type);
  },
  formatItem: (v) =>
    `{owner=${hexPad(v.owner, 4)},handle=${hexPad(v.handle, 4)},access=${hexPad(v.access, 8)},attributes=${hexPad(v.attributes, 8)},type=${udec32(v.type)}}`,
  commaBeforePartialTail: true,
  sampleItems: [[], [{ owner: 0x20, handle: 4, access: 0x1f0fff, attributes: 0, type: 7 }], [{ owner: 0xffffffff, handle: 0xfffffffc, access: 0, attributes: 2, type: 0xffffffff }]],
});
