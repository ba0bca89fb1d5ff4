// The recording format, shared by writer and reader. Documented in
// docs/fixture-format.md; bump RECORDING_VERSION on any incompatible change.
//
//   line 1: a JSON header terminated by '\n'
//   then:   records, each a 40-byte little-endian header and a payload
//
//   offset size field
//   0      4    total record length in bytes (header + payload)
//   4      1    kind (RecordKind)
//   5      1    direction (Direction)
//   6      2    aux: kind-specific small value (FdRole for fd records)
//   8      8    monotonic time in nanoseconds (CLOCK_MONOTONIC)
//   16     4    connection id (proxy-assigned, one per client process)
//   20     4    thread key (proxy-assigned, 0 = not about a thread)
//   24     4    wine thread id as known when recorded (0 = not yet known)
//   28     4    wine process id as known when recorded (0 = not yet known)
//   32     4    unix pid of the client (0 = not yet known)
//   36     4    request code (signed; -1 = none)

import { z } from 'zod';

export const RECORDING_FORMAT = 'winekernel-recording';
export const RECORDING_VERSION = 1;
export const RECORD_HEADER_SIZE = 40;
/** A record longer than this is corrupt (frames are bounded far below). */
export const MAX_RECORD_SIZE = 128 * 1024 * 1024;

export enum RecordKind {
  /** Payload: the whole request frame (64 bytes + variable data). */
  Request = 1,
  /** Payload: the whole reply frame; code = the request it answers (-1 unknown). */
  Reply = 2,
  /** Payload: one 16-byte wake_up_reply from the wait pipe. */
  Wakeup = 3,
  /** A descriptor message the proxy passed to wineserver. Payload: its data (struct send_fd). */
  FdToServer = 4,
  /** A descriptor message wineserver sent. Payload: its data (4 bytes). */
  FdToClient = 5,
  /** A descriptor the client sent that no request claimed; closed by the proxy. Payload: its data. */
  FdDropped = 6,
  /** A client process connected. Payload: JSON { origin, parent? }. */
  ConnectionOpen = 7,
  /** A client process connection ended. Payload: JSON { reason }. */
  ConnectionClose = 8,
  /** A thread's pipes were set up. Payload: empty. */
  ThreadOpen = 9,
  /** The wine thread id of a thread key became known (tid field). Payload: empty. */
  ThreadId = 10,
  /** A thread's pipes closed. Payload: JSON { reason }. */
  ThreadClose = 11,
  /** Bytes that broke the protocol, forwarded untouched. Payload: the bytes. aux: 1 = request pipe, 2 = reply pipe, 3 = wait pipe, 4 = socket. */
  ProtocolViolation = 12,
  /** A free-form event (server exit, proxy shutdown). Payload: JSON. */
  Note = 13,
}

/**
 * aux of Request and Reply records: the proxy answered the request itself
 * (`--translate`); the request never reached wineserver. Version 1 readers
 * that ignore aux see an ordinary request/reply pair.
 */
export const AUX_TRANSLATED = 1;
/**
 * aux of Request and Reply records: a request the proxy itself sent to
 * wineserver on the thread's pipes while the thread waited for the reply to
 * a translated request (a server call, docs/translation.md). The client
 * never saw it; wineserver did (it is in its +server trace).
 */
export const AUX_SERVER_CALL = 2;

export enum Direction {
  None = 0,
  ClientToServer = 1,
  ServerToClient = 2,
}

/** What the proxy did with a descriptor (aux field of fd records). */
export enum FdRoleCode {
  Plain = 0,
  RequestPipe = 1,
  ReplyPipe = 2,
  WaitPipe = 3,
  ProcessSocket = 4,
  /** The first thread's request pipe, sent by wineserver on connection. */
  FirstRequestPipe = 5,
  /** A descriptor wineserver sent for a server call's get_handle_fd: taken by the proxy, never sent on to the client. */
  ServerCall = 6,
}

export enum ViolationChannel {
  RequestPipe = 1,
  ReplyPipe = 2,
  WaitPipe = 3,
  Socket = 4,
}

export const recordingHeaderSchema = z.object({
  format: z.literal(RECORDING_FORMAT),
  version: z.literal(RECORDING_VERSION),
  /** SERVER_PROTOCOL_VERSION announced by the wineserver (0 if none connected yet when written). */
  protocolVersion: z.number().int().nonnegative(),
  createdAt: z.string(),
  /** Monotonic time (ns, decimal string) when the recording started. */
  monotonicStartNs: z.string().regex(/^\d+$/),
  wineVersion: z.string().optional(),
  prefix: z.string().optional(),
  command: z.array(z.string()).optional(),
  mode: z.enum(['run', 'serve', 'test']).optional(),
});

export type RecordingHeader = z.infer<typeof recordingHeaderSchema>;

export interface RecordEntry {
  kind: RecordKind;
  direction: Direction;
  aux: number;
  timeNs: bigint;
  connection: number;
  threadKey: number;
  /** Wine thread id; the reader fills in ids learnt later for the same thread key. */
  tid: number;
  pid: number;
  unixPid: number;
  code: number;
  payload: Buffer;
  /** Byte offset of the record in the file. */
  offset: number;
}
