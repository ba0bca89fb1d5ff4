// Declarative little-endian struct layouts for the C structs and unions of
// protocol.def. A layout lists (field, offset, type); plain structs get a
// binary-parser built from it, unions are read variant by variant.

import { Parser } from 'binary-parser';
import type { FixedKind, TraceContext } from './kind.ts';
import { i32, i64, put16, put32, put64, put8, u16, u32, u64, u8, zeroExtended } from './bytes.ts';

export type FieldType = 'u8' | 'u16' | 'u32' | 'i32' | 'u64' | 'i64';
export type Layout = ReadonlyArray<readonly [name: string, offset: number, type: FieldType]>;
export type FieldValues = Record<string, number | bigint>;

const WIDTH: Record<FieldType, number> = { u8: 1, u16: 2, u32: 4, i32: 4, u64: 8, i64: 8 };

export function readField(buf: Buffer, offset: number, type: FieldType): number | bigint {
  switch (type) {
    case 'u8':
      return u8(buf, offset);
    case 'u16':
      return u16(buf, offset);
    case 'u32':
      return u32(buf, offset);
    case 'i32':
      return i32(buf, offset);
    case 'u64':
      return u64(buf, offset);
    case 'i64':
      return i64(buf, offset);
  }
}

export function writeField(buf: Buffer, offset: number, type: FieldType, value: number | bigint): void {
  switch (type) {
    case 'u8':
      return put8(buf, offset, Number(value));
    case 'u16':
      return put16(buf, offset, Number(value));
    case 'u32':
    case 'i32':
      return put32(buf, offset, Number(value));
    case 'u64':
    case 'i64':
      return put64(buf, offset, BigInt(value));
  }
}

export function readFields(buf: Buffer, offset: number, layout: Layout): FieldValues {
  const out: FieldValues = {};
  for (const [name, at, type] of layout) out[name] = readField(buf, offset + at, type);
  return out;
}

/** Writes the fields `values` has; fields it lacks keep whatever `buf` holds. */
export function writeFields(buf: Buffer, offset: number, layout: Layout, values: Partial<FieldValues>): void {
  for (const [name, at, type] of layout) {
    const v = values[name];
    if (v !== undefined) writeField(buf, offset + at, type, v);
  }
}

const PARSER_TYPE: Record<FieldType, string> = { u8: 'uint8', u16: 'uint16le', u32: 'uint32le', i32: 'int32le', u64: 'uint64le', i64: 'int64le' };

/** A binary-parser for a plain (non-union) struct layout of `size` bytes, skipping padding. */
export function structParser(layout: Layout, size: number): Parser {
  let parser = new Parser();
  let pos = 0;
  for (const [name, at, type] of [...layout].sort((a, b) => a[1] - b[1])) {
    if (at > pos) parser = parser.seek(at - pos);
    parser = (parser as any)[PARSER_TYPE[type]](name) as Parser;
    pos = at + WIDTH[type];
  }
  if (size > pos) parser = parser.seek(size - pos);
  return parser;
}

/** Runs a struct parser on `size` bytes at buf[offset], reading zeros past the end of a short buffer. */
export function parseStruct<T>(parser: Parser, buf: Buffer, offset: number, size: number): T {
  const bytes = offset + size <= buf.length ? buf.subarray(offset, offset + size) : zeroExtended(buf, offset, Math.max(0, buf.length - offset), size);
  return parser.parse(bytes) as T;
}

/**
 * A tagged union of protocol.def (apc_call_t, irp_params_t, ...). The value
 * is flat: `type` (the tag), the fields of the variant it selects, and `raw`,
 * the bytes it was decoded from, so padding and the unused part of the
 * union survive a round trip. Encoding starts from `raw` (or zeros) and then
 * writes the tag and the variant's fields, so edited fields win.
 */
export interface UnionValue {
  type: number;
  raw?: Buffer;
  [field: string]: number | bigint | Buffer | undefined;
}

export interface UnionSpec {
  type: string;
  size: number;
  align: number;
  /** Field layouts by tag value; the tag itself is a 4-byte enum at offset 0 in every union here. */
  variants: Readonly<Record<number, Layout>>;
  /** Prints the union from its exact bytes, like the matching wineserver dumper. */
  trace(bytes: Buffer, ctx: TraceContext): string | null;
  /** Extra sample values besides one per variant and an unknown tag. */
  extraSamples?: UnionValue[];
}

function sampleFieldValue(type: FieldType, seed: number): number | bigint {
  switch (type) {
    case 'u8':
      return (seed * 37) & 0xff;
    case 'u16':
      return (seed * 4099) & 0xffff;
    case 'u32':
      return (seed * 0x9e3779b1) >>> 0;
    case 'i32':
      return (seed * 0x9e3779b1) | 0;
    case 'u64':
      return BigInt.asUintN(64, BigInt(seed) * 0x9e3779b97f4a7c15n);
    case 'i64':
      return BigInt.asIntN(64, BigInt(seed) * 0x9e3779b97f4a7c15n);
  }
}

export function unionKind(spec: UnionSpec): FixedKind<UnionValue> {
  const kind: FixedKind<UnionValue> = {
    type: spec.type,
    size: spec.size,
    align: spec.align,
    decode(buf, offset) {
      const raw = Buffer.alloc(spec.size);
      buf.copy(raw, 0, offset, offset + spec.size);
      const type = u32(raw, 0);
      const layout = spec.variants[type] ?? [];
      return { type, ...readFields(raw, 0, layout), raw };
    },
    encode(value, buf, offset) {
      const bytes = Buffer.alloc(spec.size);
      value.raw?.copy(bytes, 0, 0, spec.size);
      put32(bytes, 0, value.type);
      writeFields(bytes, 0, spec.variants[value.type] ?? [], value as Partial<FieldValues>);
      bytes.copy(buf, offset);
    },
    format(value, ctx) {
      const bytes = Buffer.alloc(spec.size);
      kind.encode(value, bytes, 0);
      return spec.trace(bytes, ctx);
    },
    samples() {
      const out: UnionValue[] = [];
      for (const [tag, layout] of Object.entries(spec.variants)) {
        out.push({ type: Number(tag) });
        out.push({ type: Number(tag), ...Object.fromEntries(layout.map(([name, , t], i) => [name, sampleFieldValue(t, i + 1)])) });
        out.push({ type: Number(tag), ...Object.fromEntries(layout.map(([name, , t]) => [name, sampleFieldValue(t, -1)])) });
      }
      out.push({ type: 0xdead });
      out.push({ type: 0xffffffff, raw: Buffer.alloc(spec.size, 0xcc) });
      return [...out, ...(spec.extraSamples ?? [])];
    },
  };
  return kind;
}
