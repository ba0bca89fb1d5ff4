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
import { randomFillSync } from 'node:crypto';
import { wineCaseMap, type CaseMap } from '../casemap.ts';
import { DEFAULT_CACHE_LIMIT, RegistryCache, sharedCache, type KeyState, type RegistryCacheStats } from './cache.ts';
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
import { compareNames, foldedKey, foldedString, pathElementLength, sameName, searchSorted, utf16 } from './names.ts';
import * as S from './status.ts';

const TREE_NAME = 'registry:tree';
const TREE_MAGIC = 0x32657274; // 'tre2'
const TREE_SIZE = 32;
const TREE_NONCE_OFFSET = 24;
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
  /** Keys kept decoded between operations (cache.ts; default DEFAULT_CACHE_LIMIT, 0: none). */
  cacheLimit?: number;
}

const hex8 = (id: number) => id.toString(16).padStart(8, '0');
/** The primitive object of a key: every session of the instance opens a key by it. */
export const keyName = (id: number) => `regkey:${hex8(id)}`;
const subName = (id: number) => `regsub:${hex8(id)}`;
const indexName = (parent: number, name: Buffer, map: CaseMap) => foldedKey(name, map, `regname:${hex8(parent)}\\`);

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

/**
 * Where a path led: a key and what is left of the path (one element, or
 * empty). A class rather than object literals, so that V8 never keeps making
 * objects of a hidden class it has replaced (translators.ts, KeyLookup).
 */
export class Resolution {
  constructor(
    /** 0, or the status wineserver's lookup fails with. */
    readonly status: number,
    /** On success: the last key reached. */
    readonly key?: KeyHeader,
    /** On success: the element left over (empty when `key` is the key named). */
    readonly left?: Buffer,
    /** The path names the object root directory itself (not a key). */
    readonly directory?: boolean,
  ) {}
}

/** A touch_key of one transaction, for change notification: the key and its ancestors at the time, and what changed. */
export interface KeyTouch {
  /** The touched key first, then each parent up to the root. */
  chain: number[];
  /** REG_NOTIFY_CHANGE_NAME (1) or REG_NOTIFY_CHANGE_LAST_SET (4). */
  change: number;
}

/** What one operation changed of a key, written back by commit(). */
interface Pending {
  /** The key's entry (the cache's own object, changed in place). */
  state: KeyState;
  recordDirty: boolean;
  subkeysDirty: boolean;
  modifDirty: boolean;
  unlinkAfterCommit: boolean;
}

/** A primitive handle on regkey:<id> this operation uses: opened by it (closed by release) or a proxy handle's. */
interface KeyHandle {
  handle: number;
  owned: boolean;
}

// Scratch space for fixed-size reads and writes; every use is synchronous and copies out.
const HEADER_SCRATCH = Buffer.alloc(KEY_HEADER_SIZE);
const WORD_SCRATCH = Buffer.alloc(8);
const EMPTY = Buffer.alloc(0);

function sameHeader(a: KeyHeader, b: KeyHeader): boolean {
  return a.id === b.id && a.parent === b.parent && a.flags === b.flags && a.modif === b.modif;
}

/**
 * One operation on the tree, under the tree lock. Keys are read lazily
 * (header, full record, subkey list) through the store's cache (cache.ts),
 * changed in place, and written back by commit().
 */
export class RegistryTx {
  changed = false;
  /** Touches with a change kind, kept only when the store journals them (RegistryStore.journalTouches). */
  touches: KeyTouch[] | null = null;
  /** Whether this operation wrote, or will write at commit, any registry object. */
  private wrote = false;
  /** The cache was found incoherent during this operation: it must not be trusted after it either. */
  private poisoned = false;
  private handles: Map<number, KeyHandle> | null = null;
  private pending: Map<number, Pending> | null = null;
  private time: bigint | undefined;

