// Little-endian byte helpers shared by the kinds.
//
// Wine's dumpers often memcpy a possibly short buffer into a zeroed struct
// before printing it; `zeroExtended` gives the same view so the printers can
// read every field without bounds checks.

/** A copy of buf[offset, offset + length) padded with zeros to at least `minLength` bytes. */
export function zeroExtended(buf: Buffer, offset: number, length: number, minLength: number): Buffer {
  const out = Buffer.alloc(Math.max(length, minLength));
  buf.copy(out, 0, offset, offset + length);
  return out;
}

/** The bytes buf[offset, offset + length) as an independent copy (values never alias the wire buffer). */
export function copyBytes(buf: Buffer, offset: number, length: number): Buffer {
  return Buffer.from(buf.subarray(offset, offset + length));
}

export const u8 = (b: Buffer, o: number): number => (o + 1 <= b.length ? b.readUInt8(o) : 0);
export const u16 = (b: Buffer, o: number): number => (o + 2 <= b.length ? b.readUInt16LE(o) : 0);
export const u32 = (b: Buffer, o: number): number => (o + 4 <= b.length ? b.readUInt32LE(o) : 0);
export const i32 = (b: Buffer, o: number): number => (o + 4 <= b.length ? b.readInt32LE(o) : 0);
export const u64 = (b: Buffer, o: number): bigint => (o + 8 <= b.length ? b.readBigUInt64LE(o) : 0n);
export const i64 = (b: Buffer, o: number): bigint => (o + 8 <= b.length ? b.readBigInt64LE(o) : 0n);

/** Writes with C truncation semantics: values are reduced modulo the field width, never rejected. */
export const put8 = (b: Buffer, o: number, v: number): void => void b.writeUInt8(v & 0xff, o);
export const put16 = (b: Buffer, o: number, v: number): void => void b.writeUInt16LE(v & 0xffff, o);
export const put32 = (b: Buffer, o: number, v: number): void => void b.writeUInt32LE(v >>> 0, o);
export const put64 = (b: Buffer, o: number, v: bigint): void => void b.writeBigUInt64LE(BigInt.asUintN(64, v), o);

/** Builds a buffer from a fixed-size struct writer. */
export function withStruct(size: number, fill: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(size);
  fill(b);
  return b;
}
