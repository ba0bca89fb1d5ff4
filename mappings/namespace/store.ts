// The NT object namespace on the primitives: directories, symbolic links and
// the names of objects of other types, with wineserver's lookup rules.
//
// Layout in one instance (docs/object-namespace.md has the full picture):
//   ntns:meta            permanent; u32 magic, u32 populated, u32 next
//                        directory id, u32 next insertion sequence. Its lock
//                        serialises the namespace: shared to look up,
//                        exclusive to add entries or change records.
//   ntns:root            permanent; the record of "\" (directory id 1).
//   ntd.<dir id hex>:<key>
//                        one object per entry of that directory, holding the
//                        entry's record. <key> is the exact name, each UTF-16
//                        unit written as in UTF-8 (U+0000 as C0 80); a name
//                        whose key would not fit the primitive name limit is
//                        keyed FF + sha256 of that encoding instead (FF never
//                        occurs in the encoding, so the two kinds cannot meet).
//   ntanon:<assigned>    unnamed objects (a directory created without a name).
// A directory's entries are one primitive namespace, so object_list lists
// exactly that directory. Directory ids are never reused.
//
// Record (little-endian): u32 magic, u32 kind, u32 directory id (its own,
// for directories), u32 sequence, u32 flags, u32 hash size, then u32 lengths
// of name, type name, target, security descriptor, then those bytes (names
// UTF-16LE).
//
// Wine's behaviour reproduced (facts from reading Wine 8.0's
// server/object.c, directory.c, symlink.c; the code here is our own):
//  * lookup walks element by element from "\" or a root handle; an absolute
//    name with a root, or a relative one without, is OBJECT_PATH_SYNTAX_BAD;
//    a missing middle element is OBJECT_PATH_NOT_FOUND, an empty one
//    OBJECT_NAME_INVALID; a symbolic link met on the way (or at the end,
//    unless OBJ_OPENLINK) is followed by looking its target up from "\",
//    at most 32 links deep (then INVALID_PARAMETER); the link given as the
//    root handle itself is not followed; "\??\GLOBALROOT" (no target) leads
//    to "\";
//  * a name compares exactly, or through Wine's case map with
//    OBJ_CASE_INSENSITIVE; two entries may differ only in case, and a
//    case-insensitive lookup then finds the one added last;
//  * entries are listed in wineserver's hash order: bucket
//    (hash of the folded name, x*65599+unit, modulo the directory's hash
//    size: 7, or 37 for \Sessions\<n>\BaseNamedObjects) ascending, and
//    within a bucket the most recently added first;
//  * a temporary object lives while a handle is open; a directory (and its
//    parents) also while any entry of it lives. Each proxy handle therefore
//    also holds primitive handles on the temporary directories above its
//    object (its anchors), and closing it closes them.

import {
  WK_CREATE_OPEN_EXISTING,
  WK_CREATE_PERMANENT,
  WK_ENOENT,
  WK_EOWNERDEAD,
  WK_ERANGE,
  WK_LOCK_EXCLUSIVE,
  WK_LOCK_SHARED,
  WK_SETDATA_TRUNCATE,
  parseNameList,
  type Session,
} from '../../backends/primitives.ts';
import { STATUS_INVALID_PARAMETER, STATUS_OBJECT_NAME_COLLISION, STATUS_OBJECT_NAME_INVALID, STATUS_SUCCESS, statusFromErrno } from '../ntstatus.ts';
import { mergeSecurityDescriptor, sdBytes, sdParts, WINE_PROCESS_TOKEN, type NtToken } from '../security/descriptor.ts';
import {
  DEFAULT_HASH_SIZE,
  decodeRecord,
  dirNamespace,
  encodeRecord,
  entryPrimName,
  FLAG_PERMANENT,
  FLAG_ROOT_LINK,
  KIND_DIRECTORY,
  KIND_SYMLINK,
  keyName,
  MAX_LINK_DEPTH,
  META_MAGIC,
  META_NAME,
  nameBucket,
  NamespaceStoreError,
  OBJ_CASE_INSENSITIVE,
  OBJ_OPENIF,
  OBJ_OPENLINK,
  OBJ_PERMANENT,
  ROOT_DIR_ID,
  ROOT_NAME,
  sameFolded,
  STATUS_OBJECT_NAME_EXISTS,
  STATUS_OBJECT_PATH_NOT_FOUND,
  STATUS_OBJECT_PATH_SYNTAX_BAD,
  STATUS_OBJECT_TYPE_MISMATCH,
  type EntryRecord,
  type NsNode,
} from './records.ts';

