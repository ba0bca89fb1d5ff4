// debug_event: what wait_debug_event reports (debug_event_t, 160 bytes, a
// union selected by the DBG_STATE code).

import type { VarargKind } from './kind.ts';
import { i32, u32, u64 } from './bytes.ts';
import { dec32, formatUint64, hexPad } from './format.ts';
import { isMalformed, malformed, type Malformed } from './malformed.ts';
import { unionKind, type Layout, type UnionValue } from './struct.ts';

export const DEBUG_EVENT_SIZE = 160;

export const DBG_STATES = [
  'DbgIdle',
  'DbgReplyPending',
  'DbgCreateThreadStateChange',
  'DbgCreateProcessStateChange',
  'DbgExitThreadStateChange',
  'DbgExitProcessStateChange',
  'DbgExceptionStateChange',
  'DbgBreakpointStateChange',
  'DbgSingleStepStateChange',
  'DbgLoadDllStateChange',
  'DbgUnloadDllStateChange',
] as const;

const EXCEPTION_MAXIMUM_PARAMETERS = 15;
const exception: Layout = [
  ['first', 4, 'i32'],
  ['exc_code', 8, 'u32'],
  ['flags', 12, 'u32'],
  ['record', 16, 'u64'],
  ['address', 24, 'u64'],
  ['nb_params', 32, 'i32'],
  ...Array.from({ length: EXCEPTION_MAXIMUM_PARAMETERS }, (_, i) => [`params${i}`, 40 + 8 * i, 'u64'] as const),
];
const exit: Layout = [['exit_code', 4, 'i32']];

export const DEBUG_EVENT_LAYOUTS: Record<number, Layout> = {
  0: [],
  1: [],
  2: [
    ['handle', 4, 'u32'],
    ['start', 8, 'u64'],
  ],
  3: [
    ['file', 4, 'u32'],
    ['process', 8, 'u32'],
    ['thread', 12, 'u32'],
    ['base', 16, 'u64'],
    ['dbg_offset', 24, 'i32'],
    ['dbg_size', 28, 'i32'],
    ['start', 32, 'u64'],
  ],
  4: exit,
  5: exit,
  6: exception,
  7: exception,
  8: exception,
  9: [
    ['handle', 4, 'u32'],
    ['base', 8, 'u64'],
    ['dbg_offset', 16, 'i32'],
    ['dbg_size', 20, 'i32'],
    ['name', 24, 'u64'],
  ],
  10: [['base', 8, 'u64']],
};

const q = (b: Buffer, o: number) => formatUint64(u64(b, o));

/** dump_varargs_debug_event on a whole (zero-extended) debug_event_t. */
function traceDebugEvent(b: Buffer): string {
  const code = i32(b, 0);
  switch (code) {
    case 0:
      return '{idle}';
    case 1:
      return '{pending}';
    case 2:
      return `{create_thread,thread=${hexPad(u32(b, 4), 4)},start=${q(b, 8)}}`;
    case 3:
      return (
        `{create_process,file=${hexPad(u32(b, 4), 4)},process=${hexPad(u32(b, 8), 4)},thread=${hexPad(u32(b, 12), 4)}` +
        `,base=${q(b, 16)},offset=${dec32(i32(b, 24))},size=${dec32(i32(b, 28))},start=${q(b, 32)}}`
      );
    case 4:
      return `{exit_thread,code=${dec32(i32(b, 4))}}`;
    case 5:
      return `{exit_process,code=${dec32(i32(b, 4))}}`;
    case 6:
    case 7:
    case 8: {
      const name = code === 7 ? 'breakpoint' : code === 8 ? 'singlestep' : 'exception';
      // wineserver prints a comma after every parameter, the last one included.
      // A negative count would make it read far past the struct; we print none.
      const count = Math.max(0, Math.min(i32(b, 32), EXCEPTION_MAXIMUM_PARAMETERS));
      let params = '';
      for (let i = 0; i < count; i++) params += `${q(b, 40 + 8 * i)},`;
      return (
        `{${name},first=${dec32(i32(b, 4))},exc_code=${hexPad(u32(b, 8), 8)},flags=${hexPad(u32(b, 12), 8)}` +
        `,record=${q(b, 16)},address=${q(b, 24)},params={${params}}}`
      );
    }
    case 9:
      return (
        `{load_dll,file=${hexPad(u32(b, 4), 4)},base=${q(b, 8)},offset=${dec32(i32(b, 16))},size=${dec32(i32(b, 20))}` +
        `,name=${q(b, 24)}}`
      );
    case 10:
      return `{unload_dll,base=${q(b, 8)}}`;
    default:
      return `{code=??? (${code})}`;
  }
}

export type DebugEvent = UnionValue;
export const debugEventStruct = unionKind({ type: 'debug_event_t', size: DEBUG_EVENT_SIZE, align: 8, variants: DEBUG_EVENT_LAYOUTS, trace: traceDebugEvent });

export type DebugEventField = DebugEvent | Malformed | null;

export const debugEventKind: VarargKind<DebugEventField> = {
  kind: 'debug_event',
  decode(buf, offset, available) {
    if (!available) return { value: null, size: 0 };
    if (available < DEBUG_EVENT_SIZE) return { value: malformed(buf.subarray(offset, offset + available)), size: available };
    return { value: debugEventStruct.decode(buf, offset), size: DEBUG_EVENT_SIZE };
  },
  encode(value) {
    if (value === null) return Buffer.alloc(0);
    if (isMalformed(value)) return Buffer.from(value.bytes);
    const out = Buffer.alloc(DEBUG_EVENT_SIZE);
    debugEventStruct.encode(value, out, 0);
    return out;
  },
  format(value, ctx) {
    if (value === null) return '{}';
    if (!isMalformed(value)) return debugEventStruct.format(value, ctx);
    const whole = Buffer.alloc(DEBUG_EVENT_SIZE);
    value.bytes.copy(whole);
    return traceDebugEvent(whole);
  },
  samples: () => [
    null,
    ...debugEventStruct.samples(),
    { type: 6, first: 1, exc_code: 0xc0000005, flags: 0, record: 0x1000n, address: 0x401000n, nb_params: 2, params0: 1n, params1: 0xdeadn },
    { type: 7, nb_params: 15 },
    { type: 8, nb_params: 16 },
    { type: 6, nb_params: -1 },
    malformed(Buffer.from([3, 0, 0, 0, 4])),
    malformed(Buffer.alloc(159, 0x11)),
  ],
};
