// Property tests for every kind in requests/kinds: samples round-trip, and
// random or mutated bytes never throw and re-encode to exactly the bytes
// consumed.

import { describe, expect, it } from 'vitest';
import { fixedKinds, varargKinds } from '../../requests/kinds/index.ts';
import type { FixedKind, VarargKind } from '../../requests/kinds/kind.ts';

/** Deterministic xorshift32, so failures reproduce. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function randomBytes(next: () => number, length: number, style: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    const r = next();
    // Mostly small numbers make plausible lengths/counts; the rest is noise.
    b[i] = style === 0 ? r & 0xff : r % 5 === 0 ? r & 0xff : r % 3 === 0 ? 0 : r & 0x0f;
  }
  return b;
}

const ctx = { now: 133_000_000_000_000_000n };

const varargEntries = Object.entries(varargKinds) as [string, VarargKind<unknown>][];
const fixedEntries = Object.entries(fixedKinds) as [string, FixedKind<unknown>][];

function checkVarargBytes(kind: VarargKind<unknown>, bytes: Buffer, lead = 3, tail = 5) {
  const buf = Buffer.concat([Buffer.alloc(lead, 0xee), bytes, Buffer.alloc(tail, 0xdd)]);
  const { value, size } = kind.decode(buf, lead, bytes.length);
  expect(size).toBeGreaterThanOrEqual(0);
  expect(size).toBeLessThanOrEqual(bytes.length);
  const again = kind.encode(value);
  expect(again.equals(bytes.subarray(0, size))).toBe(true);
  const text = kind.format(value, ctx);
  expect(text === null || typeof text === 'string').toBe(true);
  return { value, size, text };
}

describe.each(varargEntries)('vararg kind %s', (name, kind) => {
  it('is registered under its own name', () => {
    expect(kind.kind).toBe(name);
  });

  it('round-trips every sample', () => {
    const samples = kind.samples();
    expect(samples.length).toBeGreaterThan(2);
    for (const sample of samples) {
      const bytes = kind.encode(sample);
      const { value, size } = kind.decode(bytes, 0, bytes.length);
      expect(size).toBe(bytes.length);
      expect(kind.encode(value).equals(bytes)).toBe(true);
      expect(kind.format(value, ctx)).toBe(kind.format(sample, ctx));
    }
  });

  it('decodes random bytes without throwing and re-encodes them exactly', () => {
    const next = rng(name.length * 7919 + 17);
    for (let i = 0; i < 300; i++) {
      const length = i < 40 ? i : next() % (i % 10 === 0 ? 4000 : 300);
      checkVarargBytes(kind, randomBytes(next, length, i % 2));
    }
  });

  it('decodes mutated and truncated samples without throwing and re-encodes them exactly', () => {
    const next = rng(name.length * 104729 + 3);
    for (const sample of kind.samples()) {
      const bytes = kind.encode(sample);
      for (let i = 0; i < 20; i++) {
        const mutated = Buffer.from(bytes);
        if (mutated.length) for (let k = 0; k <= i % 4; k++) mutated[next() % mutated.length] = next() & 0xff;
        checkVarargBytes(kind, mutated);
        checkVarargBytes(kind, bytes.subarray(0, next() % (bytes.length + 1)));
        checkVarargBytes(kind, Buffer.concat([bytes, randomBytes(next, next() % 9, 0)]));
      }
    }
  });
});

describe.each(fixedEntries)('fixed kind %s', (name, kind) => {
  it('is registered under its C type name', () => {
    expect(kind.type).toBe(name);
    expect(kind.size % kind.align).toBe(0);
  });

  it('round-trips every sample', () => {
    for (const sample of kind.samples()) {
      const bytes = Buffer.alloc(kind.size + 8);
      kind.encode(sample, bytes, 4);
      const value = kind.decode(bytes, 4);
      const again = Buffer.alloc(kind.size + 8);
      kind.encode(value, again, 4);
      expect(again.equals(bytes)).toBe(true);
      expect(kind.format(value, ctx)).toBe(kind.format(sample, ctx));
    }
  });

  it('decodes random bytes without throwing and re-encodes them exactly', () => {
    const next = rng(name.length * 31337 + 5);
    for (let i = 0; i < 500; i++) {
      const bytes = randomBytes(next, kind.size, i % 2);
      if (i % 3 === 0) bytes.writeUInt32LE(next() % 16, 0); // hit the known union variants often
      const value = kind.decode(Buffer.concat([Buffer.alloc(2), bytes]), 2);
      const out = Buffer.alloc(kind.size);
      kind.encode(value, out, 0);
      expect(out.equals(bytes)).toBe(true);
      const text = kind.format(value, ctx);
      expect(text === null || typeof text === 'string').toBe(true);
    }
  });

  it('does not throw on a buffer that ends early', () => {
    const short = Buffer.alloc(Math.max(0, kind.size - 3), 1);
    expect(() => kind.format(kind.decode(short, 0), ctx)).not.toThrow();
  });
});
