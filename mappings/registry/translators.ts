// The registry requests answered from the primitives, as Wine 8.0's
// wineserver answers them (facts from reading server/registry.c,
// server/object.c, server/handle.c and the client side in
// dlls/ntdll/unix/registry.c; the code is our own). docs/registry.md lists
// the behaviours reproduced and the few that are not.

import type { Session } from '../../backends/primitives.ts';
import type { ObjectAttributes } from '../../requests/kinds/object-attributes.ts';
import type { UnicodeStr } from '../../requests/kinds/text.ts';
import type { ProxyHandleEntry, ProxyHandleTable } from '../handles.ts';
import type { Awaitable, PrimitiveCall, TranslatedEntry, TranslatedReply, TranslationContext } from '../translator.ts';
import { encodeSecurityDescriptor } from '../../requests/kinds/security.ts';
import { sdIsValid } from '../security/descriptor.ts';
import { dropKeyDescriptor, grantKeyAccess, keyAccessWithoutDescriptor, storeCreationDescriptor } from './key-security.ts';
import { KEY_FLAG, type KeyHeader } from './record.ts';
import { sameName } from './names.ts';
import * as S from './status.ts';
import { PREFIX_HIVES } from './init.ts';
import {
  keyName,
  MAX_KEY_NAME_UNITS,
  MAX_VALUE_NAME_UNITS,
  OBJ_INHERIT,
  OBJ_OPENIF,
  OBJ_OPENLINK,
  REG_LINK,
  REG_OPTION_CREATE_LINK,
  REG_OPTION_VOLATILE,
  RegistryStore,
  SYMLINK_VALUE,
  type RegistryOptions,
  type RegistryTx,
} from './store.ts';

// ---------------------------------------------------------------------------
// Access masks (winnt.h values)

/** What a touch changed, as set_registry_notification's filter names it. */
export const REG_NOTIFY_CHANGE_NAME = 0x1;
export const REG_NOTIFY_CHANGE_LAST_SET = 0x4;
export const KEY_QUERY_VALUE = 0x0001;
export const KEY_SET_VALUE = 0x0002;
export const KEY_CREATE_SUB_KEY = 0x0004;
export const KEY_ENUMERATE_SUB_KEYS = 0x0008;
export const KEY_NOTIFY = 0x0010;
export const KEY_CREATE_LINK = 0x0020;
export const KEY_WOW64_64KEY = 0x0100;
export const KEY_WOW64_32KEY = 0x0200;
export const DELETE = 0x00010000;
export const KEY_WRITE = 0x00020006;
export const KEY_ALL_ACCESS = 0x000f003f;
/**
 * The access a new handle on a key without a security descriptor of its own
 * gets: generic rights mapped with the key type's mapping, the WOW64 view
 * bits dropped, MAXIMUM_ALLOWED turned into all key rights (what
 * check_object_access grants when obj->sd is null, as for every key loaded
 * from a prefix). Everything else asked is granted as asked, READ_CONTROL,
 * WRITE_DAC, WRITE_OWNER and ACCESS_SYSTEM_SECURITY included. A key given a
 * descriptor is checked against it (key-security.ts grantKeyAccess).
 */
export function mapKeyAccess(requested: number): number {
  return keyAccessWithoutDescriptor(requested);
}

// ---------------------------------------------------------------------------
// The store of a session

const stores = new WeakMap<Session, RegistryStore>();

/** The registry of the session's instance (created with `options` on first use). */
export function registryFor(session: Session, options?: RegistryOptions): RegistryStore {
  let store = stores.get(session);
  if (!store) stores.set(session, (store = new RegistryStore(session, options)));
  return store;
}

// ---------------------------------------------------------------------------
// Handles

export const KEY_TYPE = 'Key';

/**
 * What a key lookup gives: the key, or the status it fails with (and whether
 * createKeyPath made the key). Made with `new`, never as object literals: all
 * literals of one shape share a hidden class, and when one of them first holds
 * a status that is not a small integer (most NTSTATUS values) V8 replaces that
 * class, while code optimised before goes on making objects of the old one,
 * which every later read then migrates (measured live: a runtime call on each
 * open_key's handle check). A class's instances are made from its constructor
 * and follow such a change.
 */