  constructor(
    readonly session: Session,
    readonly map: CaseMap,
    private readonly clock: () => bigint,
    readonly rootId: number,
    private readonly treeHandle: number,
    private readonly cache: RegistryCache,
  ) {}

  /** The time of this operation (wineserver's current_time): the store's clock, read on first use. */
  get now(): bigint {
    return (this.time ??= this.clock());
  }

  // -- reading

  /** A primitive handle on the key's object for this operation. */
  private handleOf(id: number): number {
    const known = this.handles?.get(id);
    if (known) return known.handle;
    const handle = this.session.open(keyName(id));
    if (handle < 0) throw new RegistryStoreError(`opening ${keyName(id)} failed (${handle})`);
    (this.handles ??= new Map()).set(id, { handle, owned: true });
    return handle;
  }

  private state(id: number): KeyState {
    const known = this.cache.keys.get(id);
    if (known) return known;
    check(this.session.getdata(this.handleOf(id), HEADER_SCRATCH, 0), `reading ${keyName(id)}`);
    const state: KeyState = { header: decodeKeyHeader(HEADER_SCRATCH, keyName(id)) };
    this.cache.keys.set(id, state);
    return state;
  }

  /** The header of the key a primitive handle (of a proxy key handle) names, deleted or not. */
  headerByHandle(primitive: number): KeyHeader {
    const got = this.session.getdata(primitive, HEADER_SCRATCH, 0);
    if (got < 0) throw new RegistryStoreError(`reading a key through its handle failed (${got})`);
    const header = decodeKeyHeader(HEADER_SCRATCH, 'key handle');
    // A deleted key has no name any more: later reads of it in this operation go through this handle.
    if (!this.handles?.has(header.id)) (this.handles ??= new Map()).set(header.id, { handle: primitive, owned: false });
    // Changed in this operation and not written yet: the object still holds the old header.
    const changing = this.pending?.get(header.id);
    if (changing) return changing.state.header;
    const known = this.cache.keys.get(header.id);
    if (known) {
      // The handle reads the object itself, so this is a free check of the cache's coherence.
      if (sameHeader(known.header, header)) return known.header;
      this.cache.stats.incoherent++;
      this.distrustCache();
    }
    this.cache.keys.set(header.id, { header });
    return header;
  }

  /** Drops the shared entries; this operation's own changes stay visible to it. */
  private distrustCache(): void {
    this.poisoned = true;
    this.cache.invalidate();
    if (this.pending) for (const [id, p] of this.pending) this.cache.keys.set(id, p.state);
  }

  header(id: number): KeyHeader {
    return this.state(id).header;
  }

  record(id: number): KeyRecord {
    const state = this.state(id);
    if (!state.record) {
      const record = decodeKeyRecord(readAll(this.session, this.handleOf(id), keyName(id)), keyName(id));
      record.flags = state.header.flags;
      record.modif = state.header.modif;
      state.record = record;
    }
    return state.record;
  }

  subkeys(id: number): SubkeyEntry[] {
    const state = this.state(id);
    if (!state.subkeys) {
      if (state.header.flags & KEY_FLAG.DELETED) return (state.subkeys = []);
      const h = this.session.open(subName(id));
      if (h < 0) throw new RegistryStoreError(`opening ${subName(id)} failed (${h})`);
      try {
        state.subkeys = decodeSubkeys(readAll(this.session, h, subName(id)), subName(id));
      } finally {
        this.session.close(h);
      }
    }
    return state.subkeys;
  }

  /** The subkey of `parent` named `name` (case-insensitively), by the index. */
  findSubkey(parent: number, name: Buffer): number {
    return this.childOf(parent, name, 0, name.length);
  }

