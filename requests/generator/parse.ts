// Reads Wine's server/protocol.def into a plain description of every request.
//
// The file is C with a few markers: everything before @HEADER is ignored, the
// @HEADER part declares shared C types (read by the kinds, not here), and
// each request is
//
//   @REQ(name)
//       <type> <field>;            fixed part of the request
//       VARARG(name,kind[,size]);  variable part
//   @REPLY
//       ...                        fixed and variable part of the reply
//   @END
//
// A request's code is its position among the @REQ blocks, counted from 0.
// Comments are stripped line by line; a VARARG inside a comment is therefore
// not a field (protocol.def uses that to document layouts of vararg data).

import { WinekernelError } from '../../errors/winekernel-error.ts';

export interface FieldDecl {
  kind: 'field';
  /** C type as written, with single spaces: `unsigned int`, `struct luid`. */
  type: string;
  name: string;
  line: number;
}

export interface VarargDecl {
  kind: 'vararg';
  name: string;
  /** The vararg kind: unicode_str, object_attributes, ... */
  varargKind: string;
  /** How many bytes it may take at most: a field of the same message, a constant, or everything left. */
  size: { field: string } | { constant: number } | null;
  line: number;
}

export type MemberDecl = FieldDecl | VarargDecl;

export interface RequestDecl {
  name: string;
  code: number;
  request: MemberDecl[];
  /** null when the request has no @REPLY section at all. */
  reply: MemberDecl[] | null;
  line: number;
}

export class ProtocolDefError extends WinekernelError<'WK_PROTOCOL_DEF_SYNTAX'> {
  constructor(message: string, readonly line: number) {
    super('WK_PROTOCOL_DEF_SYNTAX', `protocol.def:${line}: ${message}`);
  }
}

const REQ_RE = /^@REQ\(\s*(\w+)\s*\)/;
const VARARG_RE = /^\s*VARARG\((\w+),(\w+)(?:,(\w+))?\)/;
const FIELD_RE = /^\s*(\w+\**(?:\s+\w+\**)*)\s+(\w+);/;

export function parseProtocolDef(text: string): RequestDecl[] {
  const requests: RequestDecl[] = [];
  // 0: before @HEADER, 1: declarations, 2: in a request, 3: in a reply
  let state = 0;
  let current: RequestDecl | null = null;
  const lines = text.split('\n');

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i].replace(/\/\*.*\*\//g, '').replace(/\s+$/, '');

    if (line.startsWith('@HEADER')) {
      if (state !== 0) throw new ProtocolDefError('misplaced @HEADER', lineNo);
      state = 1;
      continue;
    }
    if (state === 0) continue;

    const req = REQ_RE.exec(line);
    if (req) {
      if (state !== 1) throw new ProtocolDefError('misplaced @REQ', lineNo);
      current = { name: req[1], code: requests.length, request: [], reply: null, line: lineNo };
      state = 2;
      continue;
    }
    if (line.startsWith('@REPLY')) {
      if (state !== 2 || !current) throw new ProtocolDefError('misplaced @REPLY', lineNo);
      current.reply = [];
      state = 3;
      continue;
    }
    if (line.startsWith('@END')) {
      if ((state !== 2 && state !== 3) || !current) throw new ProtocolDefError('misplaced @END', lineNo);
      requests.push(current);
      current = null;
      state = 1;
      continue;
    }
    if (state === 1 || line === '') continue;

    const members = state === 2 ? current!.request : current!.reply!;
    const vararg = VARARG_RE.exec(line);
    if (vararg) {
      const sizeWord = vararg[3];
      members.push({
        kind: 'vararg',
        name: vararg[1],
        varargKind: vararg[2],
        size: sizeWord === undefined ? null : /^\d+$/.test(sizeWord) ? { constant: Number(sizeWord) } : { field: sizeWord },
        line: lineNo,
      });
      continue;
    }
    const field = FIELD_RE.exec(line);
    if (field) {
      members.push({ kind: 'field', type: field[1].replace(/\s+/g, ' '), name: field[2], line: lineNo });
      continue;
    }
    throw new ProtocolDefError(`unrecognized syntax: ${line.trim()}`, lineNo);
  }
  if (state >= 2) throw new ProtocolDefError('unterminated request at end of file', lines.length);
  return requests;
}
