// The registry tree on the primitives (docs/registry.md): keys, their
// subkey lists and the by-name index, read and changed under one lock.
//
// Objects of one instance:
//   registry:tree        the tree's anchor and lock: magic, root key id, the
//                        prefix architecture (#arch of the .reg files) and a
//                        change counter (bumped by every change to a
//                        non-volatile key; the saver compares it). Every
//                        operation holds its lock, shared to read and
//                        exclusive to change, so proxies and processes
//                        sharing the instance see one tree, as wineserver's
//                        single thread gives one order.
//   regkey:<id>          a key (record.ts); <id> is the 8-hex-digit name the
//                        backend assigns (object_create of bare "regkey").
//   regsub:<id>          the key's sorted subkey list.
//   regname:<parent>\<f> the index: the id of <parent>'s subkey whose folded
//                        name is <f> (names.ts foldedKey), so a path resolves
//                        one element with one open and a 4-byte read instead
//                        of reading the parent's whole subkey list.
// All are permanent: keys live until deleted, as in wineserver. A deleted key
// loses its names (index entry, regkey, regsub) but lives on through open
// handles, with KEY_FLAG.DELETED in its record, so those handles answer
// STATUS_KEY_DELETED.

import {
  WK_CREATE_OPEN_EXISTING,
  WK_CREATE_PERMANENT,
  WK_EOWNERDEAD,
  WK_ENOENT,
  WK_ERANGE,
  WK_LOCK_EXCLUSIVE,
  WK_LOCK_SHARED,
  WK_SETDATA_TRUNCATE,
  parseNameList,
  readName,
  type Session,
} from '../../backends/primitives.ts';
import { wineCaseMap, type CaseMap } from '../casemap.ts';
import {
  decodeKeyHeader,
  decodeKeyRecord,
  decodeSubkeys,
  encodeKeyRecord,
  encodeSubkeys,
  KEY_FLAG,
  KEY_HEADER_SIZE,
  MODIF_OFFSET,
  RegistryStoreError,
  type KeyHeader,
  type KeyRecord,
  type SubkeyEntry,
} from './record.ts';
import { compareNames, foldedKey, pathElementLength, sameName, searchSorted, utf16 } from './names.ts';
import * as S from './status.ts';

const TREE_NAME = 'registry:tree';
const TREE_MAGIC = 0x31657274; // 'tre1'
const TREE_SIZE = 16;
export const OBJ_INHERIT = 0x02;
export const OBJ_PERMANENT = 0x10;
export const OBJ_CASE_INSENSITIVE = 0x40;
export const OBJ_OPENIF = 0x80;
export const OBJ_OPENLINK = 0x100;
export const REG_OPTION_VOLATILE = 0x1;
export const REG_OPTION_CREATE_LINK = 0x2;
export const REG_LINK = 6;
/** wineserver's MAX_NAME_LEN (units of one path element) and MAX_VALUE_LEN. */
export const MAX_KEY_NAME_UNITS = 256;
export const MAX_VALUE_NAME_UNITS = 16383;
/** How deep symbolic links may nest (wineserver's recursion_count limit). */
const MAX_LINK_DEPTH = 32;

export const SYMLINK_VALUE = utf16('SymbolicLinkValue');
const REGISTRY_NAME = utf16('REGISTRY');
const BACKSLASH = 0x5c;

export type Arch = 'unknown' | 'win32' | 'win64';
const ARCH_CODES: Arch[] = ['unknown', 'win32', 'win64'];

/** 100 ns ticks between 1601-01-01 and 1970-01-01. */
export const TICKS_1601_TO_1970 = 116444736000000000n;
export const TICKS_PER_SEC = 10000000n;

/** The current time as wineserver keeps it (100 ns since 1601). */
export function systemTime(): bigint {
  return BigInt(Date.now()) * 10000n + TICKS_1601_TO_1970;
}

export interface RegistryOptions {
  /** The clock for last-write times (default: the system clock). */
  now?: () => bigint;
  map?: CaseMap;
}

const hex8 = (id: number) => id.toString(16).padStart(8, '0');
const keyName = (id: number) => `regkey:${hex8(id)}`;
const subName = (id: number) => `regsub:${hex8(id)}`;
const indexName = (parent: number, name: Buffer, map: CaseMap) => Buffer.concat([Buffer.from(`regname:${hex8(parent)}\\`), foldedKey(name, map)]);

