// Small fixed-size structured field types: timeout_t, abstime_t,
// rectangle_t, struct luid, generic_map_t, ioctl_code_t.

import { Parser } from 'binary-parser';
import type { FixedKind } from './kind.ts';
import { formatAbstime, formatTimeout, hexPad, type TraceClock } from './format.ts';
import { i32, i64, put32, put64, u32 } from './bytes.ts';

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** timeout_t: 100 ns units; negative = relative, positive = absolute since 1601, 0 = now, INT64_MAX = infinite. */
export const timeoutKind: FixedKind<bigint> = {
  type: 'timeout_t',
  size: 8,
  align: 8,
  decode: (buf, offset) => i64(buf, offset),
  encode: (value, buf, offset) => put64(buf, offset, value),
  format: (value, ctx) => formatTimeout(value, ctx),
  samples: () => [0n, INT64_MAX, -1n, -10_000_000n, -15_000_000n, INT64_MIN, 133_000_000_000_000_000n, 1n],
};

/** abstime_t: positive = absolute system time, negative = deadline on the monotonic clock. */
export const abstimeKind: FixedKind<bigint> = {
  type: 'abstime_t',
  size: 8,
  align: 8,
  decode: (buf, offset) => i64(buf, offset),
  encode: (value, buf, offset) => put64(buf, offset, value),
  format: (value, ctx) => formatAbstime(value, ctx as TraceClock),
  samples: () => [0n, INT64_MAX, -1n, -50_000_000n, INT64_MIN, 133_000_000_000_000_000n],
};

