// Lays out each request and reply exactly as wineserver's C structs are laid
// out: the request starts after its 12-byte header, the reply after its
// 8-byte header, each field at its natural alignment, the whole struct
// rounded up to 8 bytes and never over 64 (the fixed part that goes over the
// pipe is always 64 bytes; the struct is its first bytes, the rest is zero).

import type { MemberDecl, RequestDecl, VarargDecl } from './parse.ts';
import { WinekernelError } from '../../errors/winekernel-error.ts';

export const REQUEST_HEADER_SIZE = 12;
export const REPLY_HEADER_SIZE = 8;
export const MAX_FIXED_SIZE = 64;

/** How a scalar is read and how the +server trace prints it. */
export type ScalarRepr =
  | { read: 'i32' | 'u32' | 'i16' | 'u16' | 'u8' | 'i8'; print: 'dec' | 'udec' | 'char' | { hexWidth: number } }
  | { read: 'u64'; print: 'uint64' };

export interface TypeInfo {
  size: number;
  align: number;
  /** A scalar the generator handles itself, or a structured kind from requests/kinds. */
  repr: ScalarRepr | { kind: string };
}

// Sizes, alignments and trace formats of the field types protocol.def uses
// (these are interface facts of the protocol: the C types' sizes on the wire
// and the printf formats of wineserver's trace).
export const FIELD_TYPES: Readonly<Record<string, TypeInfo>> = {
  int: { size: 4, align: 4, repr: { read: 'i32', print: 'dec' } },
  'short int': { size: 2, align: 2, repr: { read: 'i16', print: 'dec' } },
  char: { size: 1, align: 1, repr: { read: 'i8', print: 'char' } },
  'unsigned char': { size: 1, align: 1, repr: { read: 'u8', print: { hexWidth: 2 } } },
  'unsigned short': { size: 2, align: 2, repr: { read: 'u16', print: { hexWidth: 4 } } },
  'unsigned int': { size: 4, align: 4, repr: { read: 'u32', print: { hexWidth: 8 } } },
  data_size_t: { size: 4, align: 4, repr: { read: 'u32', print: 'udec' } },
  obj_handle_t: { size: 4, align: 4, repr: { read: 'u32', print: { hexWidth: 4 } } },
  atom_t: { size: 4, align: 4, repr: { read: 'u32', print: { hexWidth: 4 } } },
  user_handle_t: { size: 4, align: 4, repr: { read: 'u32', print: { hexWidth: 8 } } },
  process_id_t: { size: 4, align: 4, repr: { read: 'u32', print: { hexWidth: 4 } } },
  thread_id_t: { size: 4, align: 4, repr: { read: 'u32', print: { hexWidth: 4 } } },
  client_ptr_t: { size: 8, align: 8, repr: { read: 'u64', print: 'uint64' } },
  mod_handle_t: { size: 8, align: 8, repr: { read: 'u64', print: 'uint64' } },
  lparam_t: { size: 8, align: 8, repr: { read: 'u64', print: 'uint64' } },
  apc_param_t: { size: 8, align: 8, repr: { read: 'u64', print: 'uint64' } },
  file_pos_t: { size: 8, align: 8, repr: { read: 'u64', print: 'uint64' } },
  mem_size_t: { size: 8, align: 8, repr: { read: 'u64', print: 'uint64' } },
  affinity_t: { size: 8, align: 8, repr: { read: 'u64', print: 'uint64' } },
  timeout_t: { size: 8, align: 8, repr: { kind: 'timeout_t' } },
  abstime_t: { size: 8, align: 8, repr: { kind: 'abstime_t' } },
  rectangle_t: { size: 16, align: 4, repr: { kind: 'rectangle_t' } },
  apc_call_t: { size: 48, align: 8, repr: { kind: 'apc_call_t' } },
  apc_result_t: { size: 40, align: 8, repr: { kind: 'apc_result_t' } },
  async_data_t: { size: 40, align: 8, repr: { kind: 'async_data_t' } },
  irp_params_t: { size: 32, align: 8, repr: { kind: 'irp_params_t' } },
  'struct luid': { size: 8, align: 4, repr: { kind: 'struct luid' } },
  generic_map_t: { size: 16, align: 4, repr: { kind: 'generic_map_t' } },
  ioctl_code_t: { size: 4, align: 4, repr: { kind: 'ioctl_code_t' } },
  hw_input_t: { size: 40, align: 8, repr: { kind: 'hw_input_t' } },
};

export interface FieldLayout {
  name: string;
  type: string;
  offset: number;
  size: number;
  info: TypeInfo;
}

export interface MessageLayout {
  fields: FieldLayout[];
  varargs: VarargDecl[];
  /** Size of the C struct including its header, padded to 8. */
  fixedSize: number;
  /** Member order as declared (fields and varargs interleaved), for the trace. */
  order: Array<{ field: FieldLayout } | { vararg: VarargDecl }>;
}

export interface RequestLayout {
  name: string;
  code: number;
  request: MessageLayout;
  reply: MessageLayout;
  /** Whether the reply has any member: wineserver prints `{ ... }` after the status only then. */
  replyHasMembers: boolean;
}

export class LayoutError extends WinekernelError<'WK_PROTOCOL_DEF_LAYOUT'> {
  constructor(message: string, readonly line: number) {
    super('WK_PROTOCOL_DEF_LAYOUT', `protocol.def:${line}: ${message}`);
  }
}

function alignUp(value: number, align: number): number {
  return (value + align - 1) & ~(align - 1);
}

function layoutMessage(members: MemberDecl[], headerSize: number, what: string, line: number): MessageLayout {
  const fields: FieldLayout[] = [];
  const varargs: VarargDecl[] = [];
  const order: MessageLayout['order'] = [];
  const seen = new Set<string>();
  let offset = headerSize;
  for (const member of members) {
    if (seen.has(member.name)) throw new LayoutError(`${what}: duplicate member ${member.name}`, member.line);
    seen.add(member.name);
    if (member.kind === 'vararg') {
      varargs.push(member);
      order.push({ vararg: member });
      continue;
    }
    const info = FIELD_TYPES[member.type];
    if (!info) throw new LayoutError(`${what}: unknown field type '${member.type}'`, member.line);
    offset = alignUp(offset, info.align);
    const field = { name: member.name, type: member.type, offset, size: info.size, info };
    fields.push(field);
    order.push({ field });
    offset += info.size;
  }
  for (const vararg of varargs) {
    if (vararg.size && 'field' in vararg.size && !fields.some((f) => f.name === (vararg.size as { field: string }).field)) {
      throw new LayoutError(`${what}: VARARG ${vararg.name} sized by unknown field ${vararg.size.field}`, vararg.line);
    }
  }
  const fixedSize = alignUp(offset, 8);
  if (fixedSize > MAX_FIXED_SIZE) throw new LayoutError(`${what} is ${fixedSize} bytes, over ${MAX_FIXED_SIZE}`, line);
  return { fields, varargs, fixedSize, order };
}

export function layoutRequests(requests: RequestDecl[]): RequestLayout[] {
  return requests.map((r) => ({
    name: r.name,
    code: r.code,
    request: layoutMessage(r.request, REQUEST_HEADER_SIZE, `${r.name} request`, r.line),
    reply: layoutMessage(r.reply ?? [], REPLY_HEADER_SIZE, `${r.name} reply`, r.line),
    replyHasMembers: (r.reply ?? []).length > 0,
  }));
}
