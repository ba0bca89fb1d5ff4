// The binary record a registry key keeps in its primitive object's data
// (docs/registry.md, "Storage"), and the subkey list kept beside it.
//
// regkey:<id> holds what wineserver keeps in its `struct key` except the
// subkeys: a fixed 24-byte header (so path resolution reads only that), the
// key's own name, its class and its values, sorted the way wineserver sorts
// them. Layout, little-endian:
//   u32 magic 'rgk1'   u32 self id   u32 parent id (0: \REGISTRY)   u32 flags
//   i64 modif (100 ns since 1601; at offset 16, rewritten in place on a touch)
//   u32 name bytes, name (UTF-16LE, as created or renamed)
//   u32 class bytes + 1 (0: no class at all), class
//   u32 value count, then per value: u32 name bytes, name, u32 type, u32 data bytes, data
//
// regsub:<id> holds the subkeys, sorted like wineserver's array, each with
// the length of its class so KeyFullInformation's max_class needs no extra
// read: u32 count, then per subkey: u32 id, u32 class bytes, u32 name bytes, name.

import { WinekernelError } from '../../errors/winekernel-error.ts';

/** A primitive object that is not a well-formed key record (a broken instance, never a client error). */
export class RegistryStoreError extends WinekernelError<'WK_REGISTRY_STORE'> {
  constructor(message: string) {
    super('WK_REGISTRY_STORE', message);
  }
}

/** Key flags, with wineserver's meanings (KEY_VOLATILE ... KEY_PREDEF in server/registry.c). */
export const KEY_FLAG = {
  VOLATILE: 0x0001,
  DELETED: 0x0002,
  SYMLINK: 0x0008,
  WOWSHARE: 0x0010,
  PREDEF: 0x0020,
} as const;

export interface KeyValue {
  /** UTF-16LE, even length, up to 16383 units. Empty = the default value. */
  name: Buffer;
  type: number;
  data: Buffer;
}

export interface SubkeyEntry {
  id: number;
  /** UTF-16LE, as created (1..256 units). */
  name: Buffer;
  classLength: number;
}

export interface KeyRecord {
  id: number;
  parent: number;
  flags: number;
  modif: bigint;
  name: Buffer;
  /** null: the key has no class (wineserver's NULL class pointer). */
  klass: Buffer | null;
  values: KeyValue[];
}

export interface KeyHeader {
  id: number;
  parent: number;
  flags: number;
  modif: bigint;
}

export const KEY_HEADER_SIZE = 24;
export const MODIF_OFFSET = 16;

const MAGIC = 0x316b6772; // 'rgk1'

export function encodeKeyRecord(record: KeyRecord): Buffer {
  let size = KEY_HEADER_SIZE + 4 + record.name.length + 4 + (record.klass?.length ?? 0) + 4;
  for (const v of record.values) size += 12 + v.name.length + v.data.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  const u32 = (v: number) => {
    out.writeUInt32LE(v >>> 0, at);
    at += 4;
  };
  const bytes = (b: Buffer) => {
    b.copy(out, at);
    at += b.length;
  };
  u32(MAGIC);
  u32(record.id);
  u32(record.parent);
  u32(record.flags);
  out.writeBigInt64LE(record.modif, at);
  at += 8;
  u32(record.name.length);
  bytes(record.name);
  u32(record.klass === null ? 0 : record.klass.length + 1);
  if (record.klass) bytes(record.klass);
  u32(record.values.length);
  for (const v of record.values) {
    u32(v.name.length);
    bytes(v.name);
    u32(v.type);
    u32(v.data.length);
    bytes(v.data);
  }
  return out;
}

export function decodeKeyHeader(data: Buffer, where: string): KeyHeader {
  if (data.length < KEY_HEADER_SIZE || data.readUInt32LE(0) !== MAGIC) throw new RegistryStoreError(`${where}: not a winekernel key record`);
  return { id: data.readUInt32LE(4), parent: data.readUInt32LE(8), flags: data.readUInt32LE(12), modif: data.readBigInt64LE(MODIF_OFFSET) };
}

export function encodeSubkeys(list: readonly SubkeyEntry[]): Buffer {
  let size = 4;
  for (const s of list) size += 12 + s.name.length;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32LE(list.length, 0);
  let at = 4;
  for (const s of list) {
    out.writeUInt32LE(s.id, at);
    out.writeUInt32LE(s.classLength, at + 4);
    out.writeUInt32LE(s.name.length, at + 8);
    s.name.copy(out, at + 12);
    at += 12 + s.name.length;
  }
  return out;
}

export function decodeSubkeys(data: Buffer, where: string): SubkeyEntry[] {
  if (data.length < 4) throw new RegistryStoreError(`${where}: subkey list of ${data.length} bytes`);
  const count = data.readUInt32LE(0);
  const list: SubkeyEntry[] = [];
  let at = 4;
  for (let i = 0; i < count; i++) {
    if (at + 12 > data.length) throw new RegistryStoreError(`${where}: subkey list truncated`);
    const len = data.readUInt32LE(at + 8);
    if (at + 12 + len > data.length) throw new RegistryStoreError(`${where}: subkey list truncated`);
    list.push({ id: data.readUInt32LE(at), classLength: data.readUInt32LE(at + 4), name: Buffer.from(data.subarray(at + 12, at + 12 + len)) });
    at += 12 + len;
  }
  if (at !== data.length) throw new RegistryStoreError(`${where}: trailing bytes after the subkey list`);
  return list;
}

export function decodeKeyRecord(data: Buffer, where: string): KeyRecord {
  let at = 0;
  const need = (n: number) => {
    if (at + n > data.length) throw new RegistryStoreError(`${where}: key record truncated at byte ${at} of ${data.length}`);
  };
  const u32 = () => {
    need(4);
    const v = data.readUInt32LE(at);
    at += 4;
    return v;
  };
  const bytes = (n: number) => {
    need(n);
    const b = Buffer.from(data.subarray(at, at + n));
    at += n;
    return b;
  };
  if (u32() !== MAGIC) throw new RegistryStoreError(`${where}: not a winekernel key record`);
  const id = u32();
  const parent = u32();
  const flags = u32();
  need(8);
  const modif = data.readBigInt64LE(at);
  at += 8;
  const name = bytes(u32());
  const classTag = u32();
  const klass = classTag === 0 ? null : bytes(classTag - 1);
  const valueCount = u32();
  const values: KeyValue[] = [];
  for (let i = 0; i < valueCount; i++) {
    const vname = bytes(u32());
    const type = u32();
    values.push({ name: vname, type, data: bytes(u32()) });
  }
  if (at !== data.length) throw new RegistryStoreError(`${where}: ${data.length - at} trailing bytes after the key record`);
  return { id, parent, flags, modif, name, klass, values };
}