export class KeyLookup {
  constructor(
    readonly status: number,
    readonly key?: KeyHeader,
    /** createKeyPath made the key (it did not exist). */
    readonly created?: boolean,
  ) {}
}

/** wineserver's get_handle_obj for a key: the handle's key, or the status it fails with. */
function keyOfHandle(ctx: TranslationContext, tx: RegistryTx, handle: number, access: number): KeyLookup {
  const value = handle >>> 0;
  switch (value) {
    case 0xffffffff: // current process
    case 0x7fffffff:
    case 0xfffffffe: // current thread
    case 0xfffffffc: // process token
    case 0xfffffffb: // thread token
      return new KeyLookup(S.STATUS_OBJECT_TYPE_MISMATCH);
  }
  const entry = ctx.handles.get(value);
  if (!entry) return new KeyLookup(S.STATUS_INVALID_HANDLE);
  if (entry.type !== KEY_TYPE) return new KeyLookup(S.STATUS_OBJECT_TYPE_MISMATCH);
  if ((entry.access & access) >>> 0 !== access >>> 0) return new KeyLookup(S.STATUS_ACCESS_DENIED);
  return new KeyLookup(0, tx.headerByHandle(entry.primitive));
}

/** get_hkey_obj: keyOfHandle, and a deleted key is STATUS_KEY_DELETED. */
export function liveKeyOfHandle(ctx: TranslationContext, tx: RegistryTx, handle: number, access: number): KeyLookup {
  const found = keyOfHandle(ctx, tx, handle, access);
  if (found.key && found.key.flags & KEY_FLAG.DELETED) return new KeyLookup(S.STATUS_KEY_DELETED);
  return found;
}

/** A handle minted for a key, or the status it was refused with (hkey 0); a class for the reason KeyLookup is one. */
export class MintedKey {
  constructor(
    readonly status: number,
    readonly hkey: number,
  ) {}
}

/** alloc_handle: a handle on `key` for the `requested` access, checked against the key's descriptor (hkey 0 when refused). */
export function mintKeyHandle(ctx: TranslationContext, tx: RegistryTx, key: KeyHeader, requested: number, attributes: number): MintedKey {
  const granted = grantKeyAccess(tx, key.id, requested);
  if (granted.status) return new MintedKey(granted.status, 0);
  const primitive = tx.openKeyObject(key.id);
  if (primitive < 0) throw new Error(`opening regkey ${key.id} for a handle failed (${primitive})`);
  return new MintedKey(0, ctx.handles.mint({ primitive, type: KEY_TYPE, access: granted.access, flags: attributes & OBJ_INHERIT, object: key.id }));
}

/** get_object_name of a key handle: the key's full name (key_get_full_name); a deleted key is STATUS_KEY_DELETED. */
export function keyHandleName(ctx: TranslationContext, entry: ProxyHandleEntry): Awaitable<{ status: number; name: Buffer }> {
  return registryFor(ctx.session).runNow('read', (tx) => {
    const header = tx.headerByHandle(entry.primitive);
    if (header.flags & KEY_FLAG.DELETED) return { status: S.STATUS_KEY_DELETED, name: Buffer.alloc(0) };
    return { status: 0, name: tx.fullName(header.id) };
  });
}

/** \REGISTRY\<path> of the hives wineserver loads at start, upper-cased (their save branches). */
const SAVED_BRANCH_NAMES = new Set(PREFIX_HIVES.map((hive) => `\\REGISTRY\\${hive.path}`.toUpperCase()));

/**
 * The references wineserver holds on a key beyond its handles, as
 * get_object_info counts them: its parent's (every key in the tree is held
 * by its parent, the root by the registry itself; a deleted key by nobody),
 * one more for the three hives it saves (Machine, User\.Default and the
 * current user), and the one its handler holds while it answers.
 */
export function keyReferencesBeyondHandles(ctx: TranslationContext, entry: ProxyHandleEntry): Awaitable<number> {
  return registryFor(ctx.session).runNow('read', (tx) => {
    const header = tx.headerByHandle(entry.primitive);
    if (header.flags & KEY_FLAG.DELETED) return 1;
    const saved = SAVED_BRANCH_NAMES.has(tx.fullName(header.id).toString('utf16le').toUpperCase());
    return 2 + (saved ? 1 : 0);
  });
}

