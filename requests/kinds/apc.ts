// APC calls and results (apc_call_t, apc_result_t, the apc_result vararg)
// and async_data_t.

import type { FixedKind, VarargKind } from './kind.ts';
import { formatUint64, hex, hexPad, udec32 } from './format.ts';
import { u16, u32, u64 } from './bytes.ts';
import { statusName } from './format.ts';
import type { TraceContext } from './kind.ts';
import { parseStruct, structParser, unionKind, writeFields, type Layout, type UnionValue } from './struct.ts';
import { isMalformed, malformed, OMITTED, type Malformed } from './malformed.ts';

export const APC_TYPES = [
  'APC_NONE',
  'APC_USER',
  'APC_ASYNC_IO',
  'APC_VIRTUAL_ALLOC',
  'APC_VIRTUAL_ALLOC_EX',
  'APC_VIRTUAL_FREE',
  'APC_VIRTUAL_QUERY',
  'APC_VIRTUAL_PROTECT',
  'APC_VIRTUAL_FLUSH',
  'APC_VIRTUAL_LOCK',
  'APC_VIRTUAL_UNLOCK',
  'APC_MAP_VIEW',
  'APC_UNMAP_VIEW',
  'APC_CREATE_THREAD',
  'APC_DUP_HANDLE',
] as const;
export const APC = Object.fromEntries(APC_TYPES.map((name, i) => [name, i])) as Record<(typeof APC_TYPES)[number], number>;

const addrSize: Layout = [
  ['addr', 8, 'u64'],
  ['size', 16, 'u64'],
];

/** Field layouts of apc_call_t, by type. */
export const APC_CALL_LAYOUTS: Record<number, Layout> = {
  [APC.APC_NONE]: [],
  [APC.APC_USER]: [
    ['func', 8, 'u64'],
    ['args0', 16, 'u64'],
    ['args1', 24, 'u64'],
    ['args2', 32, 'u64'],
  ],
  [APC.APC_ASYNC_IO]: [
    ['status', 4, 'u32'],
    ['user', 8, 'u64'],
    ['sb', 16, 'u64'],
    ['result', 24, 'u32'],
  ],
  [APC.APC_VIRTUAL_ALLOC]: [['op_type', 4, 'u32'], ...addrSize, ['zero_bits', 24, 'u64'], ['prot', 32, 'u32']],
  [APC.APC_VIRTUAL_ALLOC_EX]: [['op_type', 4, 'u32'], ...addrSize, ['limit', 24, 'u64'], ['align', 32, 'u64'], ['prot', 40, 'u32']],
  [APC.APC_VIRTUAL_FREE]: [['op_type', 4, 'u32'], ...addrSize],
  [APC.APC_VIRTUAL_QUERY]: [['addr', 8, 'u64']],
  [APC.APC_VIRTUAL_PROTECT]: [['prot', 4, 'u32'], ...addrSize],
  [APC.APC_VIRTUAL_FLUSH]: addrSize,
  [APC.APC_VIRTUAL_LOCK]: addrSize,
  [APC.APC_VIRTUAL_UNLOCK]: addrSize,
  [APC.APC_MAP_VIEW]: [
    ['handle', 4, 'u32'],
    ...addrSize,
    ['offset', 24, 'u64'],
    ['zero_bits', 32, 'u64'],
    ['alloc_type', 40, 'u32'],
    ['prot', 44, 'u32'],
  ],
  [APC.APC_UNMAP_VIEW]: [['addr', 8, 'u64']],
  [APC.APC_CREATE_THREAD]: [
    ['flags', 4, 'u32'],
    ['func', 8, 'u64'],
    ['arg', 16, 'u64'],
    ['zero_bits', 24, 'u64'],
    ['reserve', 32, 'u64'],
    ['commit', 40, 'u64'],
  ],
  [APC.APC_DUP_HANDLE]: [
    ['src_handle', 4, 'u32'],
    ['dst_process', 8, 'u32'],
    ['access', 12, 'u32'],
    ['attributes', 16, 'u32'],
    ['options', 20, 'u32'],
  ],
};

const q = (b: Buffer, o: number) => formatUint64(u64(b, o));

