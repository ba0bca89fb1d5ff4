// The global atom table on the primitives: translators for add_atom,
// delete_atom, find_atom and get_atom_information, answering as Wine 8.0's
// wineserver does (facts from reading server/atom.c and the client side in
// dlls/ntdll/unix/sync.c; the code here is our own).
//
// Wine's behaviour being reproduced:
//  * the four requests use the server's one global table (not a window
//    station's); it comes into existence on the first add_atom (even one that
//    fails) and is never destroyed. Before it exists, delete_atom, find_atom
//    and get_atom_information fail with STATUS_OBJECT_NAME_NOT_FOUND;
//  * string atoms are 0xc000..0xffff, the lowest free number first, so at most
//    0x4000 of them (the next one is STATUS_NO_MEMORY);
//  * names compare case-insensitively unit by unit through Wine's casemap;
//    the first spelling added is the one kept; an odd trailing byte of the
//    request's name is ignored;
//  * an empty name is STATUS_OBJECT_NAME_INVALID, a name over 255 units
//    STATUS_INVALID_PARAMETER (both checked after the table lookup above);
//  * adding an existing name increments its reference count; delete_atom
//    decrements it and frees the atom at zero; a pinned atom cannot be
//    deleted (STATUS_WAS_LOCKED; nothing in Wine 8.0 pins atoms, but the
//    record keeps the flag);
//  * an atom number that names no atom (including any number below 0xc000:
//    integer atoms are resolved in ntdll and never reach the server by name)
//    is STATUS_INVALID_HANDLE; get_atom_information then reports count -1;
//  * get_atom_information returns the name truncated to the reply size the
//    client allowed, and its full byte length in `total`;
//  * wineserver zeroes every reply before filling it, and fills fields even
//    when it sets an error; the replies below do the same.
//
// Layout in the primitives (one instance = one wineserver):
//   atomtable:global   exists iff Wine's global table exists. Every
//                      operation holds its lock (shared to read, exclusive to
//                      change), so several proxies or processes sharing the
//                      instance see one consistent table. Data: a magic word
//                      and the free hint, a number below which every atom is
//                      in use (so finding the lowest free atom probes from
//                      there instead of scanning).
//   atomid:<hex4>      one per atom, named by its number ("atomid:c001"),
//                      holding the record below. Fixed-width lowercase hex
//                      sorts bytewise in numeric order, which the repair's
//                      object_list relies on.
//   atom:<key>         one per atom, named by the case-folded name, holding
//                      the atom number: the by-name index.
// All three are permanent: atoms outlive the processes that added them.
//
// Record (little-endian): u32 atom, i32 count, u32 pinned, u32 name bytes,
// then the name as first added, UTF-16LE, then (only for an atom the live
// atom bridge has paired with one of wineserver's, mappings/atom-bridge.ts)
// u32 the server atom. A bridged record stays when its count is 0 or less:
// the references wineserver holds for classes and properties keep the atom.
//
// The window-class and window-property requests (create_class, set_class_info,
// set_window_property, ...) use the same table in Wine; the helpers at the end
// (addGlobalAtom, findGlobalAtom, grabGlobalAtom, releaseGlobalAtom) are what
// their translators must use, so the table is never split.

import {
  WK_CREATE_OPEN_EXISTING,
  WK_CREATE_PERMANENT,
  WK_EOWNERDEAD,
  WK_ERANGE,
  WK_ENOENT,
  WK_LOCK_EXCLUSIVE,
  WK_LOCK_SHARED,
  WK_SETDATA_TRUNCATE,
  parseNameList,
  type Session,
} from '../backends/primitives.ts';
import type { UnicodeStr } from '../requests/kinds/text.ts';
import { foldedNameBytes, wineCaseMap, type CaseMap } from './casemap.ts';
import {
  STATUS_INVALID_HANDLE,
  STATUS_INVALID_PARAMETER,
  STATUS_NO_MEMORY,
  STATUS_OBJECT_NAME_INVALID,
  STATUS_OBJECT_NAME_NOT_FOUND,
  STATUS_SUCCESS,
  STATUS_WAS_LOCKED,
  statusFromErrno,
} from './ntstatus.ts';
import type { PrimitiveCall, TranslatedEntry, TranslatedReply, TranslationContext } from './translator.ts';
import { WinekernelError } from '../errors/winekernel-error.ts';