export * from './records.ts';
// ---------------------------------------------------------------------------
// Primitive helpers

function readAll(session: Session, handle: number, where: string): Buffer {
  const size = session.size(handle);
  if (size < 0) throw new NamespaceStoreError(`${where}: size failed (${size})`);
  const buf = Buffer.alloc(size);
  const got = session.getdata(handle, buf, 0);
  if (got < 0) throw new NamespaceStoreError(`${where}: getdata failed (${got})`);
  return buf.subarray(0, got);
}

/** The record behind a primitive handle. */
export function readRecord(session: Session, handle: number): EntryRecord {
  return decodeRecord(readAll(session, handle, 'namespace entry'), 'namespace entry');
}

export function writeRecord(session: Session, handle: number, record: EntryRecord): number {
  const written = session.setdata(handle, encodeRecord(record), 0, WK_SETDATA_TRUNCATE);
  return written < 0 ? written : 0;
}

/** The handles one operation opened; all are closed at its end except those handed to a proxy handle. */
class OpenSet {
  private readonly handles: number[] = [];
  constructor(readonly session: Session) {}
  open(name: Buffer | string): number {
    const h = this.session.open(name);
    if (h >= 0) this.handles.push(h);
    return h;
  }
  closeAll(): void {
    for (const h of this.handles.splice(0)) this.session.close(h);
  }
}

// ---------------------------------------------------------------------------
// The namespace lock and the initial tree

interface Meta {
  populated: number;
  nextDirId: number;
  nextSeq: number;
}

function readMeta(session: Session, meta: number): Meta {
  const data = readAll(session, meta, META_NAME);
  if (data.length !== 16 || data.readUInt32LE(0) !== META_MAGIC) throw new NamespaceStoreError(`${META_NAME} is not a winekernel namespace`);
  return { populated: data.readUInt32LE(4), nextDirId: data.readUInt32LE(8), nextSeq: data.readUInt32LE(12) };
}

function metaData(m: Meta): Buffer {
  const out = Buffer.alloc(16);
  [META_MAGIC, m.populated, m.nextDirId, m.nextSeq].forEach((v, i) => out.writeUInt32LE(v >>> 0, i * 4));
  return out;
}

/** The namespace, locked for one operation. */
export class NamespaceTxn {
  readonly opened: OpenSet;
  private meta: Meta;
  constructor(
    readonly session: Session,
    private readonly metaHandle: number,
    readonly mode: 'read' | 'write',
  ) {
    this.opened = new OpenSet(session);
    this.meta = readMeta(session, metaHandle);
  }

  /** A fresh insertion sequence number (write mode). */
  nextSeq(): number {
    const seq = this.meta.nextSeq++;
    this.saveMeta();
    return seq;
  }

  nextDirId(): number {
    const id = this.meta.nextDirId++;
    this.saveMeta();
    return id;
  }

  private saveMeta(): void {
    if (this.mode !== 'write') throw new NamespaceStoreError('namespace changed under a shared lock');
    const written = this.session.setdata(this.metaHandle, metaData(this.meta), 0, WK_SETDATA_TRUNCATE);
    if (written < 0) throw new NamespaceStoreError(`updating ${META_NAME} failed (${written})`);
  }

  get populated(): boolean {
    return this.meta.populated === 1;
  }

  markPopulated(): void {
    this.meta.populated = 1;
    this.saveMeta();
  }

  root(): NsNode {
    const h = this.opened.open(ROOT_NAME);
    if (h < 0) throw new NamespaceStoreError(`opening ${ROOT_NAME} failed (${h})`);
    return { record: readRecord(this.session, h), primName: Buffer.from(ROOT_NAME), chain: [] };
  }
}

type Populate = (txn: NamespaceTxn) => void;
let populateInitialTree: Populate | undefined;

/** Registers the builder of wineserver's startup tree (mappings/namespace/initial.ts). */
export function setInitialTree(populate: Populate): void {
  populateInitialTree = populate;
}

async function takeLock(session: Session, handle: number, flags: number): Promise<void> {
  const locked = await session.lock(handle, flags);
  // A holder that died mid-operation leaves at most one entry without a consumed
  // sequence number or an unused directory id; both are harmless, so carry on.
  if (locked !== 0 && locked !== -WK_EOWNERDEAD) throw new NamespaceStoreError(`locking ${META_NAME} failed (${locked})`);
}

