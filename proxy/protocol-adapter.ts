// The proxy's narrow view of the wineserver protocol: request names (for logs
// and records) and where the five requests that name client descriptors keep
// those descriptor numbers. Framing comes from requests/framing.ts; names
// and field offsets come from the generated protocol (requests/protocol.ts)
// when it loads, else from a built-in table for Wine 8.0 (protocol 758) so
// that the relay does not depend on the decoder being complete.

import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const WINE_8_0_PROTOCOL_VERSION = 758;

/** What the proxy must do with the descriptors a request names. */
export type FdRole =
  | 'reply_pipe' // write end of the thread's reply pipe: substitute ours
  | 'wait_pipe' // write end of the thread's wait pipe: substitute ours
  | 'request_pipe' // read end of a new thread's request pipe: substitute ours
  | 'process_socket' // a child process's socket: substitute a socket pair
  | 'plain'; // an ordinary file for alloc_file_handle: relay as is

export interface FdField {
  /** Field name in protocol.def. */
  name: string;
  /** Byte offset of the int in the request's fixed part. */
  offset: number;
  role: FdRole;
}

/** The requests whose handling the relay must follow closely. */
export interface RelayRequestCodes {
  newProcess: number;
  newThread: number;
  initFirstThread: number;
  initThread: number;
  allocFileHandle: number;
}

export interface ProxyProtocol {
  protocolVersion: number;
  /** Where the numbers come from: 'generated' or 'builtin'. */
  source: 'generated' | 'builtin';
  codes: RelayRequestCodes;
  /** Descriptor fields by request code; absent for the other requests. */
  fdFields: ReadonlyMap<number, readonly FdField[]>;
  /** Request field offsets the relay reads. */
  requestOffsets: { initFirstThreadUnixPid: number };
  /** Reply field offsets the relay reads. */
  replyOffsets: {
    newProcessPid: number;
    newThreadTid: number;
    initFirstThreadPid: number;
    initFirstThreadTid: number;
  };
  requestName(code: number): string;
}

const BUILTIN_CODES: RelayRequestCodes = {
  newProcess: 0,
  newThread: 2,
  initFirstThread: 5,
  initThread: 6,
  allocFileHandle: 45,
};

// Offsets in the fixed part: 12 bytes of request header (8 of reply header),
// then the fields in protocol.def order with natural alignment.
const BUILTIN_FD_FIELDS: Array<[number, FdField[]]> = [
  [BUILTIN_CODES.newProcess, [{ name: 'socket_fd', offset: 28, role: 'process_socket' }]],
  [BUILTIN_CODES.newThread, [{ name: 'request_fd', offset: 24, role: 'request_pipe' }]],
  [
    BUILTIN_CODES.initFirstThread,
    [
      { name: 'reply_fd', offset: 24, role: 'reply_pipe' },
      { name: 'wait_fd', offset: 28, role: 'wait_pipe' },
    ],
  ],
  [
    BUILTIN_CODES.initThread,
    [
      { name: 'reply_fd', offset: 16, role: 'reply_pipe' },
      { name: 'wait_fd', offset: 20, role: 'wait_pipe' },
    ],
  ],
  [BUILTIN_CODES.allocFileHandle, [{ name: 'fd', offset: 20, role: 'plain' }]],
];

const BUILTIN_REPLY_OFFSETS = { newProcessPid: 12, newThreadTid: 8, initFirstThreadPid: 8, initFirstThreadTid: 12 };

const BUILTIN_NAMES: Record<number, string> = {
  0: 'new_process',
  2: 'new_thread',
  5: 'init_first_thread',
  6: 'init_thread',
  45: 'alloc_file_handle',
};

function builtin(): ProxyProtocol {
  return {
    protocolVersion: WINE_8_0_PROTOCOL_VERSION,
    source: 'builtin',
    codes: BUILTIN_CODES,
    fdFields: new Map(BUILTIN_FD_FIELDS),
    requestOffsets: { initFirstThreadUnixPid: 12 },
    replyOffsets: BUILTIN_REPLY_OFFSETS,
    requestName: (code) => BUILTIN_NAMES[code] ?? `request_${code}`,
  };
}

