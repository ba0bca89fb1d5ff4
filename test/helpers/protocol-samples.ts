// Generated values for every request and reply of a protocol: the round-trip
// test encodes and decodes them, the fuzzer mutates their frames.

import { FIELD_TYPES } from '../../requests/generator/layout.ts';
import { requireFixedKind, requireVarargKind } from '../../requests/kind-registry.ts';
import type { Protocol } from '../../requests/protocol.ts';
import type { MessageInfo } from '../../requests/protocol-types.ts';

// A small deterministic PRNG so failures reproduce.
export function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Edge = 'zero' | 'max' | 'random';

function scalarValue(type: string, edge: Edge, rand: () => number): number | bigint {
  const repr = FIELD_TYPES[type].repr;
  if ('kind' in repr) throw new Error('not a scalar');
  const r = () => Math.floor(rand() * 2 ** 32);
  switch (repr.read) {
    case 'u64':
      return edge === 'zero' ? 0n : edge === 'max' ? 0xffffffffffffffffn : (BigInt(r()) << 32n) | BigInt(r());
    case 'u32':
      return edge === 'zero' ? 0 : edge === 'max' ? 0xffffffff : r();
    case 'i32':
      return edge === 'zero' ? 0 : edge === 'max' ? -1 : r() | 0;
    case 'u16':
      return edge === 'zero' ? 0 : edge === 'max' ? 0xffff : r() & 0xffff;
    case 'i16':
      return edge === 'zero' ? 0 : edge === 'max' ? -32768 : (r() & 0xffff) - 0x8000;
    case 'u8':
      return edge === 'zero' ? 0 : edge === 'max' ? 0xff : r() & 0xff;
    case 'i8':
      return edge === 'zero' ? 0 : edge === 'max' ? -128 : (r() & 0xff) - 0x80;
  }
}

/** Bodies for one message: one per edge, plus one per sample of each kind it uses. */
export function bodies(msg: MessageInfo, rand: () => number): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const kindSamples = new Map<string, unknown[]>();
  for (const f of msg.fields) {
    const repr = FIELD_TYPES[f.type].repr;
    if ('kind' in repr) kindSamples.set(`f:${f.name}`, requireFixedKind(repr.kind).samples());
  }
  for (const v of msg.varargs) kindSamples.set(`v:${v.name}`, requireVarargKind(v.kind).samples());
  const variants = Math.max(3, ...[...kindSamples.values()].map((s) => s.length));
  const edges: Edge[] = ['zero', 'max', 'random'];
  for (let i = 0; i < variants; i++) {
    const body: Record<string, unknown> = {};
    for (const f of msg.fields) {
      const samples = kindSamples.get(`f:${f.name}`);
      body[f.name] = samples ? samples[i % samples.length] : scalarValue(f.type, edges[i % 3], rand);
    }
    for (const v of msg.varargs) {
      const samples = kindSamples.get(`v:${v.name}`)!;
      const value = samples[i % samples.length];
      body[v.name] = value;
      // A vararg bounded by a size field gets exactly its own size there, as real clients send it.
      if (v.sizeField) body[v.sizeField] = requireVarargKind(v.kind).encode(value).length;
    }
    out.push(body);
  }
  return out;
}


/** Encoded frames of every request and reply, for mutation. */
export function sampleFrames(protocol: Protocol, seed: number): { requests: Buffer[]; replies: Array<{ code: number; bytes: Buffer }> } {
  const rand = prng(seed);
  const requests: Buffer[] = [];
  const replies: Array<{ code: number; bytes: Buffer }> = [];
  for (const info of protocol.requests) {
    for (const body of bodies(info.request, rand)) requests.push(protocol.encodeRequest({ code: info.code, replySize: 0x1000, body }));
    for (const body of bodies(info.reply, rand)) replies.push({ code: info.code, bytes: protocol.encodeReply({ code: info.code, error: 0, body }) });
  }
  return { requests, replies };
}
