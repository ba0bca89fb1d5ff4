// Records, names and constants of the object namespace on the primitives
// (the layout is described in store.ts and docs/object-namespace.md).

import { createHash } from 'node:crypto';
import { WinekernelError } from '../../errors/winekernel-error.ts';
import { WK_NAME_MAX } from '../../backends/primitives.ts';
import { unitsToNameBytes, wineCaseMap } from '../casemap.ts';

export const STATUS_OBJECT_NAME_EXISTS = 0x40000000;
export const STATUS_NO_MORE_ENTRIES = 0x8000001a;
export const STATUS_BUFFER_TOO_SMALL = 0xc0000023;
export const STATUS_OBJECT_TYPE_MISMATCH = 0xc0000024;
export const STATUS_OBJECT_PATH_NOT_FOUND = 0xc000003a;
export const STATUS_OBJECT_PATH_SYNTAX_BAD = 0xc000003b;

export const OBJ_INHERIT = 0x02;
export const OBJ_PERMANENT = 0x10;
export const OBJ_OPENIF = 0x80;
export const OBJ_CASE_INSENSITIVE = 0x40;
export const OBJ_OPENLINK = 0x100;

/** The handle flag bits wineserver keeps in the access mask (never grantable). */
export const RESERVED_ALL = 0x0c000000;
/** How many symbolic links one lookup may follow, nested. */
export const MAX_LINK_DEPTH = 32;

export const KIND_DIRECTORY = 1;
export const KIND_SYMLINK = 2;
/** An object of another type (an event, a device, ...): only its name and security live here. */
export const KIND_OTHER = 3;

export const FLAG_PERMANENT = 0x1;
/** A symbolic link without target: "\??\GLOBALROOT", which leads to "\". */
export const FLAG_ROOT_LINK = 0x2;
export const FLAG_HAS_SD = 0x4;

export const META_NAME = 'ntns:meta';
export const ROOT_NAME = 'ntns:root';
export const META_MAGIC = 0x316e6b77; // 'wkn1'
const RECORD_MAGIC = 0x31656b77; // 'wke1'
const RECORD_HEADER = 40;
export const ROOT_DIR_ID = 1;
export const DEFAULT_HASH_SIZE = 7;

/** A primitive call failed in a way no Wine status describes (a broken instance, not a client error). */
export class NamespaceStoreError extends WinekernelError<'WK_NAMESPACE_STORE'> {
  constructor(message: string) {
    super('WK_NAMESPACE_STORE', message);
  }
}

export interface EntryRecord {
  kind: number;
  /** For directories, the id naming their entries' primitive namespace. */
  dirId: number;
  /** Insertion sequence, unique in the instance (the root is 0): identity and listing order. */
  seq: number;
  flags: number;
  hashSize: number;
  /** The name as created (UTF-16 units in a JS string); '' for the root and unnamed objects. */
  name: string;
  type: string;
  /** Symbolic link target (UTF-16LE bytes). */
  target: Buffer;
  /** The NT security descriptor, or null (wineserver gives objects created without one none). */
  sd: Buffer | null;
}

/** An entry as a lookup found it. */
export interface NsNode {
  record: EntryRecord;
  /** The primitive name of the entry's object. */
  primName: Buffer;
  /** The temporary-or-not directories above it, root first (what keeps it reachable). */
  chain: NsNode[];
}

// ---------------------------------------------------------------------------
// Records and names

export function encodeRecord(r: EntryRecord): Buffer {
  const name = Buffer.from(r.name, 'utf16le');
  const type = Buffer.from(r.type, 'utf16le');
  const sd = r.sd ?? Buffer.alloc(0);
  const out = Buffer.alloc(RECORD_HEADER + name.length + type.length + r.target.length + sd.length);
  const flags = (r.flags & ~FLAG_HAS_SD) | (r.sd ? FLAG_HAS_SD : 0);
  [RECORD_MAGIC, r.kind, r.dirId, r.seq, flags, r.hashSize, name.length, type.length, r.target.length, sd.length].forEach((v, i) => out.writeUInt32LE(v >>> 0, i * 4));
  let at = RECORD_HEADER;
  for (const part of [name, type, r.target, sd]) {
    part.copy(out, at);
    at += part.length;
  }
  return out;
}

export function decodeRecord(data: Buffer, where: string): EntryRecord {
  if (data.length < RECORD_HEADER || data.readUInt32LE(0) !== RECORD_MAGIC) throw new NamespaceStoreError(`${where}: not a namespace record`);
  const word = (i: number) => data.readUInt32LE(i * 4);
  const lengths = [word(6), word(7), word(8), word(9)];
  if (RECORD_HEADER + lengths.reduce((a, b) => a + b, 0) !== data.length) throw new NamespaceStoreError(`${where}: record lengths do not match`);
  let at = RECORD_HEADER;
  const parts = lengths.map((n) => {
    const part = Buffer.from(data.subarray(at, at + n));
    at += n;
    return part;
  });
  const flags = word(4);
  return {
    kind: word(1),
    dirId: word(2),
    seq: word(3),
    flags,
    hashSize: word(5),
    name: parts[0].toString('utf16le'),
    type: parts[1].toString('utf16le'),
    target: parts[2],
    sd: flags & FLAG_HAS_SD ? parts[3] : null,
  };
}

/** The exact name as key bytes (see the header). */
function nameKey(name: string): Buffer {
  return unitsToNameBytes(name.length, (i) => name.charCodeAt(i));
}

/** The name a key stands for, or null for a hashed key (read the record). */
export function keyName(key: Buffer): string | null {
  if (key[0] === 0xff) return null;
  let out = '';
  for (let i = 0; i < key.length; ) {
    const b = key[i];
    if (b < 0x80) {
      out += String.fromCharCode(b);
      i += 1;
    } else if (b < 0xe0) {
      out += String.fromCharCode(((b & 0x1f) << 6) | (key[i + 1] & 0x3f));
      i += 2;
    } else {
      out += String.fromCharCode(((b & 0x0f) << 12) | ((key[i + 1] & 0x3f) << 6) | (key[i + 2] & 0x3f));
      i += 3;
    }
  }
  return out;
}

export const dirNamespace = (dirId: number) => `ntd.${dirId.toString(16)}`;

export function entryPrimName(dirId: number, name: string): Buffer {
  const prefix = Buffer.from(`${dirNamespace(dirId)}:`, 'latin1');
  let key = nameKey(name);
  if (prefix.length + key.length > WK_NAME_MAX) {
    key = Buffer.concat([Buffer.from([0xff]), Buffer.from(createHash('sha256').update(key).digest('hex'), 'latin1')]);
  }
  return Buffer.concat([prefix, key]);
}

/** wineserver's bucket of a name in a directory of `hashSize` buckets. */
export function nameBucket(name: string, hashSize: number): number {
  const map = wineCaseMap();
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (Math.imul(hash, 65599) + map.lower(name.charCodeAt(i))) >>> 0;
  return hash % hashSize;
}

export function sameFolded(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const map = wineCaseMap();
  for (let i = 0; i < a.length; i++) if (map.lower(a.charCodeAt(i)) !== map.lower(b.charCodeAt(i))) return false;
  return true;
}