function traceApcCall(b: Buffer, ctx: TraceContext): string {
  const type = u32(b, 0);
  let body: string;
  switch (type) {
    case APC.APC_NONE:
      body = 'APC_NONE';
      break;
    case APC.APC_USER:
      body = `APC_USER,func=${q(b, 8)},args={${q(b, 16)},${q(b, 24)},${q(b, 32)}}`;
      break;
    case APC.APC_ASYNC_IO:
      body = `APC_ASYNC_IO,user=${q(b, 8)},sb=${q(b, 16)},status=${statusName(u32(b, 4), ctx)},result=${udec32(u32(b, 24))}`;
      break;
    case APC.APC_VIRTUAL_ALLOC:
      // "addr==" is what wineserver prints.
      body = `APC_VIRTUAL_ALLOC,addr==${q(b, 8)},size=${q(b, 16)},zero_bits=${q(b, 24)},op_type=${hex(u32(b, 4))},prot=${hex(u32(b, 32))}`;
      break;
    case APC.APC_VIRTUAL_ALLOC_EX:
      // wineserver labels the _EX variant APC_VIRTUAL_ALLOC too.
      body = `APC_VIRTUAL_ALLOC,addr==${q(b, 8)},size=${q(b, 16)},limit=${q(b, 24)},align=${q(b, 32)},op_type=${hex(u32(b, 4))},prot=${hex(u32(b, 40))}`;
      break;
    case APC.APC_VIRTUAL_FREE:
      body = `APC_VIRTUAL_FREE,addr=${q(b, 8)},size=${q(b, 16)},op_type=${hex(u32(b, 4))}`;
      break;
    case APC.APC_VIRTUAL_QUERY:
      body = `APC_VIRTUAL_QUERY,addr=${q(b, 8)}`;
      break;
    case APC.APC_VIRTUAL_PROTECT:
      body = `APC_VIRTUAL_PROTECT,addr=${q(b, 8)},size=${q(b, 16)},prot=${hex(u32(b, 4))}`;
      break;
    case APC.APC_VIRTUAL_FLUSH:
    case APC.APC_VIRTUAL_LOCK:
    case APC.APC_VIRTUAL_UNLOCK:
      body = `${APC_TYPES[type]},addr=${q(b, 8)},size=${q(b, 16)}`;
      break;
    case APC.APC_MAP_VIEW:
      body =
        `APC_MAP_VIEW,handle=${hexPad(u32(b, 4), 4)},addr=${q(b, 8)},size=${q(b, 16)},offset=${q(b, 24)}` +
        `,zero_bits=${q(b, 32)},alloc_type=${hex(u32(b, 40))},prot=${hex(u32(b, 44))}`;
      break;
    case APC.APC_UNMAP_VIEW:
      body = `APC_UNMAP_VIEW,addr=${q(b, 8)}`;
      break;
    case APC.APC_CREATE_THREAD:
      body = `APC_CREATE_THREAD,func=${q(b, 8)},arg=${q(b, 16)},zero_bits=${q(b, 24)},reserve=${q(b, 32)},commit=${q(b, 40)},flags=${hex(u32(b, 4))}`;
      break;
    case APC.APC_DUP_HANDLE:
      body =
        `APC_DUP_HANDLE,src_handle=${hexPad(u32(b, 4), 4)},dst_process=${hexPad(u32(b, 8), 4)},access=${hex(u32(b, 12))}` +
        `,attributes=${hex(u32(b, 16))},options=${hex(u32(b, 20))}`;
      break;
    default:
      body = `type=${udec32(type)}`;
  }
  return `{${body}}`;
}

export type ApcCall = UnionValue;
export const apcCallKind = unionKind({ type: 'apc_call_t', size: 48, align: 8, variants: APC_CALL_LAYOUTS, trace: traceApcCall });

const statusAddrSize: Layout = [['status', 4, 'u32'], ...addrSize];

/** Field layouts of apc_result_t, by type. */
export const APC_RESULT_LAYOUTS: Record<number, Layout> = {
  [APC.APC_NONE]: [],
  [APC.APC_ASYNC_IO]: [
    ['status', 4, 'u32'],
    ['total', 8, 'u32'],
  ],
  [APC.APC_VIRTUAL_ALLOC]: statusAddrSize,
  [APC.APC_VIRTUAL_ALLOC_EX]: statusAddrSize,
  [APC.APC_VIRTUAL_FREE]: statusAddrSize,
  [APC.APC_VIRTUAL_QUERY]: [
    ['status', 4, 'u32'],
    ['base', 8, 'u64'],
    ['alloc_base', 16, 'u64'],
    ['size', 24, 'u64'],
    ['state', 32, 'u16'],
    ['prot', 34, 'u16'],
    ['alloc_prot', 36, 'u16'],
    ['alloc_type', 38, 'u16'],
  ],
  [APC.APC_VIRTUAL_PROTECT]: [...statusAddrSize, ['prot', 24, 'u32']],
  [APC.APC_VIRTUAL_FLUSH]: statusAddrSize,
  [APC.APC_VIRTUAL_LOCK]: statusAddrSize,
  [APC.APC_VIRTUAL_UNLOCK]: statusAddrSize,
  [APC.APC_MAP_VIEW]: statusAddrSize,
  [APC.APC_UNMAP_VIEW]: [['status', 4, 'u32']],
  [APC.APC_CREATE_THREAD]: [
    ['status', 4, 'u32'],
    ['pid', 8, 'u32'],
    ['tid', 12, 'u32'],
    ['teb', 16, 'u64'],
    ['handle', 24, 'u32'],
  ],
  [APC.APC_DUP_HANDLE]: [
    ['status', 4, 'u32'],
    ['handle', 8, 'u32'],
  ],
};