/** The first string atom. */
export const MIN_STRING_ATOM = 0xc000;
/** How many string atoms the table holds at most. */
export const MAX_STRING_ATOMS = 0x4000;
/** The longest atom name, in UTF-16 units. */
export const MAX_ATOM_NAME_UNITS = 255;

const TABLE_NAME = 'atomtable:global';
/** Table data: u32 magic, u32 free hint. */
const TABLE_MAGIC = 0x3174616b; // 'kat1'
const TABLE_DATA_SIZE = 8;
const ID_NAMESPACE = 'atomid';
const RECORD_HEADER = 16;

/** A primitive call failed in a way no Wine status describes (a broken instance, not a client error). */
export class AtomStoreError extends WinekernelError<'WK_ATOM_STORE'> {
  constructor(message: string) {
    super('WK_ATOM_STORE', message);
  }
}

export interface AtomRecord {
  atom: number;
  /**
   * References taken through add_atom (and the class/property helpers below).
   * A bridged atom may go below zero: the atom bridge's delete_atom of a
   * reference wineserver's classes hold (mappings/atom-bridge.ts).
   */
  count: number;
  pinned: number;
  /** The name as first added, UTF-16LE (an even number of bytes, 2..510). */
  name: Buffer;
  /** wineserver's atom for the same name, while the atom bridge pairs them (0: none). */
  server: number;
}

// ---------------------------------------------------------------------------
// Names and records

/** The request's name as wineserver reads it: the bytes, an odd last byte dropped. */
export function atomNameBytes(value: UnicodeStr | undefined | null): Buffer {
  if (value === undefined || value === null) return Buffer.alloc(0);
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf16le') : value.bytes;
  return bytes.subarray(0, bytes.length & ~1);
}

/**
 * The by-name index key of a UTF-16LE name: the folded units, each written
 * as in UTF-8 (lone surrogates too, as three bytes) except U+0000, written
 * as C0 80 because primitive names cannot hold a NUL. Every unit gets its
 * own sequence, so distinct folded names give distinct keys; 255 units need
 * at most 765 bytes, within the 1023-byte name limit.
 */
export function atomKey(name: Buffer, map: CaseMap = wineCaseMap()): Buffer {
  return foldedNameBytes(name, map, 'atom:');
}

function idName(atom: number): string {
  return `${ID_NAMESPACE}:${atom.toString(16).padStart(4, '0')}`;
}

function encodeRecord(record: AtomRecord): Buffer {
  const out = Buffer.alloc(RECORD_HEADER + record.name.length + (record.server ? 4 : 0));
  out.writeUInt32LE(record.atom, 0);
  out.writeInt32LE(record.count, 4);
  out.writeUInt32LE(record.pinned, 8);
  out.writeUInt32LE(record.name.length, 12);
  record.name.copy(out, RECORD_HEADER);
  if (record.server) out.writeUInt32LE(record.server, RECORD_HEADER + record.name.length);
  return out;
}

function readAll(session: Session, handle: number): Buffer {
  const size = session.size(handle);
  if (size < 0) throw new AtomStoreError(`size of an atom object failed: ${size}`);
  const buf = Buffer.alloc(size);
  const got = session.getdata(handle, buf, 0);
  if (got < 0) throw new AtomStoreError(`reading an atom object failed: ${got}`);
  return buf.subarray(0, got);
}

function decodeRecord(data: Buffer, where: string): AtomRecord {
  if (data.length < RECORD_HEADER) throw new AtomStoreError(`${where}: record of ${data.length} bytes`);
  const length = data.readUInt32LE(12);
  const end = RECORD_HEADER + length;
  if (end !== data.length && end + 4 !== data.length) throw new AtomStoreError(`${where}: name length ${length} does not match the record`);
  return {
    atom: data.readUInt32LE(0),
    count: data.readInt32LE(4),
    pinned: data.readUInt32LE(8),
    name: Buffer.from(data.subarray(RECORD_HEADER, end)),
    server: end < data.length ? data.readUInt32LE(end) : 0,
  };
}

