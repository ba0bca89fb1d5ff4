// Shapes shared by the generator's output and the protocol runtime.

import type { TraceContext } from './kinds/kind.ts';

export interface VarargInfo {
  name: string;
  kind: string;
  /** The field of the same message that bounds its size, if any. */
  sizeField?: string;
  sizeConstant?: number;
}

export interface FieldInfo {
  name: string;
  type: string;
  /** Offset in the fixed part, counted from the start of the header. */
  offset: number;
  size: number;
}

export interface MessageInfo {
  /** Size of the C struct, header included, padded to 8; at most 64. */
  fixedSize: number;
  /** Field and vararg names in declaration order: the order the trace prints them in. */
  members: string[];
  fields: FieldInfo[];
  varargs: VarargInfo[];
}

export interface RequestInfo {
  code: number;
  name: string;
  request: MessageInfo;
  reply: MessageInfo;
  /** wineserver prints `{ ... }` after a reply's status only when its reply declares members. */
  replyHasMembers: boolean;
}

export interface DecodedBody<B> {
  body: B;
  /** Where the varargs the message declares ended; bytes after it belong to no vararg. */
  varOffset: number;
}

/** What `npm run gen` produces for one Wine version. */
export interface GeneratedProtocol {
  wineVersion: string;
  protocolVersion: number;
  sourceSha256: string;
  requests: readonly RequestInfo[];
  statusNames: ReadonlyArray<readonly [string, number]>;
  requestDecoders: ReadonlyArray<(frame: Buffer) => DecodedBody<unknown>>;
  replyDecoders: ReadonlyArray<(frame: Buffer) => DecodedBody<unknown>>;
  requestEncoders: ReadonlyArray<(body: any, headerWord: number, extra?: Buffer) => Buffer>;
  replyEncoders: ReadonlyArray<(body: any, headerWord: number, extra?: Buffer) => Buffer>;
  requestTracers: ReadonlyArray<(body: any, ctx: TraceContext) => string>;
  replyTracers: ReadonlyArray<(body: any, ctx: TraceContext) => string>;
}
