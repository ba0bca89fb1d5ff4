// Random and mutated frames through the framers, decoders, trace printers and
// encoders. The only errors allowed out are ProtocolErrors; anything else is
// recorded as a finding. Used by the bounded fuzz test and by
// scripts/fuzz-protocol.ts for long runs.

import { ProtocolError } from '../../requests/errors.ts';
import { ReplyFramer, RequestFramer } from '../../requests/framing.ts';
import type { Protocol } from '../../requests/protocol.ts';
import { prng, sampleFrames } from './protocol-samples.ts';

export interface FuzzStats {
  iterations: number;
  frames: number;
  protocolErrors: Record<string, number>;
  findings: Array<{ what: string; error: string; input: string }>;
}

export function makeFuzzer(protocol: Protocol, seed: number) {
  const rand = prng(seed);
  const samples = sampleFrames(protocol, seed);
  const int = (n: number) => Math.floor(rand() * n);
  const stats: FuzzStats = { iterations: 0, frames: 0, protocolErrors: {}, findings: [] };

  function mutate(frame: Buffer): Buffer {
    const out = Buffer.from(frame);
    switch (int(5)) {
      case 0: // flip some bytes anywhere, the header included
        for (let i = int(4) + 1; i > 0; i--) out[int(out.length)] ^= 1 << int(8);
        return out;
      case 1: // truncate
        return out.subarray(0, int(out.length));
      case 2: // append garbage
        return Buffer.concat([out, Buffer.from(Array.from({ length: int(40) }, () => int(256)))]);
      case 3: // random code
        out.writeInt32LE(int(400) - 50, 0);
        return out;
      default: // scribble over the variable part only, keeping sizes consistent
        for (let i = 64; i < out.length; i++) if (rand() < 0.2) out[i] = int(256);
        return out;
    }
  }

  function guard(what: string, input: Buffer, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof ProtocolError) {
        stats.protocolErrors[err.code] = (stats.protocolErrors[err.code] ?? 0) + 1;
        return;
      }
      if (stats.findings.length < 20) stats.findings.push({ what, error: String((err as Error)?.stack ?? err), input: input.toString('hex').slice(0, 512) });
    }
  }

  function consumeRequest(frame: Buffer): void {
    stats.frames++;
    guard('request', frame, () => {
      const decoded = protocol.decodeRequest(frame);
      protocol.formatRequest(0x20, decoded, { now: 0x01db000000000000n });
      protocol.encodeRequest(decoded);
    });
  }

  function consumeReply(code: number, frame: Buffer): void {
    stats.frames++;
    guard('reply', frame, () => {
      const decoded = protocol.decodeReply(code, frame);
      protocol.formatReply(0x20, decoded, { now: 0x01db000000000000n });
      protocol.encodeReply(decoded);
    });
  }

  /** One round: a stream of mutated and random requests through a framer in random chunks, and some replies. */
  function step(): void {
    stats.iterations++;
    const parts: Buffer[] = [];
    for (let i = int(6) + 1; i > 0; i--) {
      if (rand() < 0.15) parts.push(Buffer.from(Array.from({ length: int(200) }, () => int(256))));
      else parts.push(mutate(samples.requests[int(samples.requests.length)]));
    }
    const stream = Buffer.concat(parts);
    const framer = new RequestFramer(1 << 20);
    const sink = { frame: (f: { bytes: Buffer }) => consumeRequest(f.bytes), error: (e: ProtocolError) => guard('framer', stream, () => { throw e; }) };
    for (let at = 0; at < stream.length; ) {
      const n = int(96) + 1;
      framer.push(stream.subarray(at, at + n), sink);
      at += n;
    }
    for (const part of parts) consumeRequest(part);
    const reply = samples.replies[int(samples.replies.length)];
    const mutated = mutate(reply.bytes);
    consumeReply(rand() < 0.8 ? reply.code : int(400), mutated);
    const replies = new ReplyFramer();
    replies.expect(int(2) ? 0x1000 : 0);
    replies.push(mutated, { frame: (f) => consumeReply(reply.code, f.bytes), error: (e) => guard('reply framer', mutated, () => { throw e; }) });
  }

  return { stats, step };
}