/** Runs `fn` with a freshly opened handle, closing it afterwards. Returns -errno if the open fails. */
function withObject<T>(session: Session, name: string | Buffer, fn: (handle: number) => T): T | number {
  const handle = session.open(name);
  if (handle < 0) return handle;
  try {
    return fn(handle);
  } finally {
    session.close(handle);
  }
}

// ---------------------------------------------------------------------------
// The table: existence and locking

export type TableMode = 'read' | 'write';

/**
 * Runs `fn` under the table lock. `create`: make the table if it does not
 * exist (what add_atom does); otherwise a missing table returns null and
 * `fn` is not run. A lock inherited from a holder that died mid-update
 * (-EOWNERDEAD) triggers a repair first.
 */
async function withTable<T>(session: Session, mode: TableMode, create: boolean, fn: (table: number) => T | Promise<T>): Promise<T | null> {
  let handle: number;
  if (create) {
    handle = session.create(TABLE_NAME, tableData(MIN_STRING_ATOM), WK_CREATE_OPEN_EXISTING | WK_CREATE_PERMANENT);
  } else {
    handle = session.open(TABLE_NAME);
    if (handle === -WK_ENOENT) return null;
  }
  if (handle < 0) throw new AtomStoreError(`cannot open ${TABLE_NAME}: ${handle}`);
  try {
    let locked = await session.lock(handle, mode === 'write' ? WK_LOCK_EXCLUSIVE : WK_LOCK_SHARED);
    if (locked === -WK_EOWNERDEAD) {
      if (mode === 'read') {
        // Repairs need the table to ourselves: trade the shared lock for an
        // exclusive one, repair, and take the shared lock again.
        session.unlock(handle);
        const exclusive = await session.lock(handle, WK_LOCK_EXCLUSIVE);
        if (exclusive !== 0 && exclusive !== -WK_EOWNERDEAD) throw new AtomStoreError(`locking ${TABLE_NAME} failed: ${exclusive}`);
        repairAtomTable(session, handle);
        session.unlock(handle);
        locked = await session.lock(handle, WK_LOCK_SHARED);
      } else {
        repairAtomTable(session, handle);
        locked = 0;
      }
    }
    if (locked !== 0 && locked !== -WK_EOWNERDEAD) throw new AtomStoreError(`locking ${TABLE_NAME} failed: ${locked}`);
    try {
      return await fn(handle);
    } finally {
      session.unlock(handle);
    }
  } finally {
    session.close(handle);
  }
}

/** The atom numbers in use, ascending (object_list sorts the fixed-width hex names). */
function atomsInUse(session: Session): number[] {
  let buf = Buffer.alloc(MAX_STRING_ATOMS * 5 + 64);
  for (;;) {
    const result = session.list(ID_NAMESPACE, buf, 0, 0);
    if (result.status === -WK_ERANGE) {
      buf = Buffer.alloc(result.bytesNeeded);
      continue;
    }
    if (result.status < 0) throw new AtomStoreError(`listing ${ID_NAMESPACE} failed: ${result.status}`);
    return parseNameList(buf, result.count).map((name) => parseInt(name.toString('latin1'), 16));
  }
}

function tableData(hint: number): Buffer {
  const data = Buffer.alloc(TABLE_DATA_SIZE);
  data.writeUInt32LE(TABLE_MAGIC, 0);
  data.writeUInt32LE(hint, 4);
  return data;
}

function readHint(session: Session, table: number): number {
  const data = Buffer.alloc(TABLE_DATA_SIZE);
  const got = session.getdata(table, data, 0);
  if (got !== TABLE_DATA_SIZE || data.readUInt32LE(0) !== TABLE_MAGIC) {
    throw new AtomStoreError(`${TABLE_NAME} holds ${got} bytes, not a winekernel atom table`);
  }
  const hint = data.readUInt32LE(4);
  return hint >= MIN_STRING_ATOM && hint <= MIN_STRING_ATOM + MAX_STRING_ATOMS ? hint : MIN_STRING_ATOM;
}

