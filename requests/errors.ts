// Typed errors of the protocol layer. Each has a stable `code` that callers
// and logs can rely on; messages are for people.

import { WinekernelError } from '../errors/winekernel-error.ts';

export type ProtocolErrorCode =
  | 'WK_FRAME_TRUNCATED'
  | 'WK_REQUEST_TOO_LARGE'
  | 'WK_REPLY_TOO_LARGE'
  | 'WK_UNKNOWN_REQUEST'
  | 'WK_UNKNOWN_PROTOCOL_VERSION'
  | 'WK_BAD_FRAME';

export class ProtocolError extends WinekernelError<ProtocolErrorCode> {}
