// The proxy's narrow view of the wineserver protocol: request names (for logs
// and records) and where the five requests that name client descriptors keep
// those descriptor numbers. Framing comes from requests/framing.ts; names and
// field offsets come from the generated protocol (requests/protocol.ts), the
// one definition of the protocol in this project.

import { loadProtocol, type Protocol } from '../requests/protocol.ts';

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
  terminateProcess: number;
  terminateThread: number;
}

export interface ProxyProtocol {
  protocolVersion: number;
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
    /** terminate_process: whether the caller's own process is ending. */
    terminateProcessSelf: number;
    terminateThreadSelf: number;
  };
  requestName(code: number): string;
}

function fromGenerated(protocol: Protocol): ProxyProtocol {
  const info = (name: string) => {
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
    terminateProcess: info('terminate_process').code,
    terminateThread: info('terminate_thread').code,
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
    codes,
    fdFields,
    requestOffsets: { initFirstThreadUnixPid: offsetOf('init_first_thread', 'unix_pid', 'request') },
    replyOffsets: {
      newProcessPid: offsetOf('new_process', 'pid', 'reply'),
      newThreadTid: offsetOf('new_thread', 'tid', 'reply'),
      initFirstThreadPid: offsetOf('init_first_thread', 'pid', 'reply'),
      initFirstThreadTid: offsetOf('init_first_thread', 'tid', 'reply'),
      terminateProcessSelf: offsetOf('terminate_process', 'self', 'reply'),
      terminateThreadSelf: offsetOf('terminate_thread', 'self', 'reply'),
    },
    requestName: (code) => protocol.requests[code]?.name ?? `request_${code}`,
  };
}

/** The protocol view for a wineserver announcing `protocolVersion` (Wine 8.0's by default). */
export function loadProxyProtocol(protocolVersion = WINE_8_0_PROTOCOL_VERSION): ProxyProtocol {
  return fromGenerated(loadProtocol(protocolVersion));
}