function writeHint(session: Session, table: number, hint: number): number {
  const written = session.setdata(table, tableData(hint), 0, WK_SETDATA_TRUNCATE);
  return written < 0 ? written : 0;
}

/** Whether atomid:<atom> exists. */
function atomExists(session: Session, atom: number): boolean {
  const handle = session.open(idName(atom));
  if (handle === -WK_ENOENT) return false;
  if (handle < 0) throw new AtomStoreError(`opening ${idName(atom)} failed: ${handle}`);
  session.close(handle);
  return true;
}

/** The lowest free atom number (0 when the table is full), probing up from the free hint. */
function lowestFreeAtom(session: Session, table: number): number {
  for (let atom = readHint(session, table); atom < MIN_STRING_ATOM + MAX_STRING_ATOMS; atom++) {
    if (!atomExists(session, atom)) return atom;
  }
  return 0;
}

function readRecord(session: Session, atom: number): AtomRecord | null {
  if (atom < MIN_STRING_ATOM || atom >= MIN_STRING_ATOM + MAX_STRING_ATOMS) return null;
  const result = withObject(session, idName(atom), (h) => decodeRecord(readAll(session, h), idName(atom)));
  if (typeof result === 'number') {
    if (result === -WK_ENOENT) return null;
    throw new AtomStoreError(`opening ${idName(atom)} failed: ${result}`);
  }
  return result;
}

function writeRecord(session: Session, record: AtomRecord): number {
  const result = withObject(session, idName(record.atom), (h) => session.setdata(h, encodeRecord(record), 0, WK_SETDATA_TRUNCATE));
  return result < 0 ? result : 0;
}

function lookupByName(session: Session, key: Buffer): number {
  const result = withObject(session, key, (h) => {
    const data = readAll(session, h);
    if (data.length !== 4) throw new AtomStoreError(`index entry of ${data.length} bytes`);
    return data.readUInt32LE(0);
  });
  if (typeof result === 'number' && result < 0) {
    if (result === -WK_ENOENT) return 0;
    throw new AtomStoreError(`opening an atom index entry failed: ${result}`);
  }
  return result;
}

/** Creates a permanent object and closes our handle to it; returns 0 or -errno. */
function createPermanent(session: Session, name: string | Buffer, data: Buffer): number {
  const handle = session.create(name, data, WK_CREATE_PERMANENT);
  if (handle < 0) return handle;
  session.close(handle);
  return 0;
}

function unlinkByName(session: Session, name: string | Buffer): number {
  const result = withObject(session, name, (h) => session.unlink(h));
  return result < 0 ? result : 0;
}

/**
 * Makes the index agree with the records after a holder of the table lock
 * died mid-update (caller holds the lock exclusively). Records are the truth:
 * an index entry without its record is removed, a record without its index
 * entry gets one. So an interrupted add either completes (record written) or
 * leaves nothing; an interrupted delete (record unlinked first) completes.
 */
export function repairAtomTable(session: Session, table: number, map: CaseMap = wineCaseMap()): { removed: number; restored: number } {
  let removed = 0;
  let restored = 0;
  const wantedKeys = new Map<string, number>();
  for (const atom of atomsInUse(session)) {
    const record = readRecord(session, atom);
    if (!record) continue;
    const key = atomKey(record.name, map);
    wantedKeys.set(key.toString('latin1'), atom);
    if (lookupByName(session, key) !== atom) {
      unlinkByName(session, key);
      const data = Buffer.alloc(4);
      data.writeUInt32LE(atom, 0);
      if (createPermanent(session, key, data) === 0) restored++;
    }
  }
  let buf = Buffer.alloc(64 * 1024);
  let listed = session.list('atom', buf, 0, 0);
  if (listed.status === -WK_ERANGE) {
    buf = Buffer.alloc(listed.bytesNeeded);
    listed = session.list('atom', buf, 0, 0);
  }
  if (listed.status < 0) throw new AtomStoreError(`listing atom index failed: ${listed.status}`);
  for (const name of parseNameList(buf, listed.count)) {
    const key = Buffer.concat([Buffer.from('atom:'), name]);
    if (!wantedKeys.has(key.toString('latin1'))) {
      if (unlinkByName(session, key) === 0) removed++;
    }
  }
  // The hint may be stale after a crash in either direction; start over.
  writeHint(session, table, MIN_STRING_ATOM);
  return { removed, restored };
}

