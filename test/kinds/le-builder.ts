// A little-endian byte builder for the golden tests, written independently
// of the encoders under test so the expected bytes do not come from them.

export class LE {
  private readonly bytes: number[] = [];

  u8(...values: number[]): this {
    for (const v of values) this.bytes.push(v & 0xff);
    return this;
  }

  u16(...values: number[]): this {
    for (const v of values) this.bytes.push(v & 0xff, (v >>> 8) & 0xff);
    return this;
  }

  u32(...values: number[]): this {
    for (const v of values) this.bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
    return this;
  }

  u64(...values: bigint[]): this {
    for (const v of values) {
      let x = BigInt.asUintN(64, v);
      for (let i = 0; i < 8; i++) {
        this.bytes.push(Number(x & 0xffn));
        x >>= 8n;
      }
    }
    return this;
  }

  /** UTF-16LE code units of `s`, no terminator. */
  wide(s: string): this {
    for (let i = 0; i < s.length; i++) this.u16(s.charCodeAt(i));
    return this;
  }

  ascii(s: string): this {
    for (let i = 0; i < s.length; i++) this.u8(s.charCodeAt(i));
    return this;
  }

  zeros(n: number): this {
    for (let i = 0; i < n; i++) this.bytes.push(0);
    return this;
  }

  raw(b: Buffer | number[]): this {
    for (const v of b) this.bytes.push(v & 0xff);
    return this;
  }

  /** A sid: revision, sub-authority count, 6-byte big-endian authority, sub-authorities. */
  sid(revision: number, authority: number, ...subs: number[]): this {
    this.u8(revision, subs.length, 0, 0);
    this.u8((authority >>> 24) & 0xff, (authority >>> 16) & 0xff, (authority >>> 8) & 0xff, authority & 0xff);
    return this.u32(...subs);
  }

  get length(): number {
    return this.bytes.length;
  }

  build(): Buffer {
    return Buffer.from(this.bytes);
  }
}

export const le = () => new LE();
