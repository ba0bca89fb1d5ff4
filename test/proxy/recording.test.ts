// The recording format on its own: round trip, crash-truncated tails,
// rejected garbage, gzip fixtures.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Direction, RecordKind } from '../../proxy/recording/format.ts';
import { parseRecording, readRecording, RecordingFormatError } from '../../proxy/recording/reader.ts';
import { RecordingWriter } from '../../proxy/recording/writer.ts';

function tempFile(name: string): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wk-recfmt-')), name);
}

function writeSample(file: string): void {
  const writer = new RecordingWriter(file, { protocolVersion: 758, mode: 'test' });
  const thread = { connection: 1, threadKey: 7, tid: 0, pid: 0, unixPid: 4242 };
  const request = Buffer.alloc(64 + 6);
  request.writeInt32LE(5, 0);
  request.writeUInt32LE(6, 4);
  writer.record(RecordKind.Request, Direction.ClientToServer, thread, 5, 0, request);
  writer.record(RecordKind.Reply, Direction.ServerToClient, { ...thread, tid: 0x24, pid: 0x20 }, 5, 0, Buffer.alloc(64));
  writer.note(thread, RecordKind.ConnectionClose, { reason: 'test' });
  writer.close();
}

describe('recording format', () => {
  it('round-trips records and fills in ids learnt later', () => {
    const file = tempFile('sample.wkrec');
    writeSample(file);
    const recording = readRecording(file);
    expect(recording.header).toMatchObject({ format: 'winekernel-recording', version: 1, protocolVersion: 758, mode: 'test' });
    expect(recording.truncatedTail).toBe(false);
    expect(recording.records.map((r) => RecordKind[r.kind])).toEqual(['Request', 'Reply', 'ConnectionClose']);
    const [request, reply] = recording.records;
    expect(request.payload.length).toBe(70);
    expect(request.code).toBe(5);
    expect(request.unixPid).toBe(4242);
    // The request was written before the tid was known; the reader fills it in.
    expect(request.tid).toBe(0x24);
    expect(request.pid).toBe(0x20);
    expect(reply.timeNs >= request.timeNs).toBe(true);
  });

  it('a file cut in the middle of a record keeps every whole record', () => {
    const file = tempFile('cut.wkrec');
    writeSample(file);
    const whole = fs.readFileSync(file);
    for (const cut of [whole.length - 1, whole.length - 30, whole.length - 60]) {
      const recording = parseRecording(whole.subarray(0, cut));
      expect(recording.truncatedTail).toBe(true);
      expect(recording.records.length).toBeGreaterThanOrEqual(1);
    }
  });

  it('rejects files that are not recordings, with a typed error', () => {
    const bad = [
      Buffer.from('not json\n'),
      Buffer.from('{"format":"something-else","version":1}\n'),
      Buffer.from(JSON.stringify({ format: 'winekernel-recording', version: 2, protocolVersion: 758, createdAt: 'x', monotonicStartNs: '1' }) + '\n'),
      Buffer.concat([Buffer.from(JSON.stringify({ format: 'winekernel-recording', version: 1, protocolVersion: 758, createdAt: 'x', monotonicStartNs: '1' }) + '\n'), Buffer.alloc(40, 0xff)]),
      Buffer.alloc(10),
    ];
    for (const bytes of bad) {
      let caught: unknown;
      try {
        parseRecording(bytes);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(RecordingFormatError);
      expect((caught as RecordingFormatError).code).toBe('RECORDING_INVALID');
    }
  });

  it('reads gzip-compressed fixtures', () => {
    const file = tempFile('sample.wkrec');
    writeSample(file);
    fs.writeFileSync(file + '.gz', zlib.gzipSync(fs.readFileSync(file)));
    expect(readRecording(file + '.gz').records.length).toBe(3);
  });
});

describe('committed fixtures (fixtures/recordings, scripts/record-fixtures.sh)', async () => {
  const { loadProtocol } = await import('../../requests/protocol.ts');
  const { compareTraces, serverTraceLinesByThread, traceLinesByThread } = await import('../../proxy/recording/trace-compare.ts');
  const dir = path.join(import.meta.dirname, '..', '..', 'fixtures', 'recordings');
  const names = fs.readdirSync(dir).filter((f) => f.endsWith('.wkrec.gz')).map((f) => f.slice(0, -'.wkrec.gz'.length));

  it('there are fixtures', () => {
    expect(names).toEqual(expect.arrayContaining(['atoms', 'cmd-echo', 'reg-add']));
  });

  for (const name of names) {
    it(`${name}: reads back whole and matches its wineserver trace`, () => {
      const recording = readRecording(path.join(dir, `${name}.wkrec.gz`));
      expect(recording.truncatedTail).toBe(false);
      expect(recording.header.protocolVersion).toBe(758);
      const trace = zlib.gunzipSync(fs.readFileSync(path.join(dir, `${name}.server-trace.gz`))).toString('utf8');
      const comparison = compareTraces(serverTraceLinesByThread(trace), traceLinesByThread(loadProtocol(758), recording));
      expect(comparison.lines).toBeGreaterThan(1000);
      expect(comparison.mismatches.slice(0, 3)).toEqual([]);
    });
  }
});