function readAll(session: Session, handle: number, where: string): Buffer {
  const size = session.size(handle);
  if (size < 0) throw new RegistryStoreError(`${where}: size failed (${size})`);
  const buf = Buffer.allocUnsafe(size);
  const got = session.getdata(handle, buf, 0);
  if (got < 0) throw new RegistryStoreError(`${where}: getdata failed (${got})`);
  return buf.subarray(0, got);
}

function check(result: number, what: string): number {
  if (result < 0) throw new RegistryStoreError(`${what} failed (${result})`);
  return result;
}

/** Where a path led: a key and what is left of the path (one element, or empty). */
export interface Resolution {
  /** 0, or the status wineserver's lookup fails with. */
  status: number;
  /** On success: the last key reached. */
  key?: KeyHeader;
  /** On success: the element left over (empty when `key` is the key named). */
  left?: Buffer;
  /** The path names the object root directory itself (not a key). */
  directory?: boolean;
}

interface Cached {
  handle: number;
  owned: boolean;
  header: KeyHeader;
  record?: KeyRecord;
  recordDirty?: boolean;
  subkeys?: SubkeyEntry[];
  subkeysDirty?: boolean;
  modifDirty?: boolean;
  unlinkAfterCommit?: boolean;
}

/**
 * One operation on the tree, under the tree lock. Records are read lazily
 * (header, full record, subkey list) and written back by commit().
 */
export class RegistryTx {
  private readonly cache = new Map<number, Cached>();
  changed = false;

  constructor(
    readonly session: Session,
    readonly map: CaseMap,
    readonly now: bigint,
    readonly rootId: number,
    private readonly treeHandle: number,
  ) {}

  // -- reading

  private entry(id: number): Cached {
    let cached = this.cache.get(id);
    if (cached) return cached;
    const handle = this.session.open(keyName(id));
    if (handle < 0) throw new RegistryStoreError(`opening ${keyName(id)} failed (${handle})`);
    const head = Buffer.alloc(KEY_HEADER_SIZE);
    check(this.session.getdata(handle, head, 0), `reading ${keyName(id)}`);
    cached = { handle, owned: true, header: decodeKeyHeader(head, keyName(id)) };
    this.cache.set(id, cached);
    return cached;
  }

  /** The header of the key a primitive handle (of a proxy key handle) names, deleted or not. */
  headerByHandle(primitive: number): KeyHeader {
    const head = Buffer.alloc(KEY_HEADER_SIZE);
    const got = this.session.getdata(primitive, head, 0);
    if (got < 0) throw new RegistryStoreError(`reading a key through its handle failed (${got})`);
    const header = decodeKeyHeader(head, 'key handle');
    const cached = this.cache.get(header.id);
    if (cached) return cached.header;
    this.cache.set(header.id, { handle: primitive, owned: false, header });
    return header;
  }

  header(id: number): KeyHeader {
    return this.entry(id).header;
  }

  record(id: number): KeyRecord {
    const cached = this.entry(id);
    if (!cached.record) {
      cached.record = decodeKeyRecord(readAll(this.session, cached.handle, keyName(id)), keyName(id));
      cached.record.flags = cached.header.flags;
      cached.record.modif = cached.header.modif;
    }
    return cached.record;
  }

  subkeys(id: number): SubkeyEntry[] {
    const cached = this.entry(id);
    if (!cached.subkeys) {
      if (cached.header.flags & KEY_FLAG.DELETED) return (cached.subkeys = []);
      const h = this.session.open(subName(id));
      if (h < 0) throw new RegistryStoreError(`opening ${subName(id)} failed (${h})`);
      try {
        cached.subkeys = decodeSubkeys(readAll(this.session, h, subName(id)), subName(id));
      } finally {
        this.session.close(h);
      }
    }
    return cached.subkeys;
  }

  /** The subkey of `parent` named `name` (case-insensitively), by the index. */
  findSubkey(parent: number, name: Buffer): number {
    if (!name.length) return 0;
    const cached = this.cache.get(parent);
    if (cached?.subkeys) {
      const at = searchSorted(cached.subkeys, name, (s) => s.name, this.map);
      return at >= 0 ? cached.subkeys[at].id : 0;
    }
    const h = this.session.open(indexName(parent, name, this.map));
    if (h === -WK_ENOENT) return 0;
    if (h < 0) throw new RegistryStoreError(`opening a registry index entry failed (${h})`);
    try {
      const data = Buffer.alloc(4);
      if (this.session.getdata(h, data, 0) !== 4) throw new RegistryStoreError('registry index entry is not 4 bytes');
      return data.readUInt32LE(0);
    } finally {
      this.session.close(h);
    }
  }