/** Runs `fn` with the namespace locked (shared for 'read'), creating and populating it on first use. */
export async function withNamespace<T>(session: Session, mode: 'read' | 'write', fn: (txn: NamespaceTxn) => T): Promise<T> {
  const meta = session.create(META_NAME, metaData({ populated: 0, nextDirId: ROOT_DIR_ID + 1, nextSeq: 1 }), WK_CREATE_OPEN_EXISTING | WK_CREATE_PERMANENT);
  if (meta < 0) throw new NamespaceStoreError(`cannot open ${META_NAME} (${meta})`);
  try {
    await takeLock(session, meta, mode === 'write' ? WK_LOCK_EXCLUSIVE : WK_LOCK_SHARED);
    let txn = new NamespaceTxn(session, meta, mode);
    if (!txn.populated) {
      if (mode === 'read') {
        session.unlock(meta);
        await takeLock(session, meta, WK_LOCK_EXCLUSIVE);
      }
      const writer = new NamespaceTxn(session, meta, 'write');
      try {
        if (!writer.populated) populate(writer);
      } finally {
        writer.opened.closeAll();
      }
      if (mode === 'read') {
        session.unlock(meta);
        await takeLock(session, meta, WK_LOCK_SHARED);
      }
      txn = new NamespaceTxn(session, meta, mode);
    }
    try {
      return fn(txn);
    } finally {
      txn.opened.closeAll();
      session.unlock(meta);
    }
  } finally {
    session.close(meta);
  }
}

function populate(txn: NamespaceTxn): void {
  const root: EntryRecord = { kind: KIND_DIRECTORY, dirId: ROOT_DIR_ID, seq: 0, flags: FLAG_PERMANENT, hashSize: DEFAULT_HASH_SIZE, name: '', type: 'Directory', target: Buffer.alloc(0), sd: null };
  const h = txn.session.create(ROOT_NAME, encodeRecord(root), WK_CREATE_OPEN_EXISTING | WK_CREATE_PERMANENT);
  if (h < 0) throw new NamespaceStoreError(`creating ${ROOT_NAME} failed (${h})`);
  txn.session.close(h);
  if (!populateInitialTree) throw new NamespaceStoreError('the initial namespace tree is not registered');
  populateInitialTree(txn);
  txn.markPopulated();
}

// ---------------------------------------------------------------------------
// Directory contents

/** Every entry of a directory: its name (key) and primitive name. */
function listDirectory(txn: NamespaceTxn, dirId: number): Buffer[] {
  const ns = dirNamespace(dirId);
  let buf = Buffer.alloc(4096);
  for (;;) {
    const result = txn.session.list(ns, buf, 0, 0);
    if (result.status === -WK_ERANGE) {
      buf = Buffer.alloc(result.bytesNeeded);
      continue;
    }
    if (result.status < 0) throw new NamespaceStoreError(`listing ${ns} failed (${result.status})`);
    return parseNameList(buf, result.count).map((key) => Buffer.concat([Buffer.from(`${ns}:`, 'latin1'), key]));
  }
}

function openEntry(txn: NamespaceTxn, primName: Buffer): EntryRecord | null {
  const h = txn.opened.open(primName);
  if (h === -WK_ENOENT) return null;
  if (h < 0) throw new NamespaceStoreError(`opening a namespace entry failed (${h})`);
  return readRecord(txn.session, h);
}

/** find_object: the entry `name` of directory `dir`, exactly or case-insensitively. */
function findEntry(txn: NamespaceTxn, dir: NsNode, name: string, caseInsensitive: boolean): NsNode | null {
  const chain = [...dir.chain, dir];
  if (!caseInsensitive) {
    const primName = entryPrimName(dir.record.dirId, name);
    const record = openEntry(txn, primName);
    // A hashed key still needs the exact comparison.
    return record && record.name === name ? { record, primName, chain } : null;
  }
  let best: NsNode | null = null;
  for (const primName of listDirectory(txn, dir.record.dirId)) {
    const key = primName.subarray(primName.indexOf(0x3a) + 1);
    const known = keyName(key);
    if (known !== null && !sameFolded(known, name)) continue;
    const record = openEntry(txn, primName);
    if (!record || !sameFolded(record.name, name)) continue;
    // Case variants share a bucket, where the most recently added comes first.
    if (!best || record.seq > best.record.seq) best = { record, primName, chain };
  }
  return best;
}