/**
 * A second handle to the key behind `value` of process `from`, minted in
 * `to` (the same process or another client of the proxy): dup_handle and
 * inheritance (LiveFamily.duplicate). `access` null keeps the source's; a
 * new mask is mapped as for a key without a descriptor (a duplicate asking
 * for more than its source is not checked against the key's descriptor).
 * 0 when the key's object cannot be opened.
 */
export function duplicateKeyHandle(from: TranslationContext, value: number, to: TranslationContext, access: number | null, flags: number): number {
  const entry = from.handles.get(value);
  if (!entry || entry.type !== KEY_TYPE || entry.object === undefined) return 0;
  const primitive = to.session.open(keyName(entry.object));
  if (primitive < 0) return 0;
  const granted = access === null ? entry.access : keyAccessWithoutDescriptor(access);
  return to.handles.mint({ primitive, type: KEY_TYPE, access: granted, flags, object: entry.object });
}

/**
 * Closes a proxy key handle (what the close_handle translator does for a
 * handle of type Key). Returns false when the value is not an open handle.
 */
export function closeKeyHandle(session: Session, handles: ProxyHandleTable, value: number): boolean {
  const entry = handles.get(value);
  if (!entry || entry.type !== KEY_TYPE) return false;
  handles.release(value);
  session.close(entry.primitive);
  return true;
}

// ---------------------------------------------------------------------------
// Request data as wineserver reads it

/** No bytes (zero-length, so safe to share between replies). */
const EMPTY = Buffer.alloc(0);

/** A unicode_str vararg as bytes, an odd trailing byte dropped (get_req_unicode_str). */
export function unicodeBytes(value: UnicodeStr | undefined | null): Buffer {
  if (value === undefined || value === null) return Buffer.alloc(0);
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf16le') : value.bytes;
  return bytes.subarray(0, bytes.length & ~1);
}

function rawUnicode(value: UnicodeStr | undefined | null): Buffer {
  if (value === undefined || value === null) return Buffer.alloc(0);
  return typeof value === 'string' ? Buffer.from(value, 'utf16le') : value.bytes;
}

/** Reply data of `bytes` as the generated encoder expects a unicode_str. */
function unicodeValue(bytes: Buffer): UnicodeStr {
  return bytes.length % 2 ? { malformed: true, bytes: Buffer.from(bytes) } : bytes.toString('utf16le');
}

type ObjAttrField = ObjectAttributes | { malformed: true; bytes: Buffer } | null | undefined;

/** get_req_object_attributes: the attributes, or the status a malformed block fails with. */
export function readObjectAttributes(field: ObjAttrField): { status: number; attr?: { rootdir: number; attributes: number; name: Buffer; sd: Buffer | null } } {
  if (!field) return { status: 0, attr: { rootdir: 0, attributes: 0, name: Buffer.alloc(0), sd: null } };
  if ('malformed' in field) {
    const b = field.bytes;
    if (b.length < 16) return { status: S.STATUS_ACCESS_VIOLATION };
    const sdLen = b.readUInt32LE(8);
    const nameLen = b.readUInt32LE(12);
    if (b.length - 16 < sdLen || b.length - 16 - sdLen < nameLen) return { status: S.STATUS_ACCESS_VIOLATION };
    const sd = sdLen ? Buffer.from(b.subarray(16, 16 + sdLen)) : null;
    if (sd && !sdIsValid(sd)) return { status: S.STATUS_INVALID_SECURITY_DESCR };
    if (nameLen & 1 || nameLen >= 65534) return { status: S.STATUS_OBJECT_NAME_INVALID };
    // The name starts sd_len rounded down to whole characters after the header.
    const nameAt = 16 + (sdLen & ~1);
    return { status: 0, attr: { rootdir: b.readUInt32LE(0), attributes: b.readUInt32LE(4), name: Buffer.from(b.subarray(nameAt, nameAt + nameLen)), sd } };
  }
  const sd = field.sd === null ? null : encodeSecurityDescriptor(field.sd);
  if (sd && !sdIsValid(sd)) return { status: S.STATUS_INVALID_SECURITY_DESCR };
  const name = Buffer.from(field.name, 'utf16le');
  if (name.length >= 65534) return { status: S.STATUS_OBJECT_NAME_INVALID };
  return { status: 0, attr: { rootdir: field.rootdir >>> 0, attributes: field.attributes >>> 0, name, sd } };
}

