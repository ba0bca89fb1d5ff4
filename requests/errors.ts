// Typed errors of the protocol layer. Each has a stable `code` that callers
// and logs can rely on; messages are for people.

export type ProtocolErrorCode =
  | 'WK_FRAME_TRUNCATED'
  | 'WK_REQUEST_TOO_LARGE'
  | 'WK_REPLY_TOO_LARGE'
  | 'WK_UNKNOWN_REQUEST'
  | 'WK_UNKNOWN_PROTOCOL_VERSION'
  | 'WK_BAD_FRAME';

export class ProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}
