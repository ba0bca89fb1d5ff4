// A bounded fuzz run in the suite; scripts/fuzz-protocol.ts runs longer.
import { describe, expect, it } from 'vitest';
import { loadProtocol } from '../../requests/protocol.ts';
import { makeFuzzer } from '../helpers/protocol-fuzz.ts';

function heapAfterGc(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

describe('fuzzing the framers and decoders', () => {
  it('lets nothing but ProtocolError out of random and mutated frames, and memory stays flat', () => {
    const fuzzer = makeFuzzer(loadProtocol('wine-8.0'), 20261126);
    for (let i = 0; i < 1500; i++) fuzzer.step(); // warm up: caches, JIT
    const before = heapAfterGc();
    for (let i = 0; i < 6000; i++) fuzzer.step();
    const after = heapAfterGc();
    expect(fuzzer.stats.findings).toEqual([]);
    expect(fuzzer.stats.frames).toBeGreaterThan(20000);
    // The mutations must actually hit the error paths.
    expect(Object.keys(fuzzer.stats.protocolErrors)).toEqual(expect.arrayContaining(['WK_UNKNOWN_REQUEST', 'WK_FRAME_TRUNCATED']));
    expect(after - before).toBeLessThan(8 * 1024 * 1024);
  });
});