// ---------------------------------------------------------------------------
// Operations shared by several requests

/** wineserver's open_key (64-bit view): the key a path names from `parent`. */
export function openKeyPath(tx: RegistryTx, parent: KeyHeader | null, name: Buffer, attributes: number): KeyLookup {
  if (name.length >= 65534) return new KeyLookup(S.STATUS_OBJECT_NAME_INVALID);
  const found = tx.resolve(parent, name, attributes);
  if (found.status) return new KeyLookup(found.status);
  if (found.directory) return new KeyLookup(S.STATUS_OBJECT_TYPE_MISMATCH);
  if (found.left!.length) return new KeyLookup(S.STATUS_OBJECT_NAME_NOT_FOUND);
  const key = found.key!;
  return new KeyLookup(key.flags & KEY_FLAG.PREDEF ? S.STATUS_PREDEFINED_HANDLE : 0, key);
}

/** wineserver's create_key (64-bit view): creates the last element of the path if it is missing. */
export function createKeyPath(tx: RegistryTx, parent: KeyHeader | null, name: Buffer, options: number, attributes: number): KeyLookup {
  if (options & REG_OPTION_CREATE_LINK) attributes = (attributes & ~OBJ_OPENIF) | OBJ_OPENLINK;
  if (!name.length) {
    // create_key_object opens the parent itself; create_key then touches that key's parent.
    const found = tx.resolve(parent, name, attributes);
    if (found.status) return new KeyLookup(found.status);
    const key = found.key!;
    if (key.parent) tx.touch(key.parent, REG_NOTIFY_CHANGE_NAME);
    return new KeyLookup(0, key);
  }
  const found = tx.resolve(parent, name, attributes);
  if (found.status) return new KeyLookup(found.status);
  if (found.directory) return new KeyLookup(attributes & OBJ_OPENIF ? S.STATUS_OBJECT_TYPE_MISMATCH : S.STATUS_OBJECT_NAME_COLLISION);
  const at = found.key!;
  const left = found.left!;
  if (!left.length) {
    if (!(attributes & OBJ_OPENIF)) return new KeyLookup(S.STATUS_OBJECT_NAME_COLLISION);
    return new KeyLookup(at.flags & KEY_FLAG.PREDEF ? S.STATUS_PREDEFINED_HANDLE : S.STATUS_OBJECT_NAME_EXISTS, at);
  }
  let flags = 0;
  if (options & REG_OPTION_CREATE_LINK) flags |= KEY_FLAG.SYMLINK;
  if (options & REG_OPTION_VOLATILE) flags |= KEY_FLAG.VOLATILE;
  else if (at.flags & KEY_FLAG.VOLATILE) return new KeyLookup(S.STATUS_CHILD_MUST_BE_VOLATILE);
  const key = tx.createSubkey(at.id, left, flags, tx.now);
  tx.touch(at.id, REG_NOTIFY_CHANGE_NAME);
  return new KeyLookup(0, key, true);
}

/** wineserver's set_value. */
export function setValue(tx: RegistryTx, key: KeyHeader, name: Buffer, type: number, data: Buffer): number {
  if (key.flags & KEY_FLAG.PREDEF) return S.STATUS_INVALID_HANDLE;
  const record = tx.record(key.id);
  const at = tx.findValue(key.id, name);
  if (at >= 0) {
    const old = record.values[at];
    // An identical value is not written again (and the key keeps its time); empty data never counts as identical.
    if (old.type === type >>> 0 && old.data.length === data.length && old.data.length && old.data.equals(data)) return 0;
  }
  if (key.flags & KEY_FLAG.SYMLINK && (type >>> 0 !== REG_LINK || !sameName(name, SYMLINK_VALUE, tx.map))) return S.STATUS_ACCESS_DENIED;
  if (at < 0 && name.length > MAX_VALUE_NAME_UNITS * 2) return S.STATUS_NAME_TOO_LONG;
  const writable = tx.touchRecord(key.id);
  const value = { name: at >= 0 ? writable.values[at].name : Buffer.from(name), type: type >>> 0, data: Buffer.from(data) };
  if (at >= 0) writable.values[at] = value;
  else writable.values.splice(-at - 1, 0, value);
  tx.touch(key.id, REG_NOTIFY_CHANGE_LAST_SET);
  return 0;
}

