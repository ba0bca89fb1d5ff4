// object_attributes: root directory, attributes, optional security
// descriptor and name, as sent with every create/open request.
//
// Wire layout: rootdir u32, attributes u32, sd_len u32, name_len u32, then
// sd_len bytes of security_descriptor, then name_len bytes of UTF-16 name,
// padded to a multiple of 4. wineserver consumes the padded size, so any
// following vararg starts after the padding.

import type { VarargKind } from './kind.ts';
import { copyBytes, put32, u32 } from './bytes.ts';
import { formatWideChars, hexPad } from './format.ts';
import { isMalformed, malformed, type Malformed } from './malformed.ts';
import { decodeSecurityDescriptor, encodeSecurityDescriptor, traceSecurityDescriptor, WELL_KNOWN, type SecurityDescriptorField } from './security.ts';

const HEADER = 16;

export interface ObjectAttributes {
  rootdir: number;
  attributes: number;
  sd: SecurityDescriptorField | null;
  name: string;
  /** The alignment bytes after the name; when absent the encoder pads to 4 with zeros. */
  padding?: Buffer;
}

/**
 * Bytes wineserver would not accept or that cannot be split into the parts
 * above. `seen` holds every byte the dumper looked at when that is more than
 * it consumed (odd lengths), so the trace stays exact.
 */
export interface MalformedObjectAttributes extends Malformed {
  seen?: Buffer;
}

export type ObjectAttributesField = ObjectAttributes | MalformedObjectAttributes | null;

/** How many bytes wineserver consumes for an object_attributes of `available` bytes. */
function consumedSize(buf: Buffer, offset: number, available: number): number {
  if (!available) return 0;
  if (available < HEADER) return available;
  const sdLen = u32(buf, offset + 8);
  const nameLen = u32(buf, offset + 12);
  if (available - HEADER < sdLen || available - HEADER - sdLen < nameLen) return available;
  return Math.min(available, (HEADER + (sdLen & ~1) + (nameLen & ~1) + 3) & ~3);
}

/** dump_varargs_object_attributes over `size` bytes. */
export function traceObjectAttributes(b: Buffer, size: number): string {
  if (!size) return '{}';
  const sdLen = u32(b, 8);
  const nameLen = u32(b, 12);
  if (size < HEADER || size - HEADER < sdLen || size - HEADER - sdLen < nameLen) return '{***invalid***}';
  const nameAt = HEADER + (sdLen & ~1); // the name pointer is computed in WCHARs
  return (
    `{rootdir=${hexPad(u32(b, 0), 4)},attributes=${hexPad(u32(b, 4), 8)},sd=${traceSecurityDescriptor(b, HEADER, sdLen)}` +
    `,name=L"${formatWideChars(b, nameAt, nameLen)}"}`
  );
}

export function encodeObjectAttributes(value: ObjectAttributes): Buffer {
  const sd = value.sd === null ? Buffer.alloc(0) : encodeSecurityDescriptor(value.sd);
  const name = Buffer.from(value.name, 'utf16le');
  const unpadded = HEADER + sd.length + name.length;
  const padding = value.padding ?? Buffer.alloc(((unpadded + 3) & ~3) - unpadded);
  const header = Buffer.alloc(HEADER);
  put32(header, 0, value.rootdir);
  put32(header, 4, value.attributes);
  put32(header, 8, sd.length);
  put32(header, 12, name.length);
  return Buffer.concat([header, sd, name, padding]);
}

function parseObjectAttributes(bytes: Buffer): ObjectAttributes | undefined {
  if (bytes.length < HEADER) return undefined;
  const sdLen = u32(bytes, 8);
  const nameLen = u32(bytes, 12);
  if (sdLen % 2 || nameLen % 2 || HEADER + sdLen + nameLen > bytes.length) return undefined;
  return {
    rootdir: u32(bytes, 0),
    attributes: u32(bytes, 4),
    sd: sdLen ? decodeSecurityDescriptor(bytes, HEADER, sdLen) : null,
    name: bytes.toString('utf16le', HEADER + sdLen, HEADER + sdLen + nameLen),
    padding: copyBytes(bytes, HEADER + sdLen + nameLen, bytes.length - HEADER - sdLen - nameLen),
  };
}

const encodeField = (value: ObjectAttributesField): Buffer =>
  value === null ? Buffer.alloc(0) : isMalformed(value) ? Buffer.from(value.bytes) : encodeObjectAttributes(value);

export const objectAttributesKind: VarargKind<ObjectAttributesField> = {
  kind: 'object_attributes',
  decode(buf, offset, available) {
    const size = consumedSize(buf, offset, available);
    if (!size) return { value: null, size: 0 };
    const bytes = buf.subarray(offset, offset + size);
    const parsed = parseObjectAttributes(bytes);
    if (parsed && encodeObjectAttributes(parsed).equals(bytes)) return { value: parsed, size };
    const value: MalformedObjectAttributes = malformed(bytes);
    const seenSize = Math.min(available, HEADER + u32(buf, offset + 8) + u32(buf, offset + 12));
    if (available >= HEADER && seenSize > size) value.seen = copyBytes(buf, offset, seenSize);
    return { value, size };
  },
  encode: encodeField,
  format(value) {
    if (value !== null && isMalformed(value) && value.seen) return traceObjectAttributes(value.seen, value.seen.length);
    const bytes = encodeField(value);
    return traceObjectAttributes(bytes, bytes.length);
  },
  samples: () => [
    null,
    { rootdir: 0, attributes: 0, sd: null, name: '' },
    { rootdir: 0, attributes: 0x40, sd: null, name: '\\BaseNamedObjects\\__wine_mutex' },
    { rootdir: 0x1c, attributes: 0x80, sd: null, name: 'abc', padding: Buffer.from([0xde, 0xad]) },
    {
      rootdir: 4,
      attributes: 0x2c0,
      sd: { control: 0x8004, owner: WELL_KNOWN.administrators, group: WELL_KNOWN.system, sacl: null, dacl: null, trailing: Buffer.alloc(0) },
      name: '\\Registry\\Machine\\Software\\"quoted"',
    },
    malformed(Buffer.from([1, 2, 3])),
    malformed(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0])),
  ],
};
