// The protocol runtime: one object per Wine protocol version, chosen at run
// time, that decodes, encodes and traces requests and replies with the code
// generated from that version's protocol.def.

import { ProtocolError } from './errors.ts';
import { REPLY_FIXED_SIZE, REQUEST_FIXED_SIZE } from './framing.ts';
import type { TraceContext } from './kinds/kind.ts';
import type { GeneratedProtocol, RequestInfo } from './protocol-types.ts';
import { GENERATED_VERSIONS } from './generated/versions.ts';

export interface DecodedRequest<B = Record<string, unknown>> {
  code: number;
  name: string;
  /** The header's reply_size: how much reply data the client can take. */
  replySize: number;
  body: B;
  /** Variable data after the request's declared varargs (none in well-formed traffic). */
  extra?: Buffer;
}

export interface DecodedReply<B = Record<string, unknown>> {
  code: number;
  name: string;
  /** NTSTATUS (or 0xc0010000 | win32 error) the server answered. */
  error: number;
  body: B;
  extra?: Buffer;
}

function hex4(value: number): string {
  return (value >>> 0).toString(16).padStart(4, '0');
}

export class Protocol {
  readonly wineVersion: string;
  readonly protocolVersion: number;
  readonly requests: readonly RequestInfo[];
  readonly byName: ReadonlyMap<string, RequestInfo>;
  /** Status codes wineserver prints by name, sorted by name. */
  readonly statusNames: ReadonlyArray<readonly [string, number]>;
  private readonly statusByValue = new Map<number, string>();
  /** Binds statusName for trace contexts (kinds print statuses inside APC results). */
  private readonly nameStatus = (status: number) => this.statusName(status);

  constructor(private readonly generated: GeneratedProtocol) {
    this.wineVersion = generated.wineVersion;
    this.protocolVersion = generated.protocolVersion;
    this.requests = generated.requests;
    this.byName = new Map(generated.requests.map((r) => [r.name, r]));
    this.statusNames = generated.statusNames;
    // The first name in the (name-sorted) table wins, as in wineserver.
    for (const [name, value] of generated.statusNames) {
      if (!this.statusByValue.has(value)) this.statusByValue.set(value, name);
    }
  }

  info(code: number): RequestInfo {
    const info = this.requests[code];
    if (!info) throw new ProtocolError('WK_UNKNOWN_REQUEST', `unknown request code ${code} for Wine ${this.wineVersion}`);
    return info;
  }

  codeOf(name: string): number {
    const info = this.byName.get(name);
    if (!info) throw new ProtocolError('WK_UNKNOWN_REQUEST', `unknown request '${name}' for Wine ${this.wineVersion}`);
    return info.code;
  }

  /** Decodes a whole request frame (64 bytes + request data), as given by RequestFramer. */
  decodeRequest(frame: Buffer): DecodedRequest {
    if (frame.length < REQUEST_FIXED_SIZE || frame.length !== REQUEST_FIXED_SIZE + frame.readUInt32LE(4)) {
      throw new ProtocolError('WK_FRAME_TRUNCATED', `request frame of ${frame.length} bytes does not match its header`);
    }
    const code = frame.readInt32LE(0);
    const decode = this.generated.requestDecoders[code];
    if (!decode) throw new ProtocolError('WK_UNKNOWN_REQUEST', `unknown request code ${code}`);
    const { body, varOffset } = decode(frame);
    const result: DecodedRequest = { code, name: this.requests[code].name, replySize: frame.readUInt32LE(8), body: body as Record<string, unknown> };
    if (varOffset < frame.length) result.extra = frame.subarray(varOffset);
    return result;
  }