// ---------------------------------------------------------------------------
// The translators

const WRITE_TREE: readonly PrimitiveCall[] = ['object_create', 'object_open', 'getname', 'namesize', 'size', 'getdata', 'setdata', 'lockobject', 'unlock', 'object_unlink', 'object_close'];
const READ_TREE: readonly PrimitiveCall[] = ['object_create', 'object_open', 'size', 'getdata', 'lockobject', 'unlock', 'object_close'];

function entry<Req, Rep>(
  request: string,
  primitives: readonly PrimitiveCall[],
  translate: (request: { body: Req; replySize: number }, ctx: TranslationContext) => Awaitable<TranslatedReply<Rep>>,
): TranslatedEntry<Req, Rep> {
  return { request, family: 'registry', status: 'translated', domains: ['registry'], primitives, translate };
}

interface CreateKeyRequest {
  access: number;
  options: number;
  objattr: ObjAttrField;
  class: UnicodeStr;
}

export const createKey = entry<CreateKeyRequest, { hkey: number }>('create_key', WRITE_TREE, (request, ctx) => {
  const { body } = request;
  const parsed = readObjectAttributes(body.objattr);
  if (parsed.status) return { error: parsed.status, body: { hkey: 0 } };
  const attr = parsed.attr!;
  // A 64-bit client: the 64-bit view, always (is_wow64_thread is false).
  const access = ((body.access >>> 0) & ~KEY_WOW64_32KEY) | KEY_WOW64_64KEY;
  const klassRaw = rawUnicode(body.class);
  return registryFor(ctx.session).runNow('write', (tx) => {
    let parent: KeyHeader | null = null;
    if (attr.rootdir) {
      const root = liveKeyOfHandle(ctx, tx, attr.rootdir, 0);
      if (!root.key) return { error: root.status, body: { hkey: 0 } };
      parent = root.key;
    }
    const made = createKeyPath(tx, parent, attr.name, body.options >>> 0, attr.attributes);
    if (!made.key) return { error: made.status, body: { hkey: 0 } };
    // Only a key this request creates takes the descriptor (create_object); the handle is then checked against it.
    if (made.created && attr.sd) storeCreationDescriptor(tx, made.key.id, attr.sd);
    if (klassRaw.length) tx.setClass(made.key.id, Buffer.from(klassRaw.subarray(0, klassRaw.length & ~1)));
    const minted = mintKeyHandle(ctx, tx, made.key, access, attr.attributes);
    return { error: minted.status || made.status, body: { hkey: minted.hkey } };
  });
});

interface OpenKeyRequest {
  parent: number;
  access: number;
  attributes: number;
  name: UnicodeStr;
}

// The read requests (most of the traffic) run module-level functions under
// the lock, with the request and context passed along (runNow's a, b): no
// closure is made per request.

export const openKey = entry<OpenKeyRequest, { hkey: number }>('open_key', READ_TREE, (request, ctx) =>
  registryFor(ctx.session).runNow('read', openKeyLocked, request.body, ctx),
);

function openKeyLocked(tx: RegistryTx, body: OpenKeyRequest, ctx: TranslationContext): TranslatedReply<{ hkey: number }> {
  const access = ((body.access >>> 0) & ~KEY_WOW64_32KEY) | KEY_WOW64_64KEY;
  let parent: KeyHeader | null = null;
  if (body.parent) {
    const root = liveKeyOfHandle(ctx, tx, body.parent, 0);
    if (!root.key) return { error: root.status, body: { hkey: 0 } };
    parent = root.key;
  }
  const opened = openKeyPath(tx, parent, unicodeBytes(body.name), body.attributes >>> 0);
  if (!opened.key) return { error: opened.status, body: { hkey: 0 } };
  const minted = mintKeyHandle(ctx, tx, opened.key, access, body.attributes >>> 0);
  return { error: minted.status || opened.status, body: { hkey: minted.hkey } };
}