  findValue(id: number, name: Buffer): number {
    return searchSorted(this.record(id).values, name, (v) => v.name, this.map);
  }

  /** The key's full name, as get_full_name gives it: \REGISTRY\Machine\... */
  fullName(id: number): Buffer {
    const parts: Buffer[] = [];
    for (let at = id; at; ) {
      const record = this.record(at);
      parts.unshift(record.name);
      parts.unshift(utf16('\\'));
      at = record.parent;
    }
    return Buffer.concat(parts);
  }

  // -- changing

  /** Marks the key's record (name, class, values, flags) to be written back. */
  touchRecord(id: number): KeyRecord {
    const cached = this.entry(id);
    this.record(id);
    cached.recordDirty = true;
    return cached.record!;
  }

  private setSubkeys(id: number, list: SubkeyEntry[]): void {
    const cached = this.entry(id);
    cached.subkeys = list;
    cached.subkeysDirty = true;
  }

  /** wineserver's touch_key: a new last-write time (notifications are the caller's). */
  touch(id: number): void {
    const cached = this.entry(id);
    cached.header.modif = this.now;
    if (cached.record) cached.record.modif = this.now;
    cached.modifDirty = true;
    this.noteChange(id);
  }

  /** Sets a key's last-write time (the loader's update_key_time). */
  setModif(id: number, modif: bigint): void {
    const cached = this.entry(id);
    cached.header.modif = modif;
    if (cached.record) cached.record.modif = modif;
    cached.modifDirty = true;
  }

  /** Counts a change for the saver unless it is to a volatile key. */
  noteChange(id: number): void {
    if (!(this.header(id).flags & KEY_FLAG.VOLATILE)) this.changed = true;
  }

  /** Creates a subkey; the caller checked that none of that name exists. */
  createSubkey(parent: number, name: Buffer, flags: number, modif: bigint, klass: Buffer | null = null): KeyHeader {
    const handle = check(this.session.create('regkey', Buffer.alloc(0), WK_CREATE_PERMANENT), 'creating a key object');
    const full = readName(this.session, handle);
    if (typeof full === 'number') throw new RegistryStoreError(`reading a new key's name failed (${full})`);
    const id = parseInt(full.toString('latin1').slice('regkey:'.length), 16);
    const record: KeyRecord = { id, parent, flags, modif, name: Buffer.from(name), klass, values: [] };
    check(this.session.setdata(handle, encodeKeyRecord(record), 0, WK_SETDATA_TRUNCATE), 'writing a new key');
    const sub = check(this.session.create(subName(id), encodeSubkeys([]), WK_CREATE_PERMANENT), `creating ${subName(id)}`);
    this.session.close(sub);
    const header: KeyHeader = { id, parent, flags, modif };
    this.cache.set(id, { handle, owned: true, header, record, subkeys: [] });
    if (parent) {
      const idx = Buffer.alloc(4);
      idx.writeUInt32LE(id, 0);
      const ih = check(this.session.create(indexName(parent, name, this.map), idx, WK_CREATE_PERMANENT), 'creating a registry index entry');
      this.session.close(ih);
      const list = [...this.subkeys(parent)];
      const at = searchSorted(list, name, (s) => s.name, this.map);
      list.splice(at >= 0 ? at : -at - 1, 0, { id, name: Buffer.from(name), classLength: klass?.length ?? 0 });
      this.setSubkeys(parent, list);
    }
    this.noteChange(id);
    return header;
  }

  /** Replaces a key's class, keeping the parent's subkey entry in step. */
  setClass(id: number, klass: Buffer | null): void {
    const record = this.touchRecord(id);
    record.klass = klass;
    if (record.parent) {
      const list = this.subkeys(record.parent);
      const at = searchSorted(list, record.name, (s) => s.name, this.map);
      if (at >= 0 && list[at].id === id && list[at].classLength !== (klass?.length ?? 0)) {
        const copy = [...list];
        copy[at] = { ...copy[at], classLength: klass?.length ?? 0 };
        this.setSubkeys(record.parent, copy);
      }
    }
    this.noteChange(id);
  }