/** find_object_index: the index-th entry in wineserver's order, or null. */
export function entryAt(txn: NamespaceTxn, dir: NsNode, index: number): EntryRecord | null {
  const records: EntryRecord[] = [];
  for (const primName of listDirectory(txn, dir.record.dirId)) {
    const record = openEntry(txn, primName);
    if (record) records.push(record);
  }
  const hashSize = dir.record.hashSize || DEFAULT_HASH_SIZE;
  const keyed = records.map((r) => ({ r, bucket: nameBucket(r.name, hashSize) }));
  keyed.sort((a, b) => a.bucket - b.bucket || b.r.seq - a.r.seq);
  return keyed[index]?.r ?? null;
}

// ---------------------------------------------------------------------------
// Lookup (lookup_named_object)

/** The part of a name not consumed yet: null for "the object itself", or text (atEnd: nothing at all left). */
type Remaining = null | { text: string; atEnd: boolean };

export type LookupResult = { status: number; node: null; left: string } | { status: typeof STATUS_SUCCESS; node: NsNode; left: string };

/**
 * Resolves `name` from `root` (a node the caller holds) or from "\" as
 * wineserver does, returning the deepest object reached and the name left
 * over (empty when the whole name named an existing object).
 */
export function lookupName(txn: NamespaceTxn, root: NsNode | null, name: string, attributes: number, depth = 0): LookupResult {
  let parent: NsNode;
  let rest: string;
  if (root) {
    if (name.length && name[0] === '\\') return { status: STATUS_OBJECT_PATH_SYNTAX_BAD, node: null, left: '' };
    parent = root;
    rest = name;
  } else {
    if (!name.length || name[0] !== '\\') return { status: STATUS_OBJECT_PATH_SYNTAX_BAD, node: null, left: '' };
    parent = root = txn.root();
    rest = name.slice(1);
  }
  let remaining: Remaining = rest.length ? { text: rest, atEnd: false } : null;
  if (depth > MAX_LINK_DEPTH) return { status: STATUS_INVALID_PARAMETER, node: null, left: '' };
  const caseInsensitive = (attributes & OBJ_CASE_INSENSITIVE) !== 0;
  for (;;) {
    const step = lookupStep(txn, parent, remaining, attributes, caseInsensitive, root, depth);
    if (step.status !== STATUS_SUCCESS) return { status: step.status, node: null, left: '' };
    if (!step.found) break;
    parent = step.found;
    remaining = step.remaining;
  }
  return { status: STATUS_SUCCESS, node: parent, left: remaining ? remaining.text : '' };
}

type Step = { status: number; found: NsNode | null; remaining: Remaining };

function lookupStep(txn: NamespaceTxn, obj: NsNode, name: Remaining, attributes: number, caseInsensitive: boolean, root: NsNode, depth: number): Step {
  const none: Step = { status: STATUS_SUCCESS, found: null, remaining: name };
  switch (obj.record.kind) {
    case KIND_DIRECTORY: {
      if (!name) return none;
      const cut = name.atEnd ? -1 : name.text.indexOf('\\');
      const element = name.atEnd ? '' : cut < 0 ? name.text : name.text.slice(0, cut);
      const found = element.length ? findEntry(txn, obj, element, caseInsensitive) : null;
      if (found) {
        const remaining: Remaining = cut >= 0 ? { text: name.text.slice(cut + 1), atEnd: false } : { text: '', atEnd: true };
        return { status: STATUS_SUCCESS, found, remaining };
      }
      if (!name.atEnd) {
        if (!element.length) return { ...none, status: STATUS_OBJECT_NAME_INVALID };
        if (cut >= 0) return { ...none, status: STATUS_OBJECT_PATH_NOT_FOUND };
      }
      return none;
    }
    case KIND_SYMLINK: {
      if (!name) return none;
      if (!name.text.length && attributes & OBJ_OPENLINK) return none;
      if (obj.record.seq === root.record.seq) return none;
      if (obj.record.flags & FLAG_ROOT_LINK) return { status: STATUS_SUCCESS, found: txn.root(), remaining: name };
      const target = lookupName(txn, null, obj.record.target.toString('utf16le'), attributes, depth + 1);
      if (target.status !== STATUS_SUCCESS) return { ...none, status: target.status };
      if (target.left.length) return { ...none, status: STATUS_OBJECT_PATH_NOT_FOUND };
      return { status: STATUS_SUCCESS, found: target.node, remaining: name };
    }
    default:
      // Other objects have no names below them; asked for themselves by an empty path they refuse.
      return name ? none : { ...none, status: STATUS_OBJECT_TYPE_MISMATCH };
  }
}

// ---------------------------------------------------------------------------
// Creating entries