export const deleteKey = entry<{ hkey: number }, Record<string, never>>('delete_key', WRITE_TREE, (request, ctx) =>
  registryFor(ctx.session).runNow('write', (tx) => {
    const found = keyOfHandle(ctx, tx, request.body.hkey, DELETE);
    if (!found.key) return { error: found.status, body: {} };
    const key = found.key;
    if (key.flags & KEY_FLAG.DELETED) return { error: 0, body: {} };
    if (!key.parent) return { error: S.STATUS_ACCESS_DENIED, body: {} };
    if (key.flags & KEY_FLAG.PREDEF) return { error: S.STATUS_INVALID_HANDLE, body: {} };
    if (tx.subkeys(key.id).length) return { error: S.STATUS_ACCESS_DENIED, body: {} };
    tx.unlinkKey(key.id);
    dropKeyDescriptor(tx, key.id);
    tx.touch(key.parent, REG_NOTIFY_CHANGE_NAME);
    return { error: 0, body: {} };
  }),
);

export const flushKey = entry<{ hkey: number }, Record<string, never>>('flush_key', READ_TREE, (request, ctx) =>
  registryFor(ctx.session).runNow('read', flushKeyLocked, request.body, ctx),
);

function flushKeyLocked(tx: RegistryTx, body: { hkey: number }, ctx: TranslationContext): TranslatedReply<Record<string, never>> {
  // wineserver only checks the handle: its hives are saved periodically and at exit, not on flush.
  const found = liveKeyOfHandle(ctx, tx, body.hkey, 0);
  return { error: found.key ? 0 : found.status, body: {} };
}

// KEY_INFORMATION_CLASS
const KeyBasicInformation = 0;
const KeyNodeInformation = 1;
const KeyFullInformation = 2;
const KeyNameInformation = 3;
const KeyCachedInformation = 4;

interface EnumKeyReply {
  subkeys: number;
  max_subkey: number;
  max_class: number;
  values: number;
  max_value: number;
  max_data: number;
  modif: bigint;
  total: number;
  namelen: number;
  name: UnicodeStr;
  class: UnicodeStr;
}

const zeroEnumKey = (): EnumKeyReply => ({ subkeys: 0, max_subkey: 0, max_class: 0, values: 0, max_value: 0, max_data: 0, modif: 0n, total: 0, namelen: 0, name: '', class: '' });

/** wineserver's enum_key: one key's information (index -1) or its index-th subkey's. */
function enumKeyInfo(tx: RegistryTx, parent: KeyHeader, index: number, infoClass: number, replySize: number): TranslatedReply<EnumKeyReply> {
  const reply = zeroEnumKey();
  if (parent.flags & KEY_FLAG.PREDEF) return { error: S.STATUS_INVALID_HANDLE, body: reply };
  let id = parent.id;
  if (index !== -1) {
    const list = tx.subkeys(parent.id);
    if (index < 0 || index >= list.length) return { error: S.STATUS_NO_MORE_ENTRIES, body: reply };
    id = list[index].id;
  }
  const record = tx.record(id);
  let name = record.name;
  let namelen = name.length;
  let classlen = record.klass?.length ?? 0;
  switch (infoClass) {
    case KeyNameInformation:
      name = tx.fullName(id);
      namelen = name.length;
      classlen = 0;
      break;
    case KeyBasicInformation:
      classlen = 0;
      break;
    case KeyNodeInformation:
      break;
    case KeyFullInformation:
    case KeyCachedInformation: {
      for (const s of tx.subkeys(id)) {
        reply.max_subkey = Math.max(reply.max_subkey, s.name.length);
        reply.max_class = Math.max(reply.max_class, s.classLength);
      }
      for (const v of record.values) {
        reply.max_value = Math.max(reply.max_value, v.name.length);
        reply.max_data = Math.max(reply.max_data, v.data.length);
      }
      reply.namelen = namelen;
      if (infoClass === KeyCachedInformation) classlen = 0;
      namelen = 0;
      break;
    }
    default:
      return { error: S.STATUS_INVALID_PARAMETER, body: reply };
  }
  reply.subkeys = tx.subkeys(id).length;
  reply.values = record.values.length;
  reply.modif = record.modif;
  reply.total = namelen + classlen;
  const len = Math.min(reply.total, replySize >>> 0);
  if (len) {
    let data: Buffer;
    if (len > namelen) {
      reply.namelen = namelen;
      data = Buffer.concat([name.subarray(0, namelen), (record.klass ?? Buffer.alloc(0)).subarray(0, len - namelen)]);
    } else {
      reply.namelen = infoClass === KeyNameInformation ? namelen : len;
      data = name.subarray(0, len);
    }
    const split = Math.min(reply.namelen, data.length);
    reply.name = unicodeValue(data.subarray(0, split));
    reply.class = unicodeValue(data.subarray(split));
  }
  return { error: 0, body: reply };
}