function traceApcResult(b: Buffer, ctx: TraceContext): string {
  const type = u32(b, 0);
  const status = statusName(u32(b, 4), ctx);
  let body: string;
  switch (type) {
    case APC.APC_NONE:
      body = '';
      break;
    case APC.APC_ASYNC_IO:
      body = `APC_ASYNC_IO,status=${status},total=${udec32(u32(b, 8))}`;
      break;
    case APC.APC_VIRTUAL_ALLOC:
    case APC.APC_VIRTUAL_FREE:
    case APC.APC_VIRTUAL_FLUSH:
    case APC.APC_VIRTUAL_LOCK:
    case APC.APC_VIRTUAL_UNLOCK:
    case APC.APC_MAP_VIEW:
      body = `${APC_TYPES[type]},status=${status},addr=${q(b, 8)},size=${q(b, 16)}`;
      break;
    case APC.APC_VIRTUAL_QUERY:
      body =
        `APC_VIRTUAL_QUERY,status=${status},base=${q(b, 8)},alloc_base=${q(b, 16)},size=${q(b, 24)}` +
        `,state=${hex(u16(b, 32))},prot=${hex(u16(b, 34))},alloc_prot=${hex(u16(b, 36))},alloc_type=${hex(u16(b, 38))}`;
      break;
    case APC.APC_VIRTUAL_PROTECT:
      body = `APC_VIRTUAL_PROTECT,status=${status},addr=${q(b, 8)},size=${q(b, 16)},prot=${hex(u32(b, 24))}`;
      break;
    case APC.APC_UNMAP_VIEW:
      body = `APC_UNMAP_VIEW,status=${status}`;
      break;
    case APC.APC_CREATE_THREAD:
      body = `APC_CREATE_THREAD,status=${status},pid=${hexPad(u32(b, 8), 4)},tid=${hexPad(u32(b, 12), 4)},handle=${hexPad(u32(b, 24), 4)}`;
      break;
    case APC.APC_DUP_HANDLE:
      body = `APC_DUP_HANDLE,status=${status},handle=${hexPad(u32(b, 8), 4)}`;
      break;
    default:
      // wineserver has no case for APC_VIRTUAL_ALLOC_EX results either.
      body = `type=${udec32(type)}`;
  }
  return `{${body}}`;
}

export type ApcResult = UnionValue;
export const apcResultKind = unionKind({ type: 'apc_result_t', size: 40, align: 8, variants: APC_RESULT_LAYOUTS, trace: traceApcResult });

/**
 * The apc_result vararg: one apc_result_t. wineserver prints it only when a
 * whole one is there; shorter data is consumed silently (field omitted).
 */
export const apcResultVarargKind: VarargKind<ApcResult | Malformed> = {
  kind: 'apc_result',
  decode(buf, offset, available) {
    if (available < apcResultKind.size) return { value: malformed(buf.subarray(offset, offset + available)), size: available };
    return { value: apcResultKind.decode(buf, offset), size: apcResultKind.size };
  },
  encode(value) {
    if (isMalformed(value)) return Buffer.from(value.bytes);
    const out = Buffer.alloc(apcResultKind.size);
    apcResultKind.encode(value, out, 0);
    return out;
  },
  format: (value, ctx) => (isMalformed(value) ? OMITTED : apcResultKind.format(value, ctx)),
  samples: () => [...apcResultKind.samples(), malformed(Buffer.alloc(0)), malformed(Buffer.alloc(39, 1))],
};

export interface AsyncData {
  handle: number;
  event: number;
  iosb: bigint;
  user: bigint;
  apc: bigint;
  apc_context: bigint;
}

const ASYNC_DATA_LAYOUT: Layout = [
  ['handle', 0, 'u32'],
  ['event', 4, 'u32'],
  ['iosb', 8, 'u64'],
  ['user', 16, 'u64'],
  ['apc', 24, 'u64'],
  ['apc_context', 32, 'u64'],
];
const asyncDataParser = structParser(ASYNC_DATA_LAYOUT, 40);

export const asyncDataKind: FixedKind<AsyncData> = {
  type: 'async_data_t',
  size: 40,
  align: 8,
  decode: (buf, offset) => parseStruct<AsyncData>(asyncDataParser, buf, offset, 40),
  encode: (value, buf, offset) => writeFields(buf, offset, ASYNC_DATA_LAYOUT, value as unknown as Record<string, number | bigint>),
  format: (v) =>
    `{handle=${hexPad(v.handle, 4)},event=${hexPad(v.event, 4)},iosb=${formatUint64(v.iosb)},user=${formatUint64(v.user)}` +
    `,apc=${formatUint64(v.apc)},apc_context=${formatUint64(v.apc_context)}}`,
  samples: () => [
    { handle: 0, event: 0, iosb: 0n, user: 0n, apc: 0n, apc_context: 0n },
    { handle: 0x1c, event: 0x20, iosb: 0x7ffe1000n, user: 0x140001000n, apc: 0xffffffffffffffffn, apc_context: 1n },
  ],
};
