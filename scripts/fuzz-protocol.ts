// Long fuzz run of the protocol layer: `npx tsx scripts/fuzz-protocol.ts [seconds] [seed]`.
// Prints progress and heap every 10 s; exits 1 on any finding.
import { loadProtocol } from '../requests/protocol.ts';
import { makeFuzzer } from '../test/helpers/protocol-fuzz.ts';

const seconds = Number(process.argv[2] ?? 60);
const seed = Number(process.argv[3] ?? Date.now() % 1e9);
const fuzzer = makeFuzzer(loadProtocol(), seed);
const end = Date.now() + seconds * 1000;
let report = Date.now() + 10_000;
while (Date.now() < end) {
  for (let i = 0; i < 200; i++) fuzzer.step();
  if (Date.now() >= report) {
    report += 10_000;
    const mb = (process.memoryUsage().heapUsed / 1048576).toFixed(1);
    console.log(`seed ${seed}: ${fuzzer.stats.iterations} rounds, ${fuzzer.stats.frames} frames, heap ${mb} MiB, findings ${fuzzer.stats.findings.length}`);
  }
  if (fuzzer.stats.findings.length) break;
}
console.log(JSON.stringify({ seed, ...fuzzer.stats }, null, 2));
process.exitCode = fuzzer.stats.findings.length ? 1 : 0;