export interface NewObject {
  kind: number;
  type: string;
  /** Symbolic link target (UTF-16LE); ignored for other kinds. */
  target?: Buffer;
  rootLink?: boolean;
  hashSize?: number;
  /** The descriptor of the object attributes (validated), or null. */
  sd: Buffer | null;
}

export type CreateResult = { status: number; node: NsNode | null; primitive: number };

/**
 * create_named_object: the object `name` under `root` (or absolute), or the
 * existing one with OBJ_OPENIF (status OBJECT_NAME_EXISTS). On success the
 * returned primitive handle is the caller's (it is not in the txn's open set).
 */
export function createNamed(txn: NamespaceTxn, root: NsNode | null, name: string, attributes: number, spec: NewObject, token: NtToken = WINE_PROCESS_TOKEN): CreateResult {
  const fail = (status: number): CreateResult => ({ status, node: null, primitive: 0 });
  const permanent = (attributes & OBJ_PERMANENT) !== 0;
  if (!name.length) {
    const record = newRecord(txn, '', spec, permanent, token);
    const h = txn.session.create('ntanon', encodeRecord(record), 0);
    if (h < 0) return fail(statusFromErrno(h));
    return { status: STATUS_SUCCESS, node: { record, primName: Buffer.alloc(0), chain: [] }, primitive: h };
  }
  const found = lookupName(txn, root, name, attributes);
  if (found.status !== STATUS_SUCCESS || !found.node) return fail(found.status);
  const parent = found.node;
  if (!found.left.length) {
    if (attributes & OBJ_OPENIF && parent.record.type === spec.type) {
      const h = txn.session.open(parent.primName.length ? parent.primName : ROOT_NAME);
      if (h < 0) return fail(statusFromErrno(h));
      return { status: STATUS_OBJECT_NAME_EXISTS, node: parent, primitive: h };
    }
    return fail(attributes & OBJ_OPENIF ? STATUS_OBJECT_TYPE_MISMATCH : STATUS_OBJECT_NAME_COLLISION);
  }
  // Only a directory can hold a name (directory_link_name).
  if (parent.record.kind !== KIND_DIRECTORY) return fail(STATUS_OBJECT_TYPE_MISMATCH);
  const record = newRecord(txn, found.left, spec, permanent, token);
  const primName = entryPrimName(parent.record.dirId, found.left);
  const h = txn.session.create(primName, encodeRecord(record), permanent ? WK_CREATE_PERMANENT : 0);
  if (h < 0) return fail(statusFromErrno(h));
  return { status: STATUS_SUCCESS, node: { record, primName, chain: [...parent.chain, parent] }, primitive: h };
}

function newRecord(txn: NamespaceTxn, name: string, spec: NewObject, permanent: boolean, token: NtToken): EntryRecord {
  let sd: Buffer | null = null;
  if (spec.sd) sd = sdBytes(mergeSecurityDescriptor(null, sdParts(spec.sd), 0xf, token));
  let flags = permanent ? FLAG_PERMANENT : 0;
  if (spec.rootLink) flags |= FLAG_ROOT_LINK;
  return {
    kind: spec.kind,
    dirId: spec.kind === KIND_DIRECTORY ? txn.nextDirId() : 0,
    seq: txn.nextSeq(),
    flags,
    hashSize: spec.kind === KIND_DIRECTORY ? spec.hashSize ?? DEFAULT_HASH_SIZE : 0,
    name,
    type: spec.type,
    target: spec.kind === KIND_SYMLINK ? spec.target ?? Buffer.alloc(0) : Buffer.alloc(0),
    sd,
  };
}

/** Adds an entry during population (permanent in the primitives, see initial.ts). */
export function addInitialEntry(txn: NamespaceTxn, path: string, spec: NewObject): void {
  const cut = path.lastIndexOf('\\');
  const parentPath = path.slice(0, cut) || '\\';
  const parent = parentPath === '\\' ? txn.root() : lookupName(txn, null, parentPath, OBJ_OPENLINK).node;
  if (!parent || parent.record.kind !== KIND_DIRECTORY) throw new NamespaceStoreError(`initial tree: no directory ${parentPath}`);
  const name = path.slice(cut + 1);
  const record = newRecord(txn, name, spec, true, WINE_PROCESS_TOKEN);
  const h = txn.session.create(entryPrimName(parent.record.dirId, name), encodeRecord(record), WK_CREATE_PERMANENT);
  if (h < 0) throw new NamespaceStoreError(`initial tree: creating ${path} failed (${h})`);
  txn.session.close(h);
}

