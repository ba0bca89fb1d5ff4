// Security varargs: sid, sids, acl, security_descriptor.
//
// Wire layouts (all little-endian, packed):
//   sid:  revision u8, sub_count u8, authority[6] (big-endian), sub_auth u32[sub_count]
//   acl:  revision u8, pad u8, size u16, count u16, pad u16, then `count` aces
//   ace:  type u8, flags u8, size u16, mask u32, then (for the known types) a sid
//   security_descriptor: control, owner_len, group_len, sacl_len, dacl_len (u32 each),
//         then owner sid, group sid, sacl, dacl back to back with those lengths.
//
// Decoding is structured when the bytes are self-consistent and falls back to
// `Malformed` (exact bytes) otherwise. The trace printers work on bytes, the
// way wineserver's do, so odd inputs print exactly as Wine prints them.

import type { VarargKind } from './kind.ts';
import { copyBytes, put16, put32, put8, u16, u32, u8 } from './bytes.ts';
import { hex, hexPad } from './format.ts';
import { isMalformed, malformed, OMITTED, type Malformed } from './malformed.ts';

export interface Sid {
  revision: number;
  /** The 48-bit identifier authority (5 = NT authority). */
  authority: number;
  /** Up to 255 sub-authorities (Windows allows 15; the wire format allows more). */
  subAuthorities: number[];
}

const SID_HEADER = 8;
/** wineserver refuses owner/group sids longer than a sid with 255 sub-authorities. */
const MAX_SID_LEN = SID_HEADER + 4 * 255;
const ACL_HEADER = 8;
const ACE_HEADER = 8;
const SD_HEADER = 20;
const MAX_ACL_LEN = 65535;

export const sidLength = (sid: Sid): number => SID_HEADER + 4 * sid.subAuthorities.length;

/** Parses a sid at buf[offset] if `size` bytes hold one; returns it with its length. */
export function parseSid(buf: Buffer, offset: number, size: number): Sid | undefined {
  if (size < SID_HEADER || offset + SID_HEADER > buf.length) return undefined;
  const count = u8(buf, offset + 1);
  const length = SID_HEADER + 4 * count;
  if (size < length || offset + length > buf.length) return undefined;
  let authority = 0;
  for (let i = 0; i < 6; i++) authority = authority * 256 + u8(buf, offset + 2 + i);
  const subAuthorities: number[] = [];
  for (let i = 0; i < count; i++) subAuthorities.push(u32(buf, offset + SID_HEADER + 4 * i));
  return { revision: u8(buf, offset), authority, subAuthorities };
}

export function writeSid(buf: Buffer, offset: number, sid: Sid): number {
  put8(buf, offset, sid.revision);
  put8(buf, offset + 1, sid.subAuthorities.length);
  let authority = sid.authority;
  for (let i = 5; i >= 0; i--) {
    put8(buf, offset + 2 + i, authority % 256);
    authority = Math.floor(authority / 256);
  }
  sid.subAuthorities.forEach((sub, i) => put32(buf, offset + SID_HEADER + 4 * i, sub));
  return sidLength(sid);
}

export function encodeSid(sid: Sid): Buffer {
  const out = Buffer.alloc(sidLength(sid));
  writeSid(out, 0, sid);
  return out;
}

/** The usual "S-1-5-32-544" text (Wine prints only the low 32 bits of the authority). */
export function formatSid(sid: Sid): string {
  return traceSid(encodeSid(sid), 0, sidLength(sid));
}

// ---- byte-level printers, mirroring wineserver's dump_inline_* helpers ----

/** A sid in `size` bytes at buf[offset]; reads past the buffer see zeros. */
export function traceSid(buf: Buffer, offset: number, size: number): string {
  const count = u8(buf, offset + 1);
  if (size < SID_HEADER || size < SID_HEADER + 4 * count) return '<invalid>';
  const authority = ((u8(buf, offset + 4) << 24) | (u8(buf, offset + 5) << 16) | (u8(buf, offset + 6) << 8) | u8(buf, offset + 7)) >>> 0;
  let out = `S-${u8(buf, offset)}-${authority}`;
  for (let i = 0; i < count; i++) out += `-${u32(buf, offset + SID_HEADER + 4 * i)}`;
  return out;
}