  /** Sets flags on a key (KEY_FLAG bits). */
  setFlags(id: number, flags: number): void {
    const record = this.touchRecord(id);
    record.flags = flags;
    this.entry(id).header.flags = flags;
  }

  /** Removes a key without subkeys from the tree (it lives on through open handles). */
  unlinkKey(id: number): void {
    const record = this.record(id);
    const parent = record.parent;
    this.setFlags(id, record.flags | KEY_FLAG.DELETED);
    this.noteChange(parent || id);
    const list = [...this.subkeys(parent)];
    const at = searchSorted(list, record.name, (s) => s.name, this.map);
    if (at >= 0) list.splice(at, 1);
    this.setSubkeys(parent, list);
    this.unlinkByName(indexName(parent, record.name, this.map));
    this.unlinkByName(subName(id));
    const cached = this.entry(id);
    cached.subkeys = [];
    cached.subkeysDirty = false;
    // The record is written (with DELETED) by commit() through the handle we hold, then the name goes.
    cached.unlinkAfterCommit = true;
  }

  /** Gives a key a new name among its siblings (the caller checked the name is free). */
  renameKey(id: number, name: Buffer): void {
    const record = this.touchRecord(id);
    const parent = record.parent;
    const list = [...this.subkeys(parent)];
    const old = searchSorted(list, record.name, (s) => s.name, this.map);
    const entry = old >= 0 ? list.splice(old, 1)[0] : { id, classLength: record.klass?.length ?? 0, name };
    this.unlinkByName(indexName(parent, record.name, this.map));
    record.name = Buffer.from(name);
    const at = searchSorted(list, name, (s) => s.name, this.map);
    list.splice(at >= 0 ? at : -at - 1, 0, { ...entry, name: Buffer.from(name) });
    this.setSubkeys(parent, list);
    const idx = Buffer.alloc(4);
    idx.writeUInt32LE(id, 0);
    const ih = check(this.session.create(indexName(parent, name, this.map), idx, WK_CREATE_PERMANENT), 'creating a registry index entry');
    this.session.close(ih);
  }

  private unlinkByName(name: string | Buffer): void {
    const h = this.session.open(name);
    if (h === -WK_ENOENT) return;
    check(h, 'opening a registry object to unlink');
    this.session.unlink(h);
    this.session.close(h);
  }

  /** A new primitive handle to a key's object, for a proxy handle. */
  openKeyObject(id: number): number {
    return this.session.open(keyName(id));
  }

  /** Writes every change back and closes the handles this operation opened. */
  commit(): void {
    for (const [id, c] of this.cache) {
      if (c.recordDirty && c.record) {
        c.record.flags = c.header.flags;
        c.record.modif = c.header.modif;
        check(this.session.setdata(c.handle, encodeKeyRecord(c.record), 0, WK_SETDATA_TRUNCATE), `writing ${keyName(id)}`);
      } else if (c.modifDirty) {
        const t = Buffer.alloc(8);
        t.writeBigInt64LE(c.header.modif, 0);
        check(this.session.setdata(c.handle, t, MODIF_OFFSET, 0), `writing the time of ${keyName(id)}`);
      }
      if (c.subkeysDirty && c.subkeys) {
        const h = check(this.session.open(subName(id)), `opening ${subName(id)}`);
        try {
          check(this.session.setdata(h, encodeSubkeys(c.subkeys), 0, WK_SETDATA_TRUNCATE), `writing ${subName(id)}`);
        } finally {
          this.session.close(h);
        }
      }
      if (c.unlinkAfterCommit && c.owned) this.session.unlink(c.handle);
      else if (c.unlinkAfterCommit) this.unlinkByName(keyName(id));
    }
    if (this.changed) {
      const gen = Buffer.alloc(4);
      check(this.session.getdata(this.treeHandle, gen, 12), 'reading the registry change counter');
      gen.writeUInt32LE((gen.readUInt32LE(0) + 1) >>> 0, 0);
      check(this.session.setdata(this.treeHandle, gen, 12, 0), 'writing the registry change counter');
    }
    this.release();
  }

  release(): void {
    for (const c of this.cache.values()) if (c.owned) this.session.close(c.handle);
    this.cache.clear();
  }

  // -- path resolution (wineserver's lookup_named_object + key_lookup_name)