// ---------------------------------------------------------------------------
// Table operations (the caller holds the lock)

/**
 * Adds a reference to `name` (creating its atom at the lowest free number).
 * With `bridgeTo`, takes no reference but pairs the atom with that server
 * atom instead (the atom bridge; a new atom then starts with count 0).
 */
function addLocked(session: Session, table: number, name: Buffer, bridgeTo = 0): { status: number; atom: number } {
  if (!name.length) return { status: STATUS_OBJECT_NAME_INVALID, atom: 0 };
  if (name.length > MAX_ATOM_NAME_UNITS * 2) return { status: STATUS_INVALID_PARAMETER, atom: 0 };
  const key = atomKey(name);
  const existing = lookupByName(session, key);
  if (existing) {
    const record = readRecord(session, existing);
    if (!record) throw new AtomStoreError(`index names atom ${existing.toString(16)} but it has no record`);
    if (bridgeTo) record.server = bridgeTo;
    else record.count++;
    const written = writeRecord(session, record);
    if (written < 0) return { status: statusFromErrno(written), atom: 0 };
    return { status: STATUS_SUCCESS, atom: existing };
  }
  const atom = lowestFreeAtom(session, table);
  if (!atom) return { status: STATUS_NO_MEMORY, atom: 0 };
  const created = createPermanent(session, idName(atom), encodeRecord({ atom, count: bridgeTo ? 0 : 1, pinned: 0, name, server: bridgeTo }));
  if (created < 0) return { status: STATUS_NO_MEMORY, atom: 0 };
  const index = Buffer.alloc(4);
  index.writeUInt32LE(atom, 0);
  const indexed = createPermanent(session, key, index);
  if (indexed < 0) {
    unlinkByName(session, idName(atom));
    return { status: STATUS_NO_MEMORY, atom: 0 };
  }
  // Everything up to `atom` is in use now (a crash before this write leaves a lower, still valid hint).
  writeHint(session, table, atom + 1);
  return { status: STATUS_SUCCESS, atom };
}

function deleteLocked(session: Session, table: number, atom: number, evenIfPinned: boolean): number {
  const record = readRecord(session, atom);
  if (!record) return STATUS_INVALID_HANDLE;
  if (record.pinned && !evenIfPinned) return STATUS_WAS_LOCKED;
  record.count--;
  return keepOrFree(session, table, record);
}

/** Writes the record back, or frees the atom when nothing holds it any more (no reference, not bridged). */
function keepOrFree(session: Session, table: number, record: AtomRecord): number {
  if (record.count > 0 || record.server) {
    const written = writeRecord(session, record);
    return written < 0 ? statusFromErrno(written) : STATUS_SUCCESS;
  }
  const atom = record.atom;
  // Lower the hint before freeing the number, so it never sits above a free atom.
  if (atom < readHint(session, table)) {
    const hinted = writeHint(session, table, atom);
    if (hinted < 0) return statusFromErrno(hinted);
  }
  // Record first: if we die between the two, the repair drops the index entry.
  const dropped = unlinkByName(session, idName(atom));
  if (dropped < 0) return statusFromErrno(dropped);
  unlinkByName(session, atomKey(record.name));
  return STATUS_SUCCESS;
}

function findLocked(session: Session, name: Buffer): { status: number; atom: number } {
  if (!name.length) return { status: STATUS_OBJECT_NAME_INVALID, atom: 0 };
  if (name.length > MAX_ATOM_NAME_UNITS * 2) return { status: STATUS_INVALID_PARAMETER, atom: 0 };
  const atom = lookupByName(session, atomKey(name));
  return atom ? { status: STATUS_SUCCESS, atom } : { status: STATUS_OBJECT_NAME_NOT_FOUND, atom: 0 };
}

// ---------------------------------------------------------------------------
// The translators