const ACE_TYPE_NAMES: Record<number, string> = {
  0x00: 'ACCESS_ALLOWED',
  0x01: 'ACCESS_DENIED',
  0x02: 'SYSTEM_AUDIT',
  0x03: 'SYSTEM_ALARM',
  0x11: 'SYSTEM_MANDATORY_LABEL',
};

/** An acl in `size` bytes at buf[offset], as "{{type=...,flags=..,mask=..,sid=...},...}". */
export function traceAcl(buf: Buffer, offset: number, size: number): string {
  if (!size) return '{}';
  if (size < ACL_HEADER) return '{<invalid acl>}';
  let remaining = size - ACL_HEADER;
  const count = u16(buf, offset + 4);
  let ace = offset + ACL_HEADER;
  let out = '{';
  for (let i = 0; i < count; i++) {
    const aceSize = u16(buf, ace + 2);
    if (remaining < ACE_HEADER || remaining < aceSize) break;
    remaining -= aceSize;
    const sidSize = (aceSize - ACE_HEADER) >>> 0; // unsigned wrap, as in C
    const type = u8(buf, ace);
    const name = ACE_TYPE_NAMES[type];
    if (i) out += ',';
    out += `{type=${name ?? hexPad(type, 2)},flags=${hex(u8(buf, ace + 1))},mask=${hex(u32(buf, ace + 4))}`;
    if (name) out += `,sid=${traceSid(buf, ace + ACE_HEADER, sidSize)}`;
    out += '}';
    ace += aceSize;
  }
  return out + '}';
}

/**
 * A security descriptor in `size` bytes at buf[offset]. Like wineserver, stops
 * printing (without the closing brace) at the first length that does not fit.
 */
export function traceSecurityDescriptor(buf: Buffer, offset: number, size: number): string {
  let out = '{';
  if (size < SD_HEADER) return out + '}';
  const [ownerLen, groupLen, saclLen, daclLen] = [4, 8, 12, 16].map((o) => u32(buf, offset + o));
  out += `control=${hexPad(u32(buf, offset), 8)}`;
  let pos = SD_HEADER;
  if (ownerLen > MAX_SID_LEN || pos + ownerLen > size) return out;
  out += ownerLen ? `,owner=${traceSid(buf, offset + pos, ownerLen)}` : ',owner=<not present>';
  pos += ownerLen;
  if (groupLen > MAX_SID_LEN || pos + groupLen > size) return out;
  out += groupLen ? `,group=${traceSid(buf, offset + pos, groupLen)}` : ',group=<not present>';
  pos += groupLen;
  if (saclLen >= MAX_ACL_LEN || pos + saclLen > size) return out;
  out += `,sacl=${traceAcl(buf, offset + pos, saclLen)}`;
  pos += saclLen;
  if (daclLen >= MAX_ACL_LEN || pos + daclLen > size) return out;
  out += `,dacl=${traceAcl(buf, offset + pos, daclLen)}`;
  return out + '}';
}

// ---- sid vararg ----

/** A sid vararg: nothing, a sid (with any bytes after it), or bytes too short to be a sid. */
export type SidField = null | { sid: Sid; extra: Buffer } | Malformed;

export const sidKind: VarargKind<SidField> = {
  kind: 'sid',
  decode(buf, offset, available) {
    if (!available) return { value: null, size: 0 };
    const sid = parseSid(buf, offset, available);
    if (!sid) return { value: malformed(buf.subarray(offset, offset + available)), size: available };
    const length = sidLength(sid);
    return { value: { sid, extra: copyBytes(buf, offset + length, available - length) }, size: available };
  },
  encode(value) {
    if (value === null) return Buffer.alloc(0);
    if (isMalformed(value)) return Buffer.from(value.bytes);
    return Buffer.concat([encodeSid(value.sid), value.extra]);
  },
  format(value) {
    const bytes = sidKind.encode(value);
    return bytes.length ? traceSid(bytes, 0, bytes.length) : OMITTED;
  },
  samples: () => [
    null,
    { sid: WELL_KNOWN.administrators, extra: Buffer.alloc(0) },
    { sid: WELL_KNOWN.system, extra: Buffer.alloc(0) },
    { sid: WELL_KNOWN.everyone, extra: Buffer.from([1, 2, 3]) },
    { sid: { revision: 1, authority: 0xffffffffffff, subAuthorities: [] }, extra: Buffer.alloc(0) },
    { sid: { revision: 255, authority: 5, subAuthorities: Array.from({ length: 255 }, (_, i) => 0xffffffff - i) }, extra: Buffer.alloc(0) },
    malformed(Buffer.from([1, 2, 0, 0, 0, 0, 0, 5])),
    malformed(Buffer.from([1])),
  ],
};