  /**
   * Follows `name` from `start` (a key; null: the object root directory, so
   * the name must be absolute) as wineserver's lookup does: subkeys matched
   * case-insensitively, runs of backslashes after an element skipped,
   * symbolic-link keys followed (unless the link is the last element and
   * OBJ_OPENLINK is set). Stops at the last existing key, leaving at most
   * one element (the one create_key would create).
   */
  resolve(start: KeyHeader | null, name: Buffer, attributes: number, depth = 0): Resolution {
    if (depth > MAX_LINK_DEPTH) return { status: S.STATUS_INVALID_PARAMETER };
    let cur: KeyHeader;
    let rest: Buffer | null;
    if (start) {
      if (name.length >= 2 && name.readUInt16LE(0) === BACKSLASH) return { status: S.STATUS_OBJECT_PATH_SYNTAX_BAD };
      if (name.length < 2) return { status: 0, key: start, left: Buffer.alloc(0) };
      cur = start;
      rest = name;
    } else {
      if (name.length < 2 || name.readUInt16LE(0) !== BACKSLASH) return { status: S.STATUS_OBJECT_PATH_SYNTAX_BAD };
      const path = name.subarray(2);
      if (path.length < 2) return { status: 0, directory: true };
      const elem = path.subarray(0, pathElementLength(path));
      const isRegistry = attributes & OBJ_CASE_INSENSITIVE ? sameName(elem, REGISTRY_NAME, this.map) : elem.equals(REGISTRY_NAME);
      if (!isRegistry) {
        // Another entry of the object root directory: that namespace is not ours.
        if (!elem.length) return { status: S.STATUS_OBJECT_NAME_INVALID };
        return { status: S.STATUS_NOT_SUPPORTED };
      }
      cur = this.header(this.rootId);
      rest = elem.length + 2 <= path.length - 1 ? path.subarray(elem.length + 2) : null;
    }
    for (;;) {
      if (cur.flags & KEY_FLAG.DELETED) return { status: S.STATUS_KEY_DELETED };
      if (cur.flags & KEY_FLAG.SYMLINK) {
        const restLength = rest?.length ?? 0;
        if (!restLength && attributes & OBJ_OPENLINK) return { status: 0, key: cur, left: Buffer.alloc(0) };
        const at = this.findValue(cur.id, SYMLINK_VALUE);
        const value = at >= 0 ? this.record(cur.id).values[at] : undefined;
        if (!value || value.data.length < 2 || value.data.readUInt16LE(0) !== BACKSLASH) return { status: S.STATUS_OBJECT_NAME_NOT_FOUND };
        const target = this.resolve(null, value.data.subarray(0, value.data.length & ~1), OBJ_CASE_INSENSITIVE, depth + 1);
        if (target.status) return target;
        if (!target.key) return { status: S.STATUS_NOT_SUPPORTED }; // a link to a directory of the object namespace
        const left = target.left ?? Buffer.alloc(0);
        if (!restLength) rest = left.length ? left : null;
        else if (left.length) return { status: S.STATUS_OBJECT_NAME_NOT_FOUND };
        cur = target.key;
        continue;
      }
      if (rest === null) return { status: 0, key: cur, left: Buffer.alloc(0) };
      const elemLength = pathElementLength(rest);
      if (elemLength > MAX_KEY_NAME_UNITS * 2) return { status: S.STATUS_INVALID_PARAMETER };
      let next = elemLength;
      while (next + 1 < rest.length && rest.readUInt16LE(next) === BACKSLASH) next += 2;
      const elem = rest.subarray(0, elemLength);
      const child = this.findSubkey(cur.id, elem);
      const more = next + 1 < rest.length;
      if (!child) {
        if (more) return { status: S.STATUS_OBJECT_NAME_NOT_FOUND };
        return { status: 0, key: cur, left: elem };
      }
      rest = more ? rest.subarray(next) : null;
      cur = this.header(child);
    }
  }
}

// ---------------------------------------------------------------------------
// The tree anchor and its lock

export interface TreeInfo {
  rootId: number;
  arch: Arch;
  changes: number;
}

function encodeTree(info: TreeInfo): Buffer {
  const data = Buffer.alloc(TREE_SIZE);
  data.writeUInt32LE(TREE_MAGIC, 0);
  data.writeUInt32LE(info.rootId, 4);
  data.writeUInt32LE(ARCH_CODES.indexOf(info.arch), 8);
  data.writeUInt32LE(info.changes >>> 0, 12);
  return data;
}