  /** Decodes a whole reply frame (64 bytes + reply data) answering a request of `code`. */
  decodeReply(code: number, frame: Buffer): DecodedReply {
    if (frame.length < REPLY_FIXED_SIZE || frame.length !== REPLY_FIXED_SIZE + frame.readUInt32LE(4)) {
      throw new ProtocolError('WK_FRAME_TRUNCATED', `reply frame of ${frame.length} bytes does not match its header`);
    }
    const decode = this.generated.replyDecoders[code];
    if (!decode) throw new ProtocolError('WK_UNKNOWN_REQUEST', `reply to unknown request code ${code}`);
    const { body, varOffset } = decode(frame);
    const result: DecodedReply = { code, name: this.requests[code].name, error: frame.readUInt32LE(0), body: body as Record<string, unknown> };
    if (varOffset < frame.length) result.extra = frame.subarray(varOffset);
    return result;
  }

  encodeRequest(request: Pick<DecodedRequest<any>, 'code' | 'replySize' | 'body' | 'extra'>): Buffer {
    const encode = this.generated.requestEncoders[request.code];
    if (!encode) throw new ProtocolError('WK_UNKNOWN_REQUEST', `unknown request code ${request.code}`);
    return encode(request.body, request.replySize, request.extra);
  }

  encodeReply(reply: Pick<DecodedReply<any>, 'code' | 'error' | 'body' | 'extra'>): Buffer {
    const encode = this.generated.replyEncoders[reply.code];
    if (!encode) throw new ProtocolError('WK_UNKNOWN_REQUEST', `unknown request code ${reply.code}`);
    return encode(reply.body, reply.error, reply.extra);
  }

  /** The name wineserver prints for a status: a known name, else lowercase hex ("0" for success). */
  statusName(status: number): string {
    const s = status >>> 0;
    return (s !== 0 && this.statusByValue.get(s)) || s.toString(16);
  }

  /** `0024: add_atom( name=L"foo" )`, as wineserver's +server trace prints a request. */
  formatRequest(tid: number, request: DecodedRequest<any>, ctx: TraceContext = {}): string {
    const trace = this.generated.requestTracers[request.code];
    if (!trace) return `${hex4(tid)}: ${request.code}(?)`;
    return `${hex4(tid)}: ${request.name}(${trace(request.body, this.traceContext(ctx))} )`;
  }

  /** `0024: add_atom() = 0 { atom=c001 }`, as wineserver's +server trace prints a reply. */
  formatReply(tid: number, reply: DecodedReply<any>, ctx: TraceContext = {}): string {
    const info = this.requests[reply.code];
    if (!info) return `${hex4(tid)}: ${reply.code}() = ${this.statusName(reply.error)}`;
    const head = `${hex4(tid)}: ${info.name}() = ${this.statusName(reply.error)}`;
    if (!info.replyHasMembers) return head;
    return `${head} {${this.generated.replyTracers[reply.code](reply.body, this.traceContext(ctx))} }`;
  }

  private traceContext(ctx: TraceContext): TraceContext {
    return ctx.statusName ? ctx : { ...ctx, statusName: this.nameStatus };
  }
}

const loaded = new Map<string, Protocol>();

/** The versions this build knows, newest last: `wine-8.0`, ... */
export function availableVersions(): string[] {
  return Object.keys(GENERATED_VERSIONS);
}

/**
 * The protocol of a Wine version, by name (`wine-8.0` or `8.0`) or by the
 * protocol version number a wineserver announces (758). Defaults to the newest.
 */
export function loadProtocol(version?: string | number): Protocol {
  const names = availableVersions();
  let key: string | undefined;
  if (version === undefined) key = names[names.length - 1];
  else if (typeof version === 'number') key = names.find((n) => GENERATED_VERSIONS[n].protocolVersion === version);
  else key = names.find((n) => n === version || n === `wine-${version}`);
  if (!key) {
    throw new ProtocolError('WK_UNKNOWN_PROTOCOL_VERSION', `no generated protocol for ${String(version)} (known: ${names.join(', ')})`);
  }
  let protocol = loaded.get(key);
  if (!protocol) {
    protocol = new Protocol(GENERATED_VERSIONS[key]);
    loaded.set(key, protocol);
  }
  return protocol;
}
