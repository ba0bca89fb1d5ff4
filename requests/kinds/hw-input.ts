// hw_input_t: a hardware input event injected with send_hardware_message,
// including the rawinput payload of WM_INPUT messages.

import { i32, u16, u32, u64 } from './bytes.ts';
import { dec32, formatUint64, hex16, hexPad, udec32 } from './format.ts';
import { unionKind, type Layout, type UnionValue } from './struct.ts';

export const INPUT_MOUSE = 0;
export const INPUT_KEYBOARD = 1;
export const INPUT_HARDWARE = 2;
export const RIM_TYPEMOUSE = 0;
export const RIM_TYPEKEYBOARD = 1;
export const RIM_TYPEHID = 2;
const WM_INPUT_DEVICE_CHANGE = 0x00fe;
const WM_INPUT = 0x00ff;

/**
 * The rawinput part of an INPUT_HARDWARE event (at offset 16) is itself a
 * union; its fields are exposed flat with a `rawinput_` prefix, all of them,
 * since which ones matter depends on rawinput_type.
 */
const RAWINPUT_FIELDS: Layout = [
  ['rawinput_type', 16, 'i32'],
  ['rawinput_1', 20, 'u32'],
  ['rawinput_2', 24, 'u32'],
  ['rawinput_3', 28, 'u32'],
  ['rawinput_4', 32, 'u32'],
  ['rawinput_5', 36, 'u32'],
];

export const HW_INPUT_LAYOUTS: Record<number, Layout> = {
  [INPUT_MOUSE]: [
    ['x', 4, 'i32'],
    ['y', 8, 'i32'],
    ['data', 12, 'u32'],
    ['flags', 16, 'u32'],
    ['time', 20, 'u32'],
    ['info', 24, 'u64'],
  ],
  [INPUT_KEYBOARD]: [
    ['vkey', 4, 'u16'],
    ['scan', 6, 'u16'],
    ['flags', 8, 'u32'],
    ['time', 12, 'u32'],
    ['info', 16, 'u64'],
  ],
  [INPUT_HARDWARE]: [['msg', 4, 'u32'], ['lparam', 8, 'u64'], ...RAWINPUT_FIELDS],
};

/** dump_rawinput: `at` is the offset of the rawinput union in `b`. */
export function traceRawinput(b: Buffer, at: number): string {
  const type = i32(b, at);
  switch (type) {
    case RIM_TYPEMOUSE:
      return `{type=MOUSE,x=${dec32(i32(b, at + 4))},y=${dec32(i32(b, at + 8))},data=${hexPad(u32(b, at + 12), 8)}}`;
    case RIM_TYPEKEYBOARD:
      return `{type=KEYBOARD,message=${hexPad(u32(b, at + 4), 4)},vkey=${hex16(u16(b, at + 8))},scan=${hex16(u16(b, at + 10))}}`;
    case RIM_TYPEHID:
      return (
        `{type=HID,device=${hexPad(u32(b, at + 4), 4)},param=${hexPad(u32(b, at + 8), 4)},page=${hex16(u16(b, at + 12))}` +
        `,usage=${hex16(u16(b, at + 14))},count=${udec32(u32(b, at + 16))},length=${udec32(u32(b, at + 20))}}`
      );
    default:
      return `{type=${hexPad(type, 4)}}`;
  }
}

function traceHwInput(b: Buffer): string {
  const type = u32(b, 0);
  const info = (o: number) => formatUint64(u64(b, o));
  switch (type) {
    case INPUT_MOUSE:
      return `{type=MOUSE,x=${dec32(i32(b, 4))},y=${dec32(i32(b, 8))},data=${hexPad(u32(b, 12), 8)},flags=${hexPad(u32(b, 16), 8)},time=${udec32(u32(b, 20))},info=${info(24)}}`;
    case INPUT_KEYBOARD:
      return `{type=KEYBOARD,vkey=${hex16(u16(b, 4))},scan=${hex16(u16(b, 6))},flags=${hexPad(u32(b, 8), 8)},time=${udec32(u32(b, 12))},info=${info(16)}}`;
    case INPUT_HARDWARE: {
      const msg = u32(b, 4);
      const raw = msg === WM_INPUT || msg === WM_INPUT_DEVICE_CHANGE ? `,rawinput=${traceRawinput(b, 16)}` : '';
      return `{type=HARDWARE,msg=${hexPad(msg, 4)},lparam=${info(8)}${raw}}`;
    }
    default:
      return `{type=${hexPad(type, 4)}}`;
  }
}

export type HwInput = UnionValue;
export const hwInputKind = unionKind({
  type: 'hw_input_t',
  size: 40,
  align: 8,
  variants: HW_INPUT_LAYOUTS,
  trace: traceHwInput,
  extraSamples: [
    { type: INPUT_HARDWARE, msg: WM_INPUT, lparam: 0n, rawinput_type: RIM_TYPEMOUSE, rawinput_1: 0xfffffff6, rawinput_2: 20, rawinput_3: 0x78 },
    { type: INPUT_HARDWARE, msg: WM_INPUT, lparam: 1n, rawinput_type: RIM_TYPEKEYBOARD, rawinput_1: 0x100, rawinput_2: 0x1e0041 },
    { type: INPUT_HARDWARE, msg: WM_INPUT_DEVICE_CHANGE, lparam: 2n, rawinput_type: RIM_TYPEHID, rawinput_1: 3, rawinput_2: 4, rawinput_3: 0x50001, rawinput_4: 2, rawinput_5: 64 },
    { type: INPUT_HARDWARE, msg: WM_INPUT, lparam: 3n, rawinput_type: 77 },
    { type: INPUT_HARDWARE, msg: 0x100, lparam: 3n, rawinput_type: 0 },
  ],
});