function readTree(session: Session, handle: number): TreeInfo {
  const data = Buffer.alloc(TREE_SIZE);
  const got = session.getdata(handle, data, 0);
  if (got !== TREE_SIZE || data.readUInt32LE(0) !== TREE_MAGIC) throw new RegistryStoreError(`${TREE_NAME} is not a winekernel registry (${got} bytes)`);
  return { rootId: data.readUInt32LE(4), arch: ARCH_CODES[data.readUInt32LE(8)] ?? 'unknown', changes: data.readUInt32LE(12) };
}

/** The registry of one instance: where translators and the .reg loader meet. */
export class RegistryStore {
  readonly map: CaseMap;
  private readonly now: () => bigint;
  private treeHandle = 0;

  constructor(
    readonly session: Session,
    options: RegistryOptions = {},
  ) {
    this.map = options.map ?? wineCaseMap();
    this.now = options.now ?? systemTime;
  }

  /** Whether the instance holds a registry yet. */
  exists(): boolean {
    const h = this.session.open(TREE_NAME);
    if (h < 0) return false;
    this.session.close(h);
    return true;
  }

  info(): TreeInfo {
    const h = check(this.session.open(TREE_NAME), `opening ${TREE_NAME}`);
    try {
      return readTree(this.session, h);
    } finally {
      this.session.close(h);
    }
  }

  setArch(arch: Arch): void {
    const h = check(this.session.open(TREE_NAME), `opening ${TREE_NAME}`);
    try {
      const info = readTree(this.session, h);
      check(this.session.setdata(h, encodeTree({ ...info, arch }), 0, WK_SETDATA_TRUNCATE), `writing ${TREE_NAME}`);
    } finally {
      this.session.close(h);
    }
  }

  /**
   * Runs `fn` under the tree lock ('read': shared, 'write': exclusive) with
   * a transaction whose changes are committed when fn returns. The tree is
   * created (an empty \REGISTRY key) if the instance has none; a lock
   * inherited from a holder that died mid-update is repaired first.
   */
  async run<T>(mode: 'read' | 'write', fn: (tx: RegistryTx) => T): Promise<T> {
    const info = { created: false };
    // The anchor stays open for the store's life: one open per operation would cost more than the operation.
    if (!this.treeHandle) {
      this.treeHandle = check(this.session.create(TREE_NAME, encodeTree({ rootId: 0, arch: 'unknown', changes: 0 }), WK_CREATE_OPEN_EXISTING | WK_CREATE_PERMANENT, info), `opening ${TREE_NAME}`);
    }
    const handle = this.treeHandle;
    {
      let locked = await this.session.lock(handle, mode === 'write' || info.created ? WK_LOCK_EXCLUSIVE : WK_LOCK_SHARED);
      if (locked === -WK_EOWNERDEAD) {
        if (mode === 'read' && !info.created) {
          this.session.unlock(handle);
          const ex = await this.session.lock(handle, WK_LOCK_EXCLUSIVE);
          if (ex !== 0 && ex !== -WK_EOWNERDEAD) check(ex, `locking ${TREE_NAME}`);
          repairRegistry(this.session, handle, this.map);
          this.session.unlock(handle);
          locked = await this.session.lock(handle, WK_LOCK_SHARED);
        } else {
          repairRegistry(this.session, handle, this.map);
          locked = 0;
        }
      }
      if (locked !== 0 && locked !== -WK_EOWNERDEAD) check(locked, `locking ${TREE_NAME}`);
      try {
        let tree = readTree(this.session, handle);
        if (!tree.rootId) {
          if (mode === 'read' && !info.created) {
            // Someone else is creating it right now; take the exclusive lock and look again.
            this.session.unlock(handle);
            check(await this.session.lock(handle, WK_LOCK_EXCLUSIVE), `locking ${TREE_NAME}`);
            tree = readTree(this.session, handle);
          }
          if (!tree.rootId) tree = this.createRoot(handle);
        }
        const tx = new RegistryTx(this.session, this.map, this.now(), tree.rootId, handle);
        try {
          const result = fn(tx);
          tx.commit();
          return result;
        } finally {
          tx.release();
        }
      } finally {
        this.session.unlock(handle);
      }
    }
  }

