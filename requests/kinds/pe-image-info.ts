// pe_image_info: what wineserver learned from a PE image's headers (80 bytes).

import type { VarargKind } from './kind.ts';
import { formatUint64, hexPad, udec32 } from './format.ts';
import { isMalformed, malformed, type Malformed } from './malformed.ts';
import { parseStruct, structParser, writeFields, type Layout } from './struct.ts';

export const PE_IMAGE_INFO_SIZE = 80;

const LAYOUT: Layout = [
  ['base', 0, 'u64'],
  ['stack_size', 8, 'u64'],
  ['stack_commit', 16, 'u64'],
  ['entry_point', 24, 'u32'],
  ['map_size', 28, 'u32'],
  ['zerobits', 32, 'u32'],
  ['subsystem', 36, 'u32'],
  ['subsystem_minor', 40, 'u16'],
  ['subsystem_major', 42, 'u16'],
  ['osversion_major', 44, 'u16'],
  ['osversion_minor', 46, 'u16'],
  ['image_charact', 48, 'u16'],
  ['dll_charact', 50, 'u16'],
  ['machine', 52, 'u16'],
  ['contains_code', 54, 'u8'],
  ['image_flags', 55, 'u8'],
  ['loader_flags', 56, 'u32'],
  ['header_size', 60, 'u32'],
  ['file_size', 64, 'u32'],
  ['checksum', 68, 'u32'],
  ['dbg_offset', 72, 'u32'],
  ['dbg_size', 76, 'u32'],
];
const parser = structParser(LAYOUT, PE_IMAGE_INFO_SIZE);

export interface PeImageInfo {
  base: bigint;
  stack_size: bigint;
  stack_commit: bigint;
  entry_point: number;
  map_size: number;
  zerobits: number;
  subsystem: number;
  subsystem_minor: number;
  subsystem_major: number;
  osversion_major: number;
  osversion_minor: number;
  image_charact: number;
  dll_charact: number;
  machine: number;
  contains_code: number;
  image_flags: number;
  loader_flags: number;
  header_size: number;
  file_size: number;
  checksum: number;
  dbg_offset: number;
  dbg_size: number;
}

/** Null when absent; Malformed when shorter than the struct (wineserver reads the missing part as zeros). */
export type PeImageInfoField = PeImageInfo | Malformed | null;

export function encodePeImageInfo(v: PeImageInfo): Buffer {
  const out = Buffer.alloc(PE_IMAGE_INFO_SIZE);
  writeFields(out, 0, LAYOUT, v as unknown as Record<string, number | bigint>);
  return out;
}

export function formatPeImageInfo(v: PeImageInfo): string {
  const x8 = (n: number) => hexPad(n, 8);
  const x4 = (n: number) => hexPad(n, 4);
  return (
    `{base=${formatUint64(v.base)},stack_size=${formatUint64(v.stack_size)},stack_commit=${formatUint64(v.stack_commit)}` +
    `,entry_point=${x8(v.entry_point)},map_size=${x8(v.map_size)},zerobits=${x8(v.zerobits)},subsystem=${x8(v.subsystem)}` +
    `,subsystem_minor=${x4(v.subsystem_minor)},subsystem_major=${x4(v.subsystem_major)},osversion_major=${x4(v.osversion_major)}` +
    `,osversion_minor=${x4(v.osversion_minor)},image_charact=${x4(v.image_charact)},dll_charact=${x4(v.dll_charact)},machine=${x4(v.machine)}` +
    `,contains_code=${udec32(v.contains_code)},image_flags=${hexPad(v.image_flags, 2)},loader_flags=${x8(v.loader_flags)}` +
    `,header_size=${x8(v.header_size)},file_size=${x8(v.file_size)},checksum=${x8(v.checksum)}}`
  );
}

const decodeStruct = (b: Buffer, offset: number): PeImageInfo => parseStruct<PeImageInfo>(parser, b, offset, PE_IMAGE_INFO_SIZE);

export const peImageInfoKind: VarargKind<PeImageInfoField> = {
  kind: 'pe_image_info',
  decode(buf, offset, available) {
    if (!available) return { value: null, size: 0 };
    if (available < PE_IMAGE_INFO_SIZE) return { value: malformed(buf.subarray(offset, offset + available)), size: available };
    return { value: decodeStruct(buf, offset), size: PE_IMAGE_INFO_SIZE };
  },
  encode: (value) => (value === null ? Buffer.alloc(0) : isMalformed(value) ? Buffer.from(value.bytes) : encodePeImageInfo(value)),
  format(value) {
    if (value === null) return '{}';
    return formatPeImageInfo(isMalformed(value) ? decodeStruct(value.bytes, 0) : value);
  },
  samples: () => {
    const zero = decodeStruct(Buffer.alloc(PE_IMAGE_INFO_SIZE), 0);
    const full = decodeStruct(Buffer.from(Array.from({ length: PE_IMAGE_INFO_SIZE }, (_, i) => (i * 29 + 1) & 0xff)), 0);
    const exe: PeImageInfo = {
      ...zero,
      base: 0x140000000n,
      stack_size: 0x100000n,
      stack_commit: 0x1000n,
      entry_point: 0x1540,
      map_size: 0x2d000,
      subsystem: 2,
      subsystem_major: 6,
      osversion_major: 6,
      image_charact: 0x22,
      dll_charact: 0x8160,
      machine: 0x8664,
      contains_code: 1,
      image_flags: 0x40,
      header_size: 0x400,
      file_size: 0x2a000,
      checksum: 0x3f2e1,
    };
    return [null, zero, full, exe, malformed(Buffer.from([1])), malformed(Buffer.alloc(79, 0xff))];
  },
};