export const WELL_KNOWN = {
  everyone: { revision: 1, authority: 1, subAuthorities: [0] },
  system: { revision: 1, authority: 5, subAuthorities: [18] },
  administrators: { revision: 1, authority: 5, subAuthorities: [32, 544] },
  user: { revision: 1, authority: 5, subAuthorities: [21, 0, 0, 0, 1000] },
  mediumLabel: { revision: 1, authority: 16, subAuthorities: [0x2000] },
} satisfies Record<string, Sid>;

// ---- sids vararg ----

export interface SidList {
  sids: Sid[];
  /** Bytes after the last whole sid (Wine prints "bad len N" for them). */
  trailing: Buffer;
}

export const sidsKind: VarargKind<SidList> = {
  kind: 'sids',
  decode(buf, offset, available) {
    const sids: Sid[] = [];
    let pos = 0;
    for (;;) {
      const sid = pos < available ? parseSid(buf, offset + pos, available - pos) : undefined;
      if (!sid) break;
      sids.push(sid);
      pos += sidLength(sid);
    }
    return { value: { sids, trailing: copyBytes(buf, offset + pos, available - pos) }, size: available };
  },
  encode: (value) => Buffer.concat([...value.sids.map(encodeSid), value.trailing]),
  format(value) {
    const parts = value.sids.map(formatSid);
    if (value.trailing.length) parts.push(`bad len ${value.trailing.length}`);
    return `{${parts.join(',')}}`;
  },
  samples: () => [
    { sids: [], trailing: Buffer.alloc(0) },
    { sids: [WELL_KNOWN.user], trailing: Buffer.alloc(0) },
    { sids: Object.values(WELL_KNOWN), trailing: Buffer.alloc(0) },
    { sids: [WELL_KNOWN.system], trailing: Buffer.from([1, 4, 0]) },
    { sids: [], trailing: Buffer.from([1, 1, 0, 0, 0, 0, 0, 5, 1]) },
  ],
};

// ---- acl vararg ----

export interface Ace {
  type: number;
  flags: number;
  mask: number;
  /** The trustee of the known ACE types; other types (object ACEs, ...) keep their body as bytes. */
  body: Sid | Buffer;
}

export interface Acl {
  revision: number;
  /** The acl's own size field; recomputed by the encoder when absent. */
  size?: number;
  aces: Ace[];
  /** Bytes after the last ace (in the buffer but not described by any ace). */
  trailing: Buffer;
  /** The two padding fields, kept so odd inputs round-trip (normally 0). */
  pad1?: number;
  pad2?: number;
}

export type AclField = Acl | Malformed | null;

const aceBodyLength = (ace: Ace): number => (Buffer.isBuffer(ace.body) ? ace.body.length : sidLength(ace.body));

/** Parses an acl occupying exactly `size` bytes, or undefined when its aces are not laid out consistently. */
export function parseAcl(buf: Buffer, offset: number, size: number): Acl | undefined {
  if (size < ACL_HEADER) return undefined;
  const count = u16(buf, offset + 4);
  const aces: Ace[] = [];
  let pos = ACL_HEADER;
  for (let i = 0; i < count; i++) {
    if (size - pos < ACE_HEADER) return undefined;
    const aceSize = u16(buf, offset + pos + 2);
    if (aceSize < ACE_HEADER || aceSize > size - pos) return undefined;
    const type = u8(buf, offset + pos);
    const bodyLength = aceSize - ACE_HEADER;
    const sid = ACE_TYPE_NAMES[type] ? parseSid(buf, offset + pos + ACE_HEADER, bodyLength) : undefined;
    const body = sid && sidLength(sid) === bodyLength ? sid : copyBytes(buf, offset + pos + ACE_HEADER, bodyLength);
    aces.push({ type, flags: u8(buf, offset + pos + 1), mask: u32(buf, offset + pos + 4), body });
    pos += aceSize;
  }
  return {
    revision: u8(buf, offset),
    pad1: u8(buf, offset + 1),
    size: u16(buf, offset + 2),
    pad2: u16(buf, offset + 6),
    aces,
    trailing: copyBytes(buf, offset + pos, size - pos),
  };
}