  private createRoot(treeHandle: number): TreeInfo {
    const tx = new RegistryTx(this.session, this.map, this.now(), 0, treeHandle);
    const root = tx.createSubkey(0, REGISTRY_NAME, 0, this.now());
    tx.commit();
    const info: TreeInfo = { rootId: root.id, arch: 'unknown', changes: 0 };
    check(this.session.setdata(treeHandle, encodeTree(info), 0, WK_SETDATA_TRUNCATE), `writing ${TREE_NAME}`);
    return info;
  }
}

// ---------------------------------------------------------------------------
// Repair after a lock holder died mid-update

function listNamespace(session: Session, namespace: string): Buffer[] {
  let buf = Buffer.alloc(1 << 16);
  for (;;) {
    const result = session.list(namespace, buf, 0, 0);
    if (result.status === -WK_ERANGE) {
      buf = Buffer.alloc(result.bytesNeeded);
      continue;
    }
    if (result.status < 0) throw new RegistryStoreError(`listing ${namespace} failed (${result.status})`);
    return parseNameList(buf, result.count).map((b) => Buffer.from(b));
  }
}

/**
 * Makes the subkey lists and the index agree with the key records after a
 * holder of the tree lock died (caller holds it exclusively). Each record's
 * parent pointer is the truth: a key whose parent no longer exists is
 * removed, every other key is listed (once, by its current name) in its
 * parent's subkey list and index; stray index entries and lists go.
 */
export function repairRegistry(session: Session, treeHandle: number, map: CaseMap = wineCaseMap()): { keys: number; removed: number } {
  const tree = readTree(session, treeHandle);
  const records = new Map<number, KeyRecord>();
  for (const name of listNamespace(session, 'regkey')) {
    const id = parseInt(name.toString('latin1'), 16);
    const h = session.open(keyName(id));
    if (h < 0) continue;
    try {
      const data = readAll(session, h, keyName(id));
      if (data.length < KEY_HEADER_SIZE) {
        session.unlink(h); // created but never written
        continue;
      }
      records.set(id, decodeKeyRecord(data, keyName(id)));
    } finally {
      session.close(h);
    }
  }
  const children = new Map<number, SubkeyEntry[]>();
  let removed = 0;
  const alive = (id: number): boolean => {
    for (let at = id, hops = 0; at !== tree.rootId; hops++) {
      const r = records.get(at);
      if (!r || r.flags & KEY_FLAG.DELETED || !r.parent || hops > records.size) return false;
      at = r.parent;
    }
    return true;
  };
  for (const [id, record] of records) {
    if (id !== tree.rootId && !alive(id)) {
      const h = session.open(keyName(id));
      if (h >= 0) {
        session.unlink(h);
        session.close(h);
      }
      removed++;
      continue;
    }
    if (id === tree.rootId) continue;
    let list = children.get(record.parent);
    if (!list) children.set(record.parent, (list = []));
    if (!list.some((s) => sameName(s.name, record.name, map))) list.push({ id, name: record.name, classLength: record.klass?.length ?? 0 });
  }
  const wantedIndex = new Set<string>();
  for (const id of records.keys()) {
    if (id !== tree.rootId && !alive(id)) continue;
    const list = (children.get(id) ?? []).sort((a, b) => compareNames(a.name, b.name, map));
    const h = session.create(subName(id), encodeSubkeys(list), WK_CREATE_OPEN_EXISTING | WK_CREATE_PERMANENT);
    check(h, `recreating ${subName(id)}`);
    check(session.setdata(h, encodeSubkeys(list), 0, WK_SETDATA_TRUNCATE), `writing ${subName(id)}`);
    session.close(h);
    for (const s of list) {
      const name = indexName(id, s.name, map);
      wantedIndex.add(name.toString('latin1'));
      const data = Buffer.alloc(4);
      data.writeUInt32LE(s.id, 0);
      const ih = session.create(name, data, WK_CREATE_OPEN_EXISTING | WK_CREATE_PERMANENT);
      check(ih, 'recreating a registry index entry');
      check(session.setdata(ih, data, 0, WK_SETDATA_TRUNCATE), 'writing a registry index entry');
      session.close(ih);
    }
  }
  for (const name of listNamespace(session, 'regname')) {
    const full = Buffer.concat([Buffer.from('regname:'), name]);
    if (!wantedIndex.has(full.toString('latin1'))) {
      const h = session.open(full);
      if (h >= 0) {
        session.unlink(h);
        session.close(h);
      }
    }
  }
  return { keys: records.size - removed, removed };
}
