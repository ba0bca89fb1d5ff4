// An independent little-endian byte builder for tests: frames are spelled
// out field by field here, never produced by the encoders under test.
export class ByteBuilder {
  private readonly bytes: number[] = [];

  u8(v: number): this {
    this.bytes.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >>> 8);
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }
  i32(v: number): this {
    return this.u32(v >>> 0);
  }
  u64(v: bigint): this {
    return this.u32(Number(v & 0xffffffffn)).u32(Number((v >> 32n) & 0xffffffffn));
  }
  raw(data: ArrayLike<number>): this {
    for (let i = 0; i < data.length; i++) this.u8(data[i]);
    return this;
  }
  utf16(text: string): this {
    for (let i = 0; i < text.length; i++) this.u16(text.charCodeAt(i));
    return this;
  }
  /** Zero bytes up to a total length. */
  padTo(length: number): this {
    while (this.bytes.length < length) this.bytes.push(0);
    return this;
  }
  get length(): number {
    return this.bytes.length;
  }
  build(): Buffer {
    return Buffer.from(this.bytes);
  }
}

/** A request frame: header (code, data size, reply size), fixed fields zero-padded to 64, then data. */
export function requestFrame(code: number, replySize: number, fixed: (b: ByteBuilder) => void, data: Buffer = Buffer.alloc(0)): Buffer {
  const b = new ByteBuilder().i32(code).u32(data.length).u32(replySize);
  fixed(b);
  return Buffer.concat([b.padTo(64).build(), data]);
}

/** A reply frame: header (error, data size), fixed fields zero-padded to 64, then data. */
export function replyFrame(error: number, fixed: (b: ByteBuilder) => void, data: Buffer = Buffer.alloc(0)): Buffer {
  const b = new ByteBuilder().u32(error).u32(data.length);
  fixed(b);
  return Buffer.concat([b.padTo(64).build(), data]);
}