export function encodeAcl(acl: Acl): Buffer {
  const acesLength = acl.aces.reduce((sum, ace) => sum + ACE_HEADER + aceBodyLength(ace), 0);
  const out = Buffer.alloc(ACL_HEADER + acesLength + acl.trailing.length);
  put8(out, 0, acl.revision);
  put8(out, 1, acl.pad1 ?? 0);
  put16(out, 2, acl.size ?? ACL_HEADER + acesLength);
  put16(out, 4, acl.aces.length);
  put16(out, 6, acl.pad2 ?? 0);
  let pos = ACL_HEADER;
  for (const ace of acl.aces) {
    const aceSize = ACE_HEADER + aceBodyLength(ace);
    put8(out, pos, ace.type);
    put8(out, pos + 1, ace.flags);
    put16(out, pos + 2, aceSize);
    put32(out, pos + 4, ace.mask);
    if (Buffer.isBuffer(ace.body)) ace.body.copy(out, pos + ACE_HEADER);
    else writeSid(out, pos + ACE_HEADER, ace.body);
    pos += aceSize;
  }
  acl.trailing.copy(out, pos);
  return out;
}

function decodeAclField(buf: Buffer, offset: number, size: number): AclField {
  if (!size) return null;
  return parseAcl(buf, offset, size) ?? malformed(buf.subarray(offset, offset + size));
}

function encodeAclField(value: AclField): Buffer {
  if (value === null) return Buffer.alloc(0);
  return isMalformed(value) ? Buffer.from(value.bytes) : encodeAcl(value);
}

const sampleAcls = (): Acl[] => [
  { revision: 2, aces: [], trailing: Buffer.alloc(0) },
  {
    revision: 2,
    aces: [
      { type: 0, flags: 0, mask: 0x1f01ff, body: WELL_KNOWN.system },
      { type: 0, flags: 3, mask: 0x120089, body: WELL_KNOWN.administrators },
      { type: 1, flags: 0x10, mask: 0x10000000, body: WELL_KNOWN.everyone },
      { type: 2, flags: 0xc0, mask: 1, body: WELL_KNOWN.user },
      { type: 3, flags: 0, mask: 2, body: WELL_KNOWN.user },
      { type: 0x11, flags: 0, mask: 1, body: WELL_KNOWN.mediumLabel },
      { type: 5, flags: 0, mask: 0xffffffff, body: Buffer.from([1, 2, 3, 4, 5]) },
      { type: 0, flags: 0, mask: 0, body: Buffer.from([1, 9]) },
    ],
    trailing: Buffer.from([0, 0, 0, 0]),
  },
];

export const aclKind: VarargKind<AclField> = {
  kind: 'acl',
  decode: (buf, offset, available) => ({ value: decodeAclField(buf, offset, available), size: available }),
  encode: encodeAclField,
  format(value) {
    const bytes = encodeAclField(value);
    return traceAcl(bytes, 0, bytes.length);
  },
  samples: () => [
    null,
    ...sampleAcls(),
    malformed(Buffer.from([2, 0, 8, 0])),
    malformed(Buffer.from([2, 0, 16, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])),
    malformed(Buffer.from([2, 0, 16, 0, 2, 0, 0, 0, 0, 0, 200, 0, 1, 0, 0, 0])),
  ],
};

// ---- security_descriptor vararg ----