export interface Rectangle {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export const rectangleParser = new Parser().endianness('little').int32('left').int32('top').int32('right').int32('bottom');

export function writeRectangle(buf: Buffer, offset: number, r: Rectangle): void {
  put32(buf, offset, r.left);
  put32(buf, offset + 4, r.top);
  put32(buf, offset + 8, r.right);
  put32(buf, offset + 12, r.bottom);
}

export const formatRectangle = (r: Rectangle): string => `{${r.left | 0},${r.top | 0};${r.right | 0},${r.bottom | 0}}`;

export const rectangleKind: FixedKind<Rectangle> = {
  type: 'rectangle_t',
  size: 16,
  align: 4,
  decode: (buf, offset) => ({ left: i32(buf, offset), top: i32(buf, offset + 4), right: i32(buf, offset + 8), bottom: i32(buf, offset + 12) }),
  encode: (value, buf, offset) => writeRectangle(buf, offset, value),
  format: (value) => formatRectangle(value),
  samples: () => [
    { left: 0, top: 0, right: 0, bottom: 0 },
    { left: -10, top: -20, right: 640, bottom: 480 },
    { left: -2147483648, top: 2147483647, right: -1, bottom: 1 },
  ],
};

export interface Luid {
  low_part: number;
  high_part: number;
}

export const luidKind: FixedKind<Luid> = {
  type: 'struct luid',
  size: 8,
  align: 4,
  decode: (buf, offset) => ({ low_part: u32(buf, offset), high_part: i32(buf, offset + 4) }),
  encode: (value, buf, offset) => {
    put32(buf, offset, value.low_part);
    put32(buf, offset + 4, value.high_part);
  },
  format: (value) => `${value.high_part | 0}.${value.low_part >>> 0}`,
  samples: () => [
    { low_part: 0, high_part: 0 },
    { low_part: 0x3e7, high_part: 0 },
    { low_part: 0xffffffff, high_part: -1 },
    { low_part: 1, high_part: 0x7fffffff },
  ],
};

export interface GenericMap {
  read: number;
  write: number;
  exec: number;
  all: number;
}

export const genericMapParser = new Parser().endianness('little').uint32('read').uint32('write').uint32('exec').uint32('all');

export function writeGenericMap(buf: Buffer, offset: number, m: GenericMap): void {
  put32(buf, offset, m.read);
  put32(buf, offset + 4, m.write);
  put32(buf, offset + 8, m.exec);
  put32(buf, offset + 12, m.all);
}

export const formatGenericMap = (m: GenericMap): string =>
  `{r=${hexPad(m.read, 8)},w=${hexPad(m.write, 8)},x=${hexPad(m.exec, 8)},a=${hexPad(m.all, 8)}}`;

export const genericMapKind: FixedKind<GenericMap> = {
  type: 'generic_map_t',
  size: 16,
  align: 4,
  decode: (buf, offset) => ({ read: u32(buf, offset), write: u32(buf, offset + 4), exec: u32(buf, offset + 8), all: u32(buf, offset + 12) }),
  encode: (value, buf, offset) => writeGenericMap(buf, offset, value),
  format: (value) => formatGenericMap(value),
  samples: () => [
    { read: 0, write: 0, exec: 0, all: 0 },
    { read: 0x20019, write: 0x20006, exec: 0x20019, all: 0xf003f },
    { read: 0xffffffff, write: 1, exec: 0x80000000, all: 0x1f01ff },
  ],
};

// Device control codes wineserver prints by name, in the order it tests
// them (values from Wine's condrv.h, winioctl.h, ntddser.h and winsock2.h).
export const IOCTL_NAMES: ReadonlyArray<readonly [string, number]> = [
  ['IOCTL_CONDRV_ACTIVATE', 0x00508090],
  ['IOCTL_CONDRV_BIND_PID', 0x005000cc],
  ['IOCTL_CONDRV_CTRL_EVENT', 0x0050004c],
  ['IOCTL_CONDRV_FILL_OUTPUT', 0x00508094],
  ['IOCTL_CONDRV_GET_INPUT_INFO', 0x0050403c],
  ['IOCTL_CONDRV_GET_MODE', 0x00504000],
  ['IOCTL_CONDRV_GET_OUTPUT_INFO', 0x00504088],
  ['IOCTL_CONDRV_GET_TITLE', 0x00504044],
  ['IOCTL_CONDRV_PEEK', 0x00504038],
  ['IOCTL_CONDRV_READ_CONSOLE', 0x00504028],
  ['IOCTL_CONDRV_READ_INPUT', 0x00504030],
  ['IOCTL_CONDRV_READ_OUTPUT', 0x00504080],
  ['IOCTL_CONDRV_SET_MODE', 0x00508004],
  ['IOCTL_CONDRV_SET_OUTPUT_INFO', 0x0050808c],
  ['IOCTL_CONDRV_SETUP_INPUT', 0x005000f0],
  ['IOCTL_CONDRV_WRITE_CONSOLE', 0x00508078],
  ['IOCTL_CONDRV_WRITE_INPUT', 0x00508034],
  ['IOCTL_CONDRV_WRITE_OUTPUT', 0x00508084],
  ['FSCTL_DISMOUNT_VOLUME', 0x00090020],
  ['FSCTL_PIPE_DISCONNECT', 0x00110004],
  ['FSCTL_PIPE_LISTEN', 0x00110008],
  ['FSCTL_PIPE_PEEK', 0x0011400c],
  ['FSCTL_PIPE_WAIT', 0x00110018],
  ['IOCTL_SERIAL_GET_TIMEOUTS', 0x001b0020],
  ['IOCTL_SERIAL_GET_WAIT_MASK', 0x001b0040],
  ['IOCTL_SERIAL_SET_TIMEOUTS', 0x001b001c],
  ['IOCTL_SERIAL_SET_WAIT_MASK', 0x001b0044],
  ['WS_SIO_ADDRESS_LIST_CHANGE', 0x28000017],
];

const ioctlByCode = new Map<number, string>();
for (const [name, code] of IOCTL_NAMES) if (!ioctlByCode.has(code)) ioctlByCode.set(code, name);

export const formatIoctlCode = (code: number): string => ioctlByCode.get(code >>> 0) ?? hexPad(code, 8);

export const ioctlCodeKind: FixedKind<number> = {
  type: 'ioctl_code_t',
  size: 4,
  align: 4,
  decode: (buf, offset) => u32(buf, offset),
  encode: (value, buf, offset) => put32(buf, offset, value),
  format: (value) => formatIoctlCode(value),
  samples: () => [0, ...IOCTL_NAMES.map(([, code]) => code), 0x12345678, 0xffffffff],
};
