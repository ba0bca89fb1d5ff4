// `winekernel trace FILE [--all] [--wine VERSION]`: a recording, printed as
// wineserver's own WINEDEBUG=+server trace prints the same traffic.
//
// Requests, replies and descriptors received by the server print exactly as
// wineserver prints them, with one exception: wineserver names the fd number
// it received (`*fd* 5 <- 17`), which only it knows; the recording has the
// client's number, and `?` stands for the server's. With --all, the other
// records (wake-ups, connections, threads, notes, protocol violations) are
// printed too, as `#` lines, which Wine's trace does not have.

import { parseArgs } from 'node:util';
import type { Command } from '../main.ts';
import { ProtocolError } from '../../requests/errors.ts';
import { loadProtocol, type Protocol } from '../../requests/protocol.ts';
import type { TraceContext } from '../../requests/kinds/kind.ts';
import { Direction, RecordKind, type RecordEntry, type RecordingHeader } from '../../proxy/recording/format.ts';
import { readRecording, recordJson, RecordingFormatError } from '../../proxy/recording/reader.ts';

/** 100 ns intervals between 1601-01-01 and 1970-01-01: how NT time relates to Unix time. */
const NT_EPOCH_OFFSET = 116_444_736_000_000_000n;

function hex4(value: number): string {
  return (value >>> 0).toString(16).padStart(4, '0');
}

/** The server clocks at the time of a record, as wineserver would have read them then. */
function clockAt(header: RecordingHeader, record: RecordEntry): TraceContext {
  const startNt = BigInt(Date.parse(header.createdAt)) * 10_000n + NT_EPOCH_OFFSET;
  const sinceStart = (record.timeNs - BigInt(header.monotonicStartNs)) / 100n;
  return { now: startNt + sinceStart, monotonicNow: record.timeNs / 100n };
}

export function traceLines(protocol: Protocol, header: RecordingHeader, records: RecordEntry[], all: boolean): string[] {
  const lines: string[] = [];
  for (const record of records) {
    switch (record.kind) {
      case RecordKind.Request:
        try {
          lines.push(protocol.formatRequest(record.tid, protocol.decodeRequest(record.payload), clockAt(header, record)));
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          lines.push(`${hex4(record.tid)}: ${record.payload.length >= 4 ? record.payload.readInt32LE(0) : '?'}(?)`);
        }
        break;
      case RecordKind.Reply:
        try {
          lines.push(protocol.formatReply(record.tid, protocol.decodeReply(record.code, record.payload), clockAt(header, record)));
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          lines.push(`${hex4(record.tid)}: ${record.code}() = ${protocol.statusName(record.payload.length >= 4 ? record.payload.readUInt32LE(0) : 0)}`);
        }
        break;
      case RecordKind.FdToServer:
        // struct send_fd { thread_id_t tid; int fd; }: the client's fd number.
        if (record.payload.length >= 8) {
          const tid = record.payload.readUInt32LE(0) || record.tid;
          lines.push(`${hex4(tid)}: *fd* ${record.payload.readInt32LE(4)} <- ?`);
        }
        break;
      default:
        if (all) {
          const json = recordJson(record);
          const dir = record.direction === Direction.ClientToServer ? '->' : record.direction === Direction.ServerToClient ? '<-' : '--';
          lines.push(`# ${hex4(record.tid)} ${RecordKind[record.kind]} ${dir}${json ? ' ' + JSON.stringify(json) : record.payload.length ? ' ' + record.payload.toString('hex') : ''}`);
        }
    }
  }
  return lines;
}

export const command: Command = {
  summary: 'print a recorded fixture as wineserver\'s +server trace',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { all: { type: 'boolean', default: false }, wine: { type: 'string' }, help: { type: 'boolean', default: false } },
    });
    if (values.help || positionals.length !== 1) {
      process.stdout.write('usage: winekernel trace FILE [--all] [--wine VERSION]\n');
      return values.help ? 0 : 2;
    }
    try {
      const recording = readRecording(positionals[0]);
      const protocol = values.wine
        ? loadProtocol(values.wine)
        : loadProtocol(recording.header.protocolVersion || undefined);
      for (const line of traceLines(protocol, recording.header, recording.records, values.all)) process.stdout.write(line + '\n');
      if (recording.truncatedTail) process.stderr.write(`winekernel trace: ${positionals[0]} ends inside a record (the recorder was stopped mid-write)\n`);
      return 0;
    } catch (err) {
      if (err instanceof RecordingFormatError || err instanceof ProtocolError) {
        process.stderr.write(`winekernel trace: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  },
};