interface GeneratedField {
  name: string;
  offset: number;
}
interface GeneratedInfo {
  code: number;
  name: string;
  request: { fields: GeneratedField[] };
  reply: { fields: GeneratedField[] };
}
interface GeneratedProtocolLike {
  protocolVersion: number;
  requests: readonly GeneratedInfo[];
  byName: ReadonlyMap<string, GeneratedInfo>;
}

function fromGenerated(protocol: GeneratedProtocolLike): ProxyProtocol {
  const info = (name: string): GeneratedInfo => {
    const found = protocol.byName.get(name);
    if (!found) throw new Error(`generated protocol lacks ${name}`);
    return found;
  };
  const offsetOf = (name: string, field: string, side: 'request' | 'reply'): number => {
    const found = info(name)[side].fields.find((f) => f.name === field);
    if (!found) throw new Error(`generated protocol lacks ${name}.${field}`);
    return found.offset;
  };
  const codes: RelayRequestCodes = {
    newProcess: info('new_process').code,
    newThread: info('new_thread').code,
    initFirstThread: info('init_first_thread').code,
    initThread: info('init_thread').code,
    allocFileHandle: info('alloc_file_handle').code,
  };
  const fdFields = new Map<number, FdField[]>([
    [codes.newProcess, [{ name: 'socket_fd', offset: offsetOf('new_process', 'socket_fd', 'request'), role: 'process_socket' }]],
    [codes.newThread, [{ name: 'request_fd', offset: offsetOf('new_thread', 'request_fd', 'request'), role: 'request_pipe' }]],
    [
      codes.initFirstThread,
      [
        { name: 'reply_fd', offset: offsetOf('init_first_thread', 'reply_fd', 'request'), role: 'reply_pipe' },
        { name: 'wait_fd', offset: offsetOf('init_first_thread', 'wait_fd', 'request'), role: 'wait_pipe' },
      ],
    ],
    [
      codes.initThread,
      [
        { name: 'reply_fd', offset: offsetOf('init_thread', 'reply_fd', 'request'), role: 'reply_pipe' },
        { name: 'wait_fd', offset: offsetOf('init_thread', 'wait_fd', 'request'), role: 'wait_pipe' },
      ],
    ],
    [codes.allocFileHandle, [{ name: 'fd', offset: offsetOf('alloc_file_handle', 'fd', 'request'), role: 'plain' }]],
  ]);
  return {
    protocolVersion: protocol.protocolVersion,
    source: 'generated',
    codes,
    fdFields,
    requestOffsets: { initFirstThreadUnixPid: offsetOf('init_first_thread', 'unix_pid', 'request') },
    replyOffsets: {
      newProcessPid: offsetOf('new_process', 'pid', 'reply'),
      newThreadTid: offsetOf('new_thread', 'tid', 'reply'),
      initFirstThreadPid: offsetOf('init_first_thread', 'pid', 'reply'),
      initFirstThreadTid: offsetOf('init_first_thread', 'tid', 'reply'),
    },
    requestName: (code) => protocol.requests[code]?.name ?? `request_${code}`,
  };
}

/**
 * The protocol view for a wineserver announcing `protocolVersion`. Prefers
 * the generated tables; falls back to the built-in Wine 8.0 table when they
 * cannot be loaded (and only for protocol 758).
 */
export async function loadProxyProtocol(
  protocolVersion = WINE_8_0_PROTOCOL_VERSION,
): Promise<{ protocol: ProxyProtocol; fallbackReason?: string }> {
  try {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const url = pathToFileURL(path.join(here, '..', 'requests', 'protocol.ts')).href;
    const module = (await import(url)) as { loadProtocol(v: number): GeneratedProtocolLike };
    return { protocol: fromGenerated(module.loadProtocol(protocolVersion)) };
  } catch (error) {
    if (protocolVersion !== WINE_8_0_PROTOCOL_VERSION) throw error;
    return { protocol: builtin(), fallbackReason: error instanceof Error ? error.message : String(error) };
  }
}