  /** findSubkey of the name in bytes `start` to `end` of `path`: a path element, looked up without copying it out. */
  private childOf(parent: number, path: Buffer, start: number, end: number): number {
    if (end <= start) return 0;
    const list = this.cache.keys.get(parent)?.subkeys;
    if (list) {
      const at = searchSorted(list, path.subarray(start, end), (s) => s.name, this.map);
      return at >= 0 ? list[at].id : 0;
    }
    const folded = foldedString(path, this.map, start, end);
    const known = this.cache.lookup(parent, folded);
    if (known !== undefined) return known;
    let id = 0;
    const h = this.session.open(indexName(parent, path.subarray(start, end), this.map));
    if (h !== -WK_ENOENT) {
      if (h < 0) throw new RegistryStoreError(`opening a registry index entry failed (${h})`);
      try {
        if (this.session.getdata(h, WORD_SCRATCH, 0) !== 4) throw new RegistryStoreError('registry index entry is not 4 bytes');
        id = WORD_SCRATCH.readUInt32LE(0);
      } finally {
        this.session.close(h);
      }
    }
    this.cache.remember(parent, folded, id);
    return id;
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

  /** The key's change entry in this operation. */
  private mark(id: number): Pending {
    this.wrote = true;
    let p = this.pending?.get(id);
    if (!p) {
      p = { state: this.state(id), recordDirty: false, subkeysDirty: false, modifDirty: false, unlinkAfterCommit: false };
      (this.pending ??= new Map()).set(id, p);
    }
    return p;
  }

  /** Marks the key's record (name, class, values, flags) to be written back. */
  touchRecord(id: number): KeyRecord {
    const p = this.mark(id);
    const record = this.record(id);
    p.recordDirty = true;
    return record;
  }

  /**
   * Marks the key's subkey list, changed in place or replaced, to be written
   * back. (In place is safe: an operation that fails before its commit drops
   * the cache, see RegistryStore.run.)
   */
  private setSubkeys(id: number, list: SubkeyEntry[]): void {
    const p = this.mark(id);
    p.state.subkeys = list;
    p.subkeysDirty = true;
  }

  /**
   * wineserver's touch_key: a new last-write time. `change` (REG_NOTIFY_CHANGE_*)
   * is journaled for change notification when the store keeps a journal;
   * the notifications themselves are the caller's.
   */
  touch(id: number, change = 0): void {
    if (change && this.touches) {
      const chain: number[] = [];
      for (let at = id; at; at = this.header(at).parent) chain.push(at);
      this.touches.push({ chain, change });
    }
    const p = this.mark(id);
    p.state.header.modif = this.now;
    if (p.state.record) p.state.record.modif = this.now;
    p.modifDirty = true;
    this.noteChange(id);
  }

  /** Sets a key's last-write time (the loader's update_key_time). */
  setModif(id: number, modif: bigint): void {
    const p = this.mark(id);
    p.state.header.modif = modif;
    if (p.state.record) p.state.record.modif = modif;
    p.modifDirty = true;
  }

  /** Counts a change for the saver unless it is to a volatile key. */
  noteChange(id: number): void {
    if (!(this.header(id).flags & KEY_FLAG.VOLATILE)) this.changed = true;
  }

  /** Creates a subkey; the caller checked that none of that name exists. */
  createSubkey(parent: number, name: Buffer, flags: number, modif: bigint, klass: Buffer | null = null): KeyHeader {
    this.wrote = true;
    const handle = check(this.session.create('regkey', EMPTY, WK_CREATE_PERMANENT), 'creating a key object');
    const full = readName(this.session, handle);
    if (typeof full === 'number') throw new RegistryStoreError(`reading a new key's name failed (${full})`);
    const id = parseInt(full.toString('latin1').slice('regkey:'.length), 16);
    (this.handles ??= new Map()).set(id, { handle, owned: true });
    const record: KeyRecord = { id, parent, flags, modif, name: Buffer.from(name), klass, values: [] };
    check(this.session.setdata(handle, encodeKeyRecord(record), 0, WK_SETDATA_TRUNCATE), 'writing a new key');
    const sub = check(this.session.create(subName(id), encodeSubkeys([]), WK_CREATE_PERMANENT), `creating ${subName(id)}`);
    this.session.close(sub);
    const header: KeyHeader = { id, parent, flags, modif };
    this.cache.keys.set(id, { header, record, subkeys: [] });
    if (parent) {
      this.createIndexEntry(parent, name, id);
      const list = this.subkeys(parent);
      const at = searchSorted(list, name, (s) => s.name, this.map);
      list.splice(at >= 0 ? at : -at - 1, 0, { id, name: Buffer.from(name), classLength: klass?.length ?? 0 });
      this.setSubkeys(parent, list);
    }
    this.noteChange(id);
    return header;
  }

  private createIndexEntry(parent: number, name: Buffer, id: number): void {
    this.wrote = true;
    WORD_SCRATCH.writeUInt32LE(id, 0);
    const ih = check(this.session.create(indexName(parent, name, this.map), WORD_SCRATCH.subarray(0, 4), WK_CREATE_PERMANENT), 'creating a registry index entry');
    this.session.close(ih);
    this.cache.remember(parent, foldedString(name, this.map), id);
  }

  private removeIndexEntry(parent: number, name: Buffer): void {
    this.unlinkByName(indexName(parent, name, this.map));
    this.cache.remember(parent, foldedString(name, this.map), 0);
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
    this.state(id).header.flags = flags;
  }

  /** Removes a key without subkeys from the tree (it lives on through open handles). */
  unlinkKey(id: number): void {
    const record = this.record(id);
    const parent = record.parent;
    this.setFlags(id, record.flags | KEY_FLAG.DELETED);
    this.noteChange(parent || id);
    const list = this.subkeys(parent);
    const at = searchSorted(list, record.name, (s) => s.name, this.map);
    if (at >= 0) list.splice(at, 1);
    this.setSubkeys(parent, list);
    this.removeIndexEntry(parent, record.name);
    this.unlinkByName(subName(id));
    const p = this.mark(id);
    p.state.subkeys = [];
    p.subkeysDirty = false;
    // commit() writes the record (with DELETED) through a handle on the key, then its name goes.
    p.unlinkAfterCommit = true;
  }

  /** Gives a key a new name among its siblings (the caller checked the name is free). */
  renameKey(id: number, name: Buffer): void {
    const record = this.touchRecord(id);
    const parent = record.parent;
    const list = this.subkeys(parent);
    const old = searchSorted(list, record.name, (s) => s.name, this.map);
    const entry = old >= 0 ? list.splice(old, 1)[0] : { id, classLength: record.klass?.length ?? 0, name };
    this.removeIndexEntry(parent, record.name);
    record.name = Buffer.from(name);
    const at = searchSorted(list, name, (s) => s.name, this.map);
    list.splice(at >= 0 ? at : -at - 1, 0, { ...entry, name: Buffer.from(name) });
    this.setSubkeys(parent, list);
    this.createIndexEntry(parent, name, id);
  }

  private unlinkByName(name: string | Buffer): void {
    this.wrote = true;
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

  /**
   * Writes every change back, advances the tree's counters (the change
   * counter when a non-volatile key changed, the generation whenever anything
   * was written) and closes the handles this operation opened.
   */
  commit(): void {
    if (this.pending) {
      for (const [id, p] of this.pending) {
        const { header, record, subkeys } = p.state;
        if (p.recordDirty && record) {
          record.flags = header.flags;
          record.modif = header.modif;
          check(this.session.setdata(this.handleOf(id), encodeKeyRecord(record), 0, WK_SETDATA_TRUNCATE), `writing ${keyName(id)}`);
        } else if (p.modifDirty) {
          WORD_SCRATCH.writeBigInt64LE(header.modif, 0);
          check(this.session.setdata(this.handleOf(id), WORD_SCRATCH, MODIF_OFFSET, 0), `writing the time of ${keyName(id)}`);
        }
        if (p.subkeysDirty && subkeys) {
          const h = check(this.session.open(subName(id)), `opening ${subName(id)}`);
          try {
            check(this.session.setdata(h, encodeSubkeys(subkeys), 0, WK_SETDATA_TRUNCATE), `writing ${subName(id)}`);
          } finally {
            this.session.close(h);
          }
        }
        if (p.unlinkAfterCommit) {
          const known = this.handles?.get(id);
          if (known?.owned) this.session.unlink(known.handle);
          else this.unlinkByName(keyName(id));
        }
      }
    }
    if (this.wrote || this.changed) {
      const generation = advanceTree(this.session, this.treeHandle, this.changed);
      // This cache saw every change of this generation (it made them).
      this.cache.generation = this.poisoned ? -1 : generation;
    }
    this.release();
  }

  /**
   * After fn or commit threw: what this operation changed may be half
   * written, so no cache (ours, or another process's) may keep trusting what
   * it knew.
   */
  abandon(): void {
    this.cache.invalidate();
    if (!this.wrote) return;
    try {
      advanceTree(this.session, this.treeHandle, false);
    } catch {
      // The store is broken already; the error in flight says so.
    }
  }

  release(): void {
    if (this.handles) for (const h of this.handles.values()) if (h.owned) this.session.close(h.handle);
    this.handles = null;
    this.pending = null;
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
    if (depth > MAX_LINK_DEPTH) return new Resolution(S.STATUS_INVALID_PARAMETER);
    let cur: KeyHeader;
    let rest: Buffer | null;
    if (start) {
      if (name.length >= 2 && name.readUInt16LE(0) === BACKSLASH) return new Resolution(S.STATUS_OBJECT_PATH_SYNTAX_BAD);
      if (name.length < 2) return new Resolution(0, start, EMPTY);
      cur = start;
      rest = name;
    } else {
      if (name.length < 2 || name.readUInt16LE(0) !== BACKSLASH) return new Resolution(S.STATUS_OBJECT_PATH_SYNTAX_BAD);
      const path = name.subarray(2);
      if (path.length < 2) return new Resolution(0, undefined, undefined, true);
      const elem = path.subarray(0, pathElementLength(path));
      const isRegistry = attributes & OBJ_CASE_INSENSITIVE ? sameName(elem, REGISTRY_NAME, this.map) : elem.equals(REGISTRY_NAME);
      if (!isRegistry) {
        // Another entry of the object root directory: that namespace is not ours.
        if (!elem.length) return new Resolution(S.STATUS_OBJECT_NAME_INVALID);
        return new Resolution(S.STATUS_NOT_SUPPORTED);
      }
      cur = this.header(this.rootId);
      rest = elem.length + 2 <= path.length - 1 ? path.subarray(elem.length + 2) : null;
    }
    // What is left to walk: `rest` from byte `at` on (none: rest is null).
    let at = 0;
    for (;;) {
      if (cur.flags & KEY_FLAG.DELETED) return new Resolution(S.STATUS_KEY_DELETED);
      if (cur.flags & KEY_FLAG.SYMLINK) {
        const restLength = rest ? rest.length - at : 0;
        if (!restLength && attributes & OBJ_OPENLINK) return new Resolution(0, cur, EMPTY);
        const found = this.findValue(cur.id, SYMLINK_VALUE);
        const value = found >= 0 ? this.record(cur.id).values[found] : undefined;
        if (!value || value.data.length < 2 || value.data.readUInt16LE(0) !== BACKSLASH) return new Resolution(S.STATUS_OBJECT_NAME_NOT_FOUND);
        const target = this.resolve(null, value.data.subarray(0, value.data.length & ~1), OBJ_CASE_INSENSITIVE, depth + 1);
        if (target.status) return target;
        if (!target.key) return new Resolution(S.STATUS_NOT_SUPPORTED); // a link to a directory of the object namespace
        const left = target.left ?? EMPTY;
        if (!restLength) {
          rest = left.length ? left : null;
          at = 0;
        } else if (left.length) return new Resolution(S.STATUS_OBJECT_NAME_NOT_FOUND);
        cur = target.key;
        continue;
      }
      if (rest === null) return new Resolution(0, cur, EMPTY);
      const elemLength = pathElementLength(rest, at);
      if (elemLength > MAX_KEY_NAME_UNITS * 2) return new Resolution(S.STATUS_INVALID_PARAMETER);
      const elemEnd = at + elemLength;
      let next = elemEnd;
      while (next + 1 < rest.length && rest[next] === BACKSLASH && rest[next + 1] === 0) next += 2;
      const child = this.childOf(cur.id, rest, at, elemEnd);
      const more = next + 1 < rest.length;
      if (!child) {
        if (more) return new Resolution(S.STATUS_OBJECT_NAME_NOT_FOUND);
        return new Resolution(0, cur, rest.subarray(at, elemEnd));
      }
      if (more) at = next;
      else rest = null;
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
  /** Bumped by every operation that writes (cache.ts). */
  generation: number;
}

const TWO_32 = 0x100000000;

function newTree(): Buffer {
  const data = Buffer.alloc(TREE_SIZE);
  data.writeUInt32LE(TREE_MAGIC, 0);
  randomFillSync(data, TREE_NONCE_OFFSET, 8);
  return data;
}

function readTree(session: Session, handle: number, data: Buffer = Buffer.alloc(TREE_SIZE)): TreeInfo {
  const got = session.getdata(handle, data, 0);
  if (got !== TREE_SIZE || data.readUInt32LE(0) !== TREE_MAGIC) throw new RegistryStoreError(`${TREE_NAME} is not a winekernel registry (${got} bytes)`);
  return {
    rootId: data.readUInt32LE(4),
    arch: ARCH_CODES[data.readUInt32LE(8)] ?? 'unknown',
    changes: data.readUInt32LE(12),
    generation: data.readUInt32LE(16) + data.readUInt32LE(20) * TWO_32,
  };
}

/** The tree's nonce (random, fixed when the tree object was created): tells this instance's tree from any other's. */
function treeNonce(session: Session, handle: number): string {
  const data = Buffer.alloc(8);
  if (session.getdata(handle, data, TREE_NONCE_OFFSET) !== 8) throw new RegistryStoreError(`reading the nonce of ${TREE_NAME} failed`);
  return data.toString('hex');
}

const COUNTERS_SCRATCH = Buffer.alloc(12);

/**
 * Advances the tree's counters after a write (caller holds the lock
 * exclusively): the generation always, the change counter when a
 * non-volatile key changed. Returns the new generation.
 */
function advanceTree(session: Session, treeHandle: number, changed: boolean): number {
  const data = COUNTERS_SCRATCH;
  if (session.getdata(treeHandle, data, 12) !== 12) throw new RegistryStoreError('reading the registry counters failed');
  if (changed) data.writeUInt32LE((data.readUInt32LE(0) + 1) >>> 0, 0);
  const generation = (data.readUInt32LE(4) + data.readUInt32LE(8) * TWO_32 + 1) % Number.MAX_SAFE_INTEGER;
  data.writeUInt32LE(generation % TWO_32, 4);
  data.writeUInt32LE(Math.floor(generation / TWO_32), 8);
  check(session.setdata(treeHandle, data, 12, 0), 'writing the registry counters');
  return generation;
}

/** $WINEKERNEL_REGISTRY_CACHE_LIMIT (keys; 0 turns the cache off, for comparison or diagnosis), else the default. */
function cacheLimitFromEnvironment(): number {
  const value = process.env.WINEKERNEL_REGISTRY_CACHE_LIMIT;
  if (value === undefined || value === '') return DEFAULT_CACHE_LIMIT;
  const limit = Number(value);
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RegistryStoreError(`WINEKERNEL_REGISTRY_CACHE_LIMIT must be a number of keys, not '${value}'`);
  return limit;
}

/** The registry of one instance: where translators and the .reg loader meet. */
export class RegistryStore {
  readonly map: CaseMap;
  private readonly now: () => bigint;
  private readonly cacheLimit: number;
  private treeHandle = 0;
  /** Bound on first use (the tree's nonce names the instance). */
  private cache: RegistryCache | null = null;
  private readonly treeScratch = Buffer.alloc(TREE_SIZE);
  /** Committed touches not yet taken, when journaling (live change notification); null otherwise. */
  private journal: KeyTouch[] | null = null;

  /** From now on, keep the touches of committed write transactions for takeTouches(). */
  journalTouches(): void {
    this.journal ??= [];
  }

  /** The touches committed since the last call (empty when not journaling). */
  takeTouches(): KeyTouch[] {
    if (!this.journal?.length) return [];
    return this.journal.splice(0);
  }

  constructor(
    readonly session: Session,
    options: RegistryOptions = {},
  ) {
    this.map = options.map ?? wineCaseMap();
    this.now = options.now ?? systemTime;
    this.cacheLimit = options.cacheLimit ?? cacheLimitFromEnvironment();
  }

  /** The cache this store's operations use (shared with the other stores of the instance in this process), once bound. */
  get cacheStats(): RegistryCacheStats | null {
    return this.cache?.stats ?? null;
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
      readTree(this.session, h);
      const code = Buffer.alloc(4);
      code.writeUInt32LE(ARCH_CODES.indexOf(arch), 0);
      check(this.session.setdata(h, code, 8, 0), `writing ${TREE_NAME}`);
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
    return this.runNow(mode, fn);
  }

  /**
   * run() without a promise when none is needed: when the lock is granted at
   * once to a live holder and the tree exists (every operation but the first
   * and those after a lock holder died), `fn` runs and its result is
   * returned in this call stack; otherwise a promise of it. A broken store
   * throws here (or rejects, on the waiting path). `fn` gets `a` and `b`
   * passed along, so that a translator need not make a closure per request.
   */
  runNow<T>(mode: 'read' | 'write', fn: (tx: RegistryTx) => T): T | Promise<T>;
  runNow<T, A, B>(mode: 'read' | 'write', fn: (tx: RegistryTx, a: A, b: B) => T, a: A, b: B): T | Promise<T>;
  runNow<T, A, B>(mode: 'read' | 'write', fn: (tx: RegistryTx, a: A, b: B) => T, a?: A, b?: B): T | Promise<T> {
    const handle = this.treeHandle;
    const locked = handle ? this.session.lock(handle, mode === 'write' ? WK_LOCK_EXCLUSIVE : WK_LOCK_SHARED) : -1;
    if (locked === 0) {
      let tree: TreeInfo;
      try {
        tree = readTree(this.session, handle, this.treeScratch);
      } catch (error) {
        this.session.unlock(handle);
        throw error;
      }
      if (tree.rootId) return this.runLocked(mode, handle, tree, fn, a as A, b as B);
    }
    // Anything else (no anchor yet, a wait, a dead holder, no tree): the careful path, with a closure.
    const op = (tx: RegistryTx) => fn(tx, a as A, b as B);
    if (!handle) return this.runCarefully(mode, op);
    if (typeof locked !== 'number') return locked.then((granted) => this.runGranted(mode, false, granted, op));
    return this.runGranted(mode, false, locked, op);
  }

  /** run() from the start: the anchor opened (or the tree created), then the lock taken, waiting if need be. */
  private async runCarefully<T>(mode: 'read' | 'write', fn: (tx: RegistryTx) => T): Promise<T> {
    let created = false;
    // The anchor stays open for the store's life: one open per operation would cost more than the operation.
    if (!this.treeHandle) {
      const info = { created: false };
      this.treeHandle = check(this.session.create(TREE_NAME, newTree(), WK_CREATE_OPEN_EXISTING | WK_CREATE_PERMANENT, info), `opening ${TREE_NAME}`);
      created = info.created;
    }
    const locked = this.session.lock(this.treeHandle, mode === 'write' || created ? WK_LOCK_EXCLUSIVE : WK_LOCK_SHARED);
    return this.runGranted(mode, created, typeof locked === 'number' ? locked : await locked, fn);
  }

  /**
   * The rest of run() once the lock call answered `locked`: a lock inherited
   * from a dead holder repaired, the root created if the tree has none.
   */
  private async runGranted<T>(mode: 'read' | 'write', created: boolean, locked: number, fn: (tx: RegistryTx) => T): Promise<T> {
    const handle = this.treeHandle;
    if (locked === -WK_EOWNERDEAD) {
      this.cache?.invalidate();
      if (mode === 'read' && !created) {
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
    let tree: TreeInfo;
    try {
      tree = readTree(this.session, handle, this.treeScratch);
      if (!tree.rootId) {
        if (mode === 'read' && !created) {
          // Someone else is creating it right now; take the exclusive lock and look again.
          this.session.unlock(handle);
          check(await this.session.lock(handle, WK_LOCK_EXCLUSIVE), `locking ${TREE_NAME}`);
          tree = readTree(this.session, handle, this.treeScratch);
        }
        if (!tree.rootId) tree = this.createRoot(handle, tree, this.cacheFor(handle));
      }
    } catch (error) {
      this.session.unlock(handle);
      throw error;
    }
    return this.runLocked(mode, handle, tree, fn, undefined, undefined);
  }

  /** The cache of this instance's tree (bound on first use). */
  private cacheFor(handle: number): RegistryCache {
    return (this.cache ??= this.cacheLimit ? sharedCache(treeNonce(this.session, handle), this.map, this.cacheLimit) : new RegistryCache(this.map, 0));
  }

  /** Runs `fn` in a transaction and commits it; the caller holds the tree lock, which this releases. */
  private runLocked<T, A, B>(mode: 'read' | 'write', handle: number, tree: TreeInfo, fn: (tx: RegistryTx, a: A, b: B) => T, a: A, b: B): T {
    try {
      const cache = this.cacheFor(handle);
      cache.validate(tree.generation);
      const tx = new RegistryTx(this.session, this.map, this.now, tree.rootId, handle, cache);
      if (this.journal && mode === 'write') tx.touches = [];
      let committed = false;
      try {
        const result = fn(tx, a, b);
        tx.commit();
        committed = true;
        if (tx.touches?.length) this.journal!.push(...tx.touches);
        return result;
      } finally {
        if (!committed) tx.abandon();
        tx.release();
        cache.trim();
      }
    } finally {
      this.session.unlock(handle);
    }
  }

  private createRoot(treeHandle: number, tree: TreeInfo, cache: RegistryCache): TreeInfo {
    cache.validate(tree.generation);
    const tx = new RegistryTx(this.session, this.map, this.now, 0, treeHandle, cache);
    const root = tx.createSubkey(0, REGISTRY_NAME, 0, this.now());
    tx.commit();
    // The root id, and the change counter back to 0: an empty tree is not a change to save.
    const data = Buffer.alloc(12);
    data.writeUInt32LE(root.id, 0);
    data.writeUInt32LE(ARCH_CODES.indexOf(tree.arch), 4);
    check(this.session.setdata(treeHandle, data, 4, 0), `writing ${TREE_NAME}`);
    return readTree(this.session, treeHandle, this.treeScratch);
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
 * parent's subkey list and index; stray index entries and lists go. The
 * tree's generation moves on, so no cache keeps what it knew.
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
  // Whatever any process had cached of the tree is stale now (cache.ts).
  advanceTree(session, treeHandle, false);
  return { keys: records.size - removed, removed };
}
