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

/** Reads past the end of `b` see zeros, byte by byte, like a short memcpy into a zeroed struct. */
function partial(b: Buffer, o: number, width: number): bigint {
  let v = 0n;
  for (let i = width - 1; i >= 0; i--) v = (v << 8n) | BigInt(o + i >= 0 && o + i < b.length ? b[o + i] : 0);
  return v;
}
const fits = (b: Buffer, o: number, width: number) => o >= 0 && o + width <= b.length;

export const u8 = (b: Buffer, o: number): number => (fits(b, o, 1) ? b[o] : 0);
export const u16 = (b: Buffer, o: number): number => (fits(b, o, 2) ? b.readUInt16LE(o) : Number(partial(b, o, 2)));
export const u32 = (b: Buffer, o: number): number => (fits(b, o, 4) ? b.readUInt32LE(o) : Number(partial(b, o, 4)));
export const i32 = (b: Buffer, o: number): number => (fits(b, o, 4) ? b.readInt32LE(o) : Number(partial(b, o, 4)) | 0);
export const u64 = (b: Buffer, o: number): bigint => (fits(b, o, 8) ? b.readBigUInt64LE(o) : partial(b, o, 8));
export const i64 = (b: Buffer, o: number): bigint => (fits(b, o, 8) ? b.readBigInt64LE(o) : BigInt.asIntN(64, partial(b, o, 8)));

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
