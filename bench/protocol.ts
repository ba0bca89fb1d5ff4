// Decode and encode throughput of the generated protocol code on one core,
// beside hand-written DataView decoders for a few request types (the
// baseline the generated code should stay within 2x of).

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RecordKind } from '../proxy/recording/format.ts';
import { readRecording } from '../proxy/recording/reader.ts';
import { loadProtocol } from '../requests/protocol.ts';
import { sampleFrames } from '../test/helpers/protocol-samples.ts';
import { ByteBuilder, requestFrame } from '../test/helpers/byte-builder.ts';
import { machine, machineLine, throughput, writeReport } from './harness.ts';

const protocol = loadProtocol('wine-8.0');

// --- the hand-written baseline: what one would write without a generator ---
function handCloseHandle(frame: Buffer) {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.length);
  return { code: view.getInt32(0, true), replySize: view.getUint32(8, true), body: { handle: view.getUint32(12, true) } };
}
function handOpenEvent(frame: Buffer) {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.length);
  const size = view.getUint32(4, true);
  return {
    code: view.getInt32(0, true),
    replySize: view.getUint32(8, true),
    body: {
      access: view.getUint32(12, true),
      attributes: view.getUint32(16, true),
      rootdir: view.getUint32(20, true),
      name: frame.toString('utf16le', 64, 64 + (size & ~1)),
    },
  };
}
function handAddAtom(frame: Buffer) {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.length);
  const size = view.getUint32(4, true);
  return { code: view.getInt32(0, true), replySize: view.getUint32(8, true), body: { name: frame.toString('utf16le', 64, 64 + (size & ~1)) } };
}

const utf16 = (s: string) => new ByteBuilder().utf16(s).build();
const baselineCases = [
  { name: 'close_handle', frame: requestFrame(protocol.codeOf('close_handle'), 0, (b) => b.u32(0x44)), hand: handCloseHandle },
  {
    name: 'open_event',
    frame: requestFrame(protocol.codeOf('open_event'), 0, (b) => b.u32(0x1f0003).u32(0).u32(0x10), utf16('\\BaseNamedObjects\\winekernel-bench')),
    hand: handOpenEvent,
  },
  { name: 'add_atom', frame: requestFrame(protocol.codeOf('add_atom'), 0, () => {}, utf16('winekernel-bench-atom')), hand: handAddAtom },
];

/** Every request and reply of the committed recordings: real Wine traffic. */
function recordedTraffic() {
  const dir = join(import.meta.dirname, '..', 'fixtures', 'recordings');
  const requests: Buffer[] = [];
  const replies: Array<{ code: number; bytes: Buffer }> = [];
  const files = readdirSync(dir).filter((f) => /\.wkrec(\.gz)?$/.test(f));
  for (const file of files) {
    for (const r of readRecording(join(dir, file)).records) {
      if (r.kind === RecordKind.Request) requests.push(r.payload);
      else if (r.kind === RecordKind.Reply && r.code >= 0) replies.push({ code: r.code, bytes: r.payload });
    }
  }
  return { files, requests, replies };
}

function measureCorpus(requests: Buffer[], replies: Array<{ code: number; bytes: Buffer }>) {
  const decodeRequests = throughput(() => {
    for (const f of requests) protocol.decodeRequest(f);
  }, requests.length, 5, 300);
  const decoded = requests.map((f) => protocol.decodeRequest(f));
  const encodeRequests = throughput(() => {
    for (const d of decoded) protocol.encodeRequest(d);
  }, decoded.length, 5, 300);
  const decodeReplies = throughput(() => {
    for (const r of replies) protocol.decodeReply(r.code, r.bytes);
  }, replies.length, 5, 300);
  const traceRequests = throughput(() => {
    for (const d of decoded) protocol.formatRequest(0x20, d);
  }, decoded.length, 3, 300);
  return {
    decodeRequestsPerSec: Math.round(decodeRequests),
    encodeRequestsPerSec: Math.round(encodeRequests),
    decodeRepliesPerSec: Math.round(decodeReplies),
    traceRequestsPerSec: Math.round(traceRequests),
  };
}

export async function run() {
  const m = machine();
  const baseline = baselineCases.map((c) => {
    // Alternate the two so that both see the same machine conditions.
    const generated: number[] = [];
    const hand: number[] = [];
    for (let i = 0; i < 3; i++) {
      generated.push(throughput(() => protocol.decodeRequest(c.frame), 1, 3));
      hand.push(throughput(() => c.hand(c.frame), 1, 3));
    }
    const g = generated.sort((a, b) => a - b)[1];
    const h = hand.sort((a, b) => a - b)[1];
    return { request: c.name, generatedPerSec: Math.round(g), handWrittenPerSec: Math.round(h), ratio: +(h / g).toFixed(2) };
  });

  const real = recordedTraffic();
  const realFigures = measureCorpus(real.requests, real.replies);
  const { requests, replies } = sampleFrames(protocol, 1);
  const allTypes = measureCorpus(requests, replies);

  const result = {
    machine: m,
    recorded: { files: real.files, requests: real.requests.length, replies: real.replies.length, ...realFigures },
    allTypes: { requests: requests.length, replies: replies.length, note: 'every request type of Wine 8.0 with generated edge and random values (large variable parts included)', ...allTypes },
    baseline,
  };
  const md = [
    '# Protocol decode/encode benchmark',
    '',
    machineLine(m),
    '',
    `Corpus 1, real traffic: every request (${real.requests.length}) and reply (${real.replies.length}) of the committed recordings (${real.files.join(', ')}), recorded by the proxy from Wine 8.0 running the corpus. Corpus 2, every type: ${requests.length} request and ${replies.length} reply frames covering all ${protocol.requests.length} request types with generated edge values, including variable parts of tens of kilobytes. One core.`,
    '',
    '| operation | real traffic /s | every type /s |',
    '| --- | ---: | ---: |',
    `| decode request | ${realFigures.decodeRequestsPerSec.toLocaleString('en')} | ${allTypes.decodeRequestsPerSec.toLocaleString('en')} |`,
    `| encode request | ${realFigures.encodeRequestsPerSec.toLocaleString('en')} | ${allTypes.encodeRequestsPerSec.toLocaleString('en')} |`,
    `| decode reply | ${realFigures.decodeRepliesPerSec.toLocaleString('en')} | ${allTypes.decodeRepliesPerSec.toLocaleString('en')} |`,
    `| trace request | ${realFigures.traceRequestsPerSec.toLocaleString('en')} | ${allTypes.traceRequestsPerSec.toLocaleString('en')} |`,
    '',
    'Generated decoder beside a hand-written DataView decoder of the same request (median of alternating rounds):',
    '',
    '| request | generated /s | hand-written /s | hand/generated |',
    '| --- | ---: | ---: | ---: |',
    ...baseline.map((b) => `| ${b.request} | ${b.generatedPerSec.toLocaleString('en')} | ${b.handWrittenPerSec.toLocaleString('en')} | ${b.ratio} |`),
    '',
    'Regenerate with `npm run bench -- protocol`.',
    '',
  ].join('\n');
  const path = writeReport('protocol', md, result);
  return { path, result };
}
