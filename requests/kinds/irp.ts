// irp_params_t: the request a device driver is asked to handle.

import { u32, u64 } from './bytes.ts';
import { formatUint64, udec32, hexPad } from './format.ts';
import { formatIoctlCode } from './fixed.ts';
import { unionKind, type Layout, type UnionValue } from './struct.ts';

export const IRP_TYPES = [
  'IRP_CALL_NONE',
  'IRP_CALL_CREATE',
  'IRP_CALL_CLOSE',
  'IRP_CALL_READ',
  'IRP_CALL_WRITE',
  'IRP_CALL_FLUSH',
  'IRP_CALL_IOCTL',
  'IRP_CALL_VOLUME',
  'IRP_CALL_FREE',
  'IRP_CALL_CANCEL',
] as const;

const file8: Layout = [['file', 8, 'u64']];

export const IRP_LAYOUTS: Record<number, Layout> = {
  0: [],
  1: [
    ['access', 4, 'u32'],
    ['sharing', 8, 'u32'],
    ['options', 12, 'u32'],
    ['device', 16, 'u64'],
    ['file', 24, 'u32'],
  ],
  2: file8,
  3: [
    ['key', 4, 'u32'],
    ['out_size', 8, 'u32'],
    ['file', 16, 'u64'],
    ['pos', 24, 'u64'],
  ],
  4: [
    ['key', 4, 'u32'],
    ['file', 8, 'u64'],
    ['pos', 16, 'u64'],
  ],
  5: file8,
  6: [
    ['code', 4, 'u32'],
    ['out_size', 8, 'u32'],
    ['file', 16, 'u64'],
  ],
  7: [
    ['info_class', 4, 'u32'],
    ['out_size', 8, 'u32'],
    ['file', 16, 'u64'],
  ],
  8: [['obj', 8, 'u64']],
  9: [['irp', 8, 'u64']],
};

const q = (b: Buffer, o: number) => formatUint64(u64(b, o));

/**
 * wineserver prints nothing at all for an unknown irp type, not even the
 * field's `name=` prefix: null says so.
 */
function traceIrp(b: Buffer): string | null {
  switch (u32(b, 0)) {
    case 0:
      return '{NONE}';
    case 1:
      return `{CREATE,access=${hexPad(u32(b, 4), 8)},sharing=${hexPad(u32(b, 8), 8)},options=${hexPad(u32(b, 12), 8)},device=${q(b, 16)},file=${hexPad(u32(b, 24), 8)}}`;
    case 2:
      return `{CLOSE,file=${q(b, 8)}}`;
    case 3:
      return `{READ,key=${hexPad(u32(b, 4), 8)},out_size=${udec32(u32(b, 8))},pos=${q(b, 24)},file=${q(b, 16)}}`;
    case 4:
      return `{WRITE,key=${hexPad(u32(b, 4), 8)},pos=${q(b, 16)},file=${q(b, 8)}}`;
    case 5:
      return `{FLUSH,file=${q(b, 8)}}`;
    case 6:
      return `{IOCTL,code=${formatIoctlCode(u32(b, 4))},out_size=${udec32(u32(b, 8))},file=${q(b, 16)}}`;
    case 7:
      return `{VOLUME,class=${udec32(u32(b, 4))},out_size=${udec32(u32(b, 8))},file=${q(b, 16)}}`;
    case 8:
      return `{FREE,obj=${q(b, 8)}}`;
    case 9:
      return `{CANCEL,irp=${q(b, 8)}}`;
    default:
      return null;
  }
}

export type IrpParams = UnionValue;
export const irpParamsKind = unionKind({ type: 'irp_params_t', size: 32, align: 8, variants: IRP_LAYOUTS, trace: traceIrp });
