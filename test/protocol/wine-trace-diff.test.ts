// The generated request and reply printers against wineserver's own
// (compiled from Wine's sources into requests/kinds/tools/wine-trace-harness.c):
// every request and reply type, on generated frames and on frames whose
// variable part was scribbled over, must print the same text.

import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildWineTraceHarness } from '../../requests/kinds/tools/wine-harness.ts';
import { wineMisbehavesOn } from '../../requests/kinds/tools/wine-diff.ts';
import { requireVarargKind } from '../../requests/kind-registry.ts';
import type { MessageInfo } from '../../requests/protocol-types.ts';
import { loadProtocol } from '../../requests/protocol.ts';
import { ensureWineSource } from '../helpers/wine-source.ts';
import { prng, sampleFrames } from '../helpers/protocol-samples.ts';

const NOW = 133_500_000_000_000_000n;
const MONO = 90_000_000_000n;
const protocol = loadProtocol('wine-8.0');

/** Frames with a variable part on which wineserver's own dumper reads out of bounds are left out. */
function wineCanPrint(msg: MessageInfo, body: Record<string, unknown>): boolean {
  return msg.varargs.every((v) => !wineMisbehavesOn(v.kind, requireVarargKind(v.kind).encode(body[v.name])));
}

interface Case {
  what: string;
  line: string;
  ours: string;
}

function cases(): Case[] {
  const { requests, replies } = sampleFrames(protocol, 7);
  const rand = prng(99);
  const scribble = (frame: Buffer) => {
    const out = Buffer.from(frame);
    for (let i = 64; i < out.length; i++) if (rand() < 0.3) out[i] = Math.floor(rand() * 256);
    return out;
  };
  const ctx = { now: NOW, monotonicNow: MONO };
  const out: Case[] = [];
  for (const frame of requests) {
    for (const f of [frame, scribble(frame)]) {
      if (f.length > 60000) continue;
      const decoded = protocol.decodeRequest(f);
      if (!wineCanPrint(protocol.requests[decoded.code].request, decoded.body)) continue;
      // Wine's text sits between "name(" and " )" of the whole line.
      const line = protocol.formatRequest(0, decoded, ctx);
      const ours = line.slice(`0000: ${decoded.name}(`.length, -2);
      out.push({ what: `${decoded.name} request ${f.toString('hex').slice(0, 160)}`, line: `request:${decoded.code} ${NOW} ${MONO} ${f.toString('hex')}`, ours });
    }
  }
  for (const { code, bytes } of replies) {
    for (const f of [bytes, scribble(bytes)]) {
      if (f.length > 60000) continue;
      const decoded = protocol.decodeReply(code, f);
      if (!wineCanPrint(protocol.requests[code].reply, decoded.body)) continue;
      const line = protocol.formatReply(0, decoded, ctx);
      const head = `0000: ${decoded.name}() = ${protocol.statusName(decoded.error)}`;
      const ours = line.length > head.length ? line.slice(head.length + 2, -2) : '';
      out.push({ what: `${decoded.name} reply ${f.toString('hex').slice(0, 160)}`, line: `reply:${code} ${NOW} ${MONO} ${f.toString('hex')}`, ours });
    }
  }
  return out;
}

describe('generated trace printers against wineserver\'s own', () => {
  let harness = '';
  beforeAll(() => {
    harness = buildWineTraceHarness(ensureWineSource());
  }, 300_000);

  it('print every request and reply of Wine 8.0 exactly as wineserver does', () => {
    const all = cases();
    const run = spawnSync(harness, [], { input: all.map((c) => c.line).join('\n') + '\n', maxBuffer: 1 << 30, encoding: 'latin1' });
    expect(run.status).toBe(0);
    const outputs = run.stderr.split('\n<<END>>\n');
    const mismatches = all.filter((c, i) => outputs[i] !== c.ours).map((c) => `${c.what}\n  wine: ${outputs[all.indexOf(c)]}\n  ours: ${c.ours}`);
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(all.length).toBeGreaterThan(278 * 2 * 2);
  });
});