interface NameRequest {
  name: UnicodeStr;
}
interface AtomRequest {
  atom: number;
}
interface AtomReply {
  atom: number;
}
/** A type (not an interface) so that it fits a TranslatedReply body. */
export type AtomInformationReply = {
  count: number;
  pinned: number;
  total: number;
  name: UnicodeStr;
};

/** Reply data of `bytes`, as the generated encoder expects a unicode_str. */
export function unicodeValue(bytes: Buffer): UnicodeStr {
  return bytes.length % 2 ? { malformed: true, bytes: Buffer.from(bytes) } : bytes.toString('utf16le');
}

const READ_TABLE: readonly PrimitiveCall[] = ['object_open', 'lockobject', 'unlock', 'size', 'getdata', 'object_close'];

export const addAtom: TranslatedEntry<NameRequest, AtomReply> = {
  request: 'add_atom',
  family: 'atoms',
  status: 'translated',
  domains: ['global-atom-table'],
  primitives: ['object_create', 'object_open', 'lockobject', 'unlock', 'size', 'getdata', 'setdata', 'object_list', 'object_unlink', 'object_close'],
  async translate(request, ctx): Promise<TranslatedReply<AtomReply>> {
    const name = atomNameBytes(request.body.name);
    const result = await withTable(ctx.session, 'write', true, (table) => addLocked(ctx.session, table, name));
    const { status, atom } = result ?? { status: STATUS_NO_MEMORY, atom: 0 };
    return { error: status, body: { atom } };
  },
};

export const deleteAtom: TranslatedEntry<AtomRequest, Record<string, never>> = {
  request: 'delete_atom',
  family: 'atoms',
  status: 'translated',
  domains: ['global-atom-table'],
  primitives: ['object_open', 'lockobject', 'unlock', 'size', 'getdata', 'setdata', 'object_unlink', 'object_close'],
  async translate(request, ctx) {
    const atom = request.body.atom >>> 0;
    const status = await withTable(ctx.session, 'write', false, (table) => deleteLocked(ctx.session, table, atom, false));
    return { error: status ?? STATUS_OBJECT_NAME_NOT_FOUND, body: {} };
  },
};

export const findAtom: TranslatedEntry<NameRequest, AtomReply> = {
  request: 'find_atom',
  family: 'atoms',
  status: 'translated',
  domains: ['global-atom-table'],
  primitives: READ_TABLE,
  async translate(request, ctx) {
    const name = atomNameBytes(request.body.name);
    const result = await withTable(ctx.session, 'read', false, () => findLocked(ctx.session, name));
    if (!result) return { error: STATUS_OBJECT_NAME_NOT_FOUND, body: { atom: 0 } };
    return { error: result.status, body: { atom: result.atom } };
  },
};

export const getAtomInformation: TranslatedEntry<AtomRequest, AtomInformationReply> = {
  request: 'get_atom_information',
  family: 'atoms',
  status: 'translated',
  domains: ['global-atom-table'],
  primitives: READ_TABLE,
  async translate(request, ctx) {
    const atom = request.body.atom >>> 0;
    const zero: AtomInformationReply = { count: 0, pinned: 0, total: 0, name: '' };
    const record = await withTable(ctx.session, 'read', false, () => readRecord(ctx.session, atom) ?? ('missing' as const));
    if (record === null) return { error: STATUS_OBJECT_NAME_NOT_FOUND, body: zero };
    if (record === 'missing') return { error: STATUS_INVALID_HANDLE, body: { ...zero, count: -1 } };
    return atomInformation(record, record.count, request.replySize);
  },
};

/** get_atom_information's answer for an atom with `count` references: the name cut to what the client accepts. */
export function atomInformation(record: AtomRecord, count: number, replySize: number): TranslatedReply<AtomInformationReply> {
  const shown = record.name.subarray(0, Math.min(record.name.length, replySize >>> 0));
  return { error: STATUS_SUCCESS, body: { count, pinned: record.pinned, total: record.name.length, name: unicodeValue(shown) } };
}

export const ATOM_TRANSLATORS = [addAtom, deleteAtom, findAtom, getAtomInformation] as const;