interface EnumRequest {
  body: { hkey: number; index: number; info_class: number };
  replySize: number;
}

export const enumKey = entry<EnumRequest['body'], EnumKeyReply>('enum_key', READ_TREE, (request, ctx) =>
  registryFor(ctx.session).runNow('read', enumKeyLocked, request, ctx),
);

function enumKeyLocked(tx: RegistryTx, request: EnumRequest, ctx: TranslationContext): TranslatedReply<EnumKeyReply> {
  const index = request.body.index | 0;
  const found = liveKeyOfHandle(ctx, tx, request.body.hkey, index === -1 ? 0 : KEY_ENUMERATE_SUB_KEYS);
  if (!found.key) return { error: found.status, body: zeroEnumKey() };
  return enumKeyInfo(tx, found.key, index, request.body.info_class | 0, request.replySize);
}

interface SetKeyValueRequest {
  hkey: number;
  type: number;
  namelen: number;
  name: UnicodeStr;
  data: Buffer;
}

export const setKeyValue = entry<SetKeyValueRequest, Record<string, never>>('set_key_value', WRITE_TREE, (request, ctx) => {
  const { body } = request;
  const rawName = rawUnicode(body.name);
  const data = body.data ? Buffer.from(body.data) : Buffer.alloc(0);
  // namelen larger than the request data: the name runs past the end.
  if (body.namelen >>> 0 > rawName.length + data.length || rawName.length < body.namelen >>> 0) return { error: S.STATUS_INVALID_PARAMETER, body: {} };
  const name = rawName.subarray(0, rawName.length & ~1);
  return registryFor(ctx.session).runNow('write', (tx) => {
    const found = liveKeyOfHandle(ctx, tx, body.hkey, KEY_SET_VALUE);
    if (!found.key) return { error: found.status, body: {} };
    return { error: setValue(tx, found.key, name, body.type, data), body: {} };
  });
});

interface GetKeyValueReply {
  type: number;
  total: number;
  data: Buffer;
}

interface GetKeyValueRequest {
  body: { hkey: number; name: UnicodeStr };
  replySize: number;
}

export const getKeyValue = entry<GetKeyValueRequest['body'], GetKeyValueReply>('get_key_value', READ_TREE, (request, ctx) =>
  registryFor(ctx.session).runNow('read', getKeyValueLocked, request, ctx),
);

function getKeyValueLocked(tx: RegistryTx, request: GetKeyValueRequest, ctx: TranslationContext): TranslatedReply<GetKeyValueReply> {
  const reply: GetKeyValueReply = { type: 0, total: 0, data: EMPTY };
  const found = liveKeyOfHandle(ctx, tx, request.body.hkey, KEY_QUERY_VALUE);
  if (!found.key) return { error: found.status, body: reply };
  if (found.key.flags & KEY_FLAG.PREDEF) return { error: S.STATUS_INVALID_HANDLE, body: reply };
  const at = tx.findValue(found.key.id, unicodeBytes(request.body.name));
  if (at < 0) return { error: S.STATUS_OBJECT_NAME_NOT_FOUND, body: { ...reply, type: -1 } };
  const value = tx.record(found.key.id).values[at];
  return {
    error: 0,
    body: { type: value.type | 0, total: value.data.length, data: value.data.subarray(0, Math.min(value.data.length, request.replySize >>> 0)) },
  };
}

// KEY_VALUE_INFORMATION_CLASS
const KeyValueBasicInformation = 0;
const KeyValueFullInformation = 1;
const KeyValuePartialInformation = 2;

interface EnumKeyValueReply {
  type: number;
  total: number;
  namelen: number;
  name: UnicodeStr;
  data: Buffer;
}

export const enumKeyValue = entry<EnumRequest['body'], EnumKeyValueReply>('enum_key_value', READ_TREE, (request, ctx) =>
  registryFor(ctx.session).runNow('read', enumKeyValueLocked, request, ctx),
);