export interface SecurityDescriptor {
  control: number;
  owner: Sid | Malformed | null;
  group: Sid | Malformed | null;
  sacl: AclField;
  dacl: AclField;
  /** Bytes after the dacl. */
  trailing: Buffer;
}

export type SecurityDescriptorField = SecurityDescriptor | Malformed;

function decodeSidPart(buf: Buffer, offset: number, size: number): Sid | Malformed | null {
  if (!size) return null;
  const sid = parseSid(buf, offset, size);
  return sid && sidLength(sid) === size ? sid : malformed(buf.subarray(offset, offset + size));
}

const encodeSidPart = (part: Sid | Malformed | null): Buffer =>
  part === null ? Buffer.alloc(0) : isMalformed(part) ? Buffer.from(part.bytes) : encodeSid(part);

/** Decodes a security descriptor occupying `size` bytes; a descriptor whose lengths do not fit stays Malformed. */
export function decodeSecurityDescriptor(buf: Buffer, offset: number, size: number): SecurityDescriptorField {
  if (size < SD_HEADER) return malformed(buf.subarray(offset, offset + size));
  const lengths = [4, 8, 12, 16].map((o) => u32(buf, offset + o));
  let pos = SD_HEADER;
  const starts: number[] = [];
  for (const length of lengths) {
    if (length > size - pos) return malformed(buf.subarray(offset, offset + size));
    starts.push(pos);
    pos += length;
  }
  return {
    control: u32(buf, offset),
    owner: decodeSidPart(buf, offset + starts[0], lengths[0]),
    group: decodeSidPart(buf, offset + starts[1], lengths[1]),
    sacl: decodeAclField(buf, offset + starts[2], lengths[2]),
    dacl: decodeAclField(buf, offset + starts[3], lengths[3]),
    trailing: copyBytes(buf, offset + pos, size - pos),
  };
}

export function encodeSecurityDescriptor(value: SecurityDescriptorField): Buffer {
  if (isMalformed(value)) return Buffer.from(value.bytes);
  const parts = [encodeSidPart(value.owner), encodeSidPart(value.group), encodeAclField(value.sacl), encodeAclField(value.dacl)];
  const header = Buffer.alloc(SD_HEADER);
  put32(header, 0, value.control);
  parts.forEach((part, i) => put32(header, 4 + 4 * i, part.length));
  return Buffer.concat([header, ...parts, value.trailing]);
}

export function formatSecurityDescriptor(value: SecurityDescriptorField): string {
  const bytes = encodeSecurityDescriptor(value);
  return traceSecurityDescriptor(bytes, 0, bytes.length);
}

export function sampleSecurityDescriptors(): SecurityDescriptorField[] {
  const [emptyAcl, fullAcl] = sampleAcls();
  return [
    { control: 0, owner: null, group: null, sacl: null, dacl: null, trailing: Buffer.alloc(0) },
    { control: 0x8004, owner: WELL_KNOWN.administrators, group: WELL_KNOWN.system, sacl: null, dacl: emptyAcl, trailing: Buffer.alloc(0) },
    { control: 0x14, owner: WELL_KNOWN.user, group: WELL_KNOWN.user, sacl: fullAcl, dacl: fullAcl, trailing: Buffer.from([0xee]) },
    { control: 4, owner: malformed(Buffer.from([1, 5, 0])), group: null, sacl: malformed(Buffer.from([1, 2, 3])), dacl: null, trailing: Buffer.alloc(0) },
    malformed(Buffer.alloc(0)),
    malformed(Buffer.from([4, 0, 0, 0, 0xff, 0xff, 0, 0])),
    malformed(Buffer.from([4, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1])),
  ];
}

export const securityDescriptorKind: VarargKind<SecurityDescriptorField | null> = {
  kind: 'security_descriptor',
  decode: (buf, offset, available) => ({ value: available ? decodeSecurityDescriptor(buf, offset, available) : null, size: available }),
  encode: (value) => (value === null ? Buffer.alloc(0) : encodeSecurityDescriptor(value)),
  format: (value) => (value === null ? '{}' : formatSecurityDescriptor(value)),
  samples: () => [null, ...sampleSecurityDescriptors().filter((sd) => !(isMalformed(sd) && sd.bytes.length === 0))],
};