// ---------------------------------------------------------------------------
// The table as other translators use it (window classes and properties keep
// their atoms here in Wine). Same semantics as wineserver's internal helpers.

/** Adds (or references) a string atom; creates the table if needed. */
export async function addGlobalAtom(session: Session, name: Buffer): Promise<{ status: number; atom: number }> {
  return (await withTable(session, 'write', true, (table) => addLocked(session, table, atomNameBytes({ malformed: true, bytes: name })))) ?? { status: STATUS_NO_MEMORY, atom: 0 };
}

/** The atom of a name, or 0 (never an error, as wineserver's class code expects). */
export async function findGlobalAtom(session: Session, name: Buffer): Promise<number> {
  const bytes = atomNameBytes({ malformed: true, bytes: name });
  if (!bytes.length || bytes.length > MAX_ATOM_NAME_UNITS * 2) return 0;
  return (await withTable(session, 'read', false, () => lookupByName(session, atomKey(bytes)))) ?? 0;
}

/** Takes one more reference on an atom; integer atoms (below 0xc000) always succeed. */
export async function grabGlobalAtom(session: Session, atom: number): Promise<{ ok: boolean; status: number }> {
  if (atom < MIN_STRING_ATOM) return { ok: true, status: STATUS_SUCCESS };
  const result = await withTable(session, 'write', false, () => {
    const record = readRecord(session, atom);
    if (!record) return STATUS_INVALID_HANDLE;
    record.count++;
    const written = writeRecord(session, record);
    return written < 0 ? statusFromErrno(written) : STATUS_SUCCESS;
  });
  if (result === null) return { ok: false, status: STATUS_OBJECT_NAME_NOT_FOUND };
  return { ok: result === STATUS_SUCCESS, status: result };
}

/** Drops a reference taken by addGlobalAtom or grabGlobalAtom (pinned or not). */
export async function releaseGlobalAtom(session: Session, atom: number): Promise<number> {
  if (atom < MIN_STRING_ATOM) return STATUS_SUCCESS;
  return (await withTable(session, 'write', false, (table) => deleteLocked(session, table, atom, true))) ?? STATUS_OBJECT_NAME_NOT_FOUND;
}

// ---------------------------------------------------------------------------
// The table as the live atom bridge uses it (mappings/atom-bridge.ts): the
// bridge pairs proxy atoms with wineserver's and needs several steps under one
// lock. Every method is valid only inside withAtomTable's callback.

export interface LockedAtomTable {
  /** find_atom's answer for a name (status and atom, as the request would get them). */
  find(name: Buffer): { status: number; atom: number };
  /** The record of an atom, or null (integer atoms, free numbers). */
  get(atom: number): AtomRecord | null;
  /** add_atom: one more reference on `name`. */
  add(name: Buffer): { status: number; atom: number };
  /** delete_atom: one reference less (frees the atom at zero unless it is bridged). */
  release(atom: number): number;
  /** Writes a changed record back, or frees the atom if nothing holds it (count 0, not bridged). */
  store(record: AtomRecord): number;
  /** The atom of `name`, paired with wineserver's `server` atom; a new atom starts with no reference. */
  bridge(name: Buffer, server: number): { status: number; atom: number };
}

/**
 * Runs `fn` with the table locked (`create`: make the table if it does not
 * exist, as add_atom would). Null when the table does not exist.
 */
export async function withAtomTable<T>(session: Session, mode: TableMode, create: boolean, fn: (table: LockedAtomTable) => T | Promise<T>): Promise<T | null> {
  return withTable(session, mode, create, (table) =>
    fn({
      find: (name) => findLocked(session, atomNameBytes({ malformed: true, bytes: name })),
      get: (atom) => readRecord(session, atom >>> 0),
      add: (name) => addLocked(session, table, atomNameBytes({ malformed: true, bytes: name })),
      release: (atom) => deleteLocked(session, table, atom >>> 0, false),
      store: (record) => keepOrFree(session, table, record),
      bridge: (name, server) => addLocked(session, table, atomNameBytes({ malformed: true, bytes: name }), server),
    }),
  );
}