function enumKeyValueLocked(tx: RegistryTx, request: EnumRequest, ctx: TranslationContext): TranslatedReply<EnumKeyValueReply> {
  const reply: EnumKeyValueReply = { type: 0, total: 0, namelen: 0, name: '', data: EMPTY };
  const found = liveKeyOfHandle(ctx, tx, request.body.hkey, KEY_QUERY_VALUE);
  if (!found.key) return { error: found.status, body: reply };
  if (found.key.flags & KEY_FLAG.PREDEF) return { error: S.STATUS_INVALID_HANDLE, body: reply };
  const values = tx.record(found.key.id).values;
  const index = request.body.index | 0;
  if (index < 0 || index >= values.length) return { error: S.STATUS_NO_MORE_ENTRIES, body: reply };
  const value = values[index];
  reply.type = value.type | 0;
  let namelen = value.name.length;
  switch (request.body.info_class | 0) {
    case KeyValueBasicInformation:
      reply.total = namelen;
      break;
    case KeyValueFullInformation:
      reply.total = namelen + value.data.length;
      break;
    case KeyValuePartialInformation:
      reply.total = value.data.length;
      namelen = 0;
      break;
    default:
      return { error: S.STATUS_INVALID_PARAMETER, body: reply };
  }
  const max = Math.min(reply.total, request.replySize >>> 0);
  if (max) {
    if (max > namelen) {
      reply.namelen = namelen;
      reply.name = unicodeValue(value.name.subarray(0, namelen));
      reply.data = value.data.subarray(0, max - namelen);
    } else {
      reply.namelen = max;
      reply.name = unicodeValue(value.name.subarray(0, max));
    }
  }
  return { error: 0, body: reply };
}

export const deleteKeyValue = entry<{ hkey: number; name: UnicodeStr }, Record<string, never>>('delete_key_value', WRITE_TREE, (request, ctx) => {
  const name = unicodeBytes(request.body.name);
  return registryFor(ctx.session).runNow('write', (tx) => {
    const found = liveKeyOfHandle(ctx, tx, request.body.hkey, KEY_SET_VALUE);
    if (!found.key) return { error: found.status, body: {} };
    if (found.key.flags & KEY_FLAG.PREDEF) return { error: S.STATUS_INVALID_HANDLE, body: {} };
    const at = tx.findValue(found.key.id, name);
    if (at < 0) return { error: S.STATUS_OBJECT_NAME_NOT_FOUND, body: {} };
    tx.touchRecord(found.key.id).values.splice(at, 1);
    tx.touch(found.key.id, REG_NOTIFY_CHANGE_LAST_SET);
    return { error: 0, body: {} };
  });
});

export const renameKey = entry<{ hkey: number; name: UnicodeStr }, Record<string, never>>('rename_key', WRITE_TREE, (request, ctx) => {
  const name = unicodeBytes(request.body.name);
  return registryFor(ctx.session).runNow('write', (tx) => {
    const found = liveKeyOfHandle(ctx, tx, request.body.hkey, KEY_WRITE);
    if (!found.key) return { error: found.status, body: {} };
    const key = found.key;
    let element = 0;
    while (element < name.length && name.readUInt16LE(element) !== 0x5c) element += 2;
    if (!element || element !== name.length || element > MAX_KEY_NAME_UNITS * 2) return { error: S.STATUS_INVALID_PARAMETER, body: {} };
    if (!key.parent || tx.findSubkey(key.parent, name)) return { error: S.STATUS_CANNOT_DELETE, body: {} };
    const wow = Buffer.from('Wow6432Node', 'utf16le');
    const parentName = tx.record(key.parent).name;
    const isParentsWowNode = sameName(tx.record(key.id).name, wow, tx.map) && !sameName(parentName, wow, tx.map);
    if (isParentsWowNode || sameName(name, wow, tx.map)) return { error: S.STATUS_INVALID_PARAMETER, body: {} };
    tx.renameKey(key.id, name);
    tx.touch(key.id, REG_NOTIFY_CHANGE_NAME);
    return { error: 0, body: {} };
  });
});

export const REGISTRY_TRANSLATORS = [createKey, openKey, deleteKey, flushKey, enumKey, setKeyValue, getKeyValue, enumKeyValue, deleteKeyValue, renameKey] as const;
