// Translators for object directories and symbolic links: create_directory,
// open_directory, get_directory_entry, create_symlink, open_symlink and
// query_symlink, answering as Wine 8.0's wineserver does (server/directory.c,
// symlink.c, object.c, handle.c, request.c; see store.ts for the rules).
// Also the two operations other families' translators need to put their own
// objects into the namespace: createNamedObject and openNamedObject.

import { isMalformed } from '../../requests/kinds/malformed.ts';
import { handleOwner } from '../handles.ts';
import { encodeObjectAttributes, type ObjectAttributesField } from '../../requests/kinds/object-attributes.ts';
import type { UnicodeStr } from '../../requests/kinds/text.ts';
import { STATUS_INVALID_HANDLE, STATUS_INVALID_PARAMETER, STATUS_OBJECT_NAME_INVALID, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS } from '../ntstatus.ts';
import { primitiveAclFor } from '../security/acl-map.ts';
import { sdIsValid, sdParts } from '../security/descriptor.ts';
import type { PrimitiveCall, TranslatedEntry, TranslatedReply, TranslationContext } from '../translator.ts';
import './initial.ts';
import {
  createNamed,
  entryAt,
  KIND_DIRECTORY,
  KIND_OTHER,
  KIND_SYMLINK,
  lookupName,
  OBJ_OPENLINK,
  STATUS_BUFFER_TOO_SMALL,
  STATUS_NO_MORE_ENTRIES,
  STATUS_OBJECT_TYPE_MISMATCH,
  withNamespace,
  type NamespaceTxn,
  type NsNode,
} from './store.ts';
import { allocHandle, handleObject, namespaceHandle } from './proxy-handles.ts';
import { DIRECTORY_QUERY, SYMBOLIC_LINK_QUERY } from './types.ts';

export const STATUS_ACCESS_VIOLATION = 0xc0000005;
export const STATUS_INVALID_SECURITY_DESCR = 0xc0000079;

/** wineserver refuses names of this many bytes or more. */
const MAX_NAME_BYTES = 65534;

// ---------------------------------------------------------------------------
// Request parts

export interface ParsedAttributes {
  rootdir: number;
  attributes: number;
  sd: Buffer | null;
  name: string;
}

/** get_req_object_attributes: the parts, or the status wineserver fails the request with. */
export function parseObjectAttributes(value: ObjectAttributesField): { status: number; attrs: ParsedAttributes | null } {
  if (value === null) return { status: STATUS_SUCCESS, attrs: { rootdir: 0, attributes: 0, sd: null, name: '' } };
  const bytes = isMalformed(value) ? Buffer.from((value as { seen?: Buffer }).seen ?? value.bytes) : encodeObjectAttributes(value);
  if (bytes.length < 16) return { status: STATUS_ACCESS_VIOLATION, attrs: null };
  const sdLen = bytes.readUInt32LE(8);
  const nameLen = bytes.readUInt32LE(12);
  if (bytes.length - 16 < sdLen || bytes.length - 16 - sdLen < nameLen) return { status: STATUS_ACCESS_VIOLATION, attrs: null };
  const sd = sdLen ? Buffer.from(bytes.subarray(16, 16 + sdLen)) : null;
  if (sd && !sdIsValid(sd)) return { status: STATUS_INVALID_SECURITY_DESCR, attrs: null };
  if (nameLen & 1 || nameLen >= MAX_NAME_BYTES) return { status: STATUS_OBJECT_NAME_INVALID, attrs: null };
  // The name starts sd_len rounded down to whole characters after the header.
  const nameAt = 16 + (sdLen & ~1);
  return {
    status: STATUS_SUCCESS,
    attrs: { rootdir: bytes.readUInt32LE(0), attributes: bytes.readUInt32LE(4), sd, name: bytes.subarray(nameAt, nameAt + nameLen).toString('utf16le') },
  };
}

/** get_req_unicode_str: the units of a name vararg (an odd last byte dropped). */
export function unicodeBytes(value: UnicodeStr | undefined | null): Buffer {
  if (value === undefined || value === null) return Buffer.alloc(0);
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf16le') : value.bytes;
  return bytes.subarray(0, bytes.length & ~1);
}

function unicodeValue(bytes: Buffer): UnicodeStr {
  return bytes.length % 2 ? { malformed: true, bytes: Buffer.from(bytes) } : bytes.toString('utf16le');
}

/** The node a root handle stands for, or the status (get_handle_obj with no access and any type). */
function rootNode(ctx: TranslationContext, rootdir: number, directoryOnly: boolean): { status: number; node: NsNode | null } {
  // The current process, thread or a token as root: nothing can be named under them.
  if (handleOwner(rootdir) === 'pseudo') return { status: STATUS_OBJECT_TYPE_MISMATCH, node: null };
  const entry = ctx.handles.get(rootdir);
  const state = namespaceHandle(entry);
  if (!entry) return { status: STATUS_INVALID_HANDLE, node: null };
  // A proxy handle of another family (a registry key) holds no namespace entries.
  if (!state) return { status: STATUS_OBJECT_TYPE_MISMATCH, node: null };
  if (directoryOnly && state.node.record.kind !== KIND_DIRECTORY) return { status: STATUS_OBJECT_TYPE_MISMATCH, node: null };
  return { status: STATUS_SUCCESS, node: state.node };
}

// ---------------------------------------------------------------------------
// Creating and opening, for any type

export interface CreateRequest {
  /** The type name of the new object ("Directory", "SymbolicLink", "Event", ...). */
  type: string;
  access: number;
  objattr: ObjectAttributesField;
  /** Symbolic links: the target (UTF-16LE). */
  target?: Buffer;
  /**
   * Whether the creator of a new object is checked against its descriptor:
   * directories and links are (alloc_handle); events, mutexes, semaphores
   * and sections are not (alloc_handle_no_access_check), only when OBJ_OPENIF
   * opened an existing one. Default true.
   */
  checkCreator?: boolean;
}

/**
 * A create request's namespace part, as create_directory, create_symlink
 * and (once translated) create_event, create_mutex, ... do it: parse the
 * object attributes, create or (OBJ_OPENIF) open the name, check access and
 * mint a proxy handle. Returns the status and the handle (0 on failure).
 */
export async function createNamedObject(ctx: TranslationContext, request: CreateRequest): Promise<{ status: number; handle: number }> {
  const parsed = parseObjectAttributes(request.objattr);
  if (!parsed.attrs) return { status: parsed.status, handle: 0 };
  const attrs = parsed.attrs;
  let root: NsNode | null = null;
  if (attrs.rootdir && attrs.name.length) {
    const r = rootNode(ctx, attrs.rootdir, false);
    if (!r.node) return { status: r.status, handle: 0 };
    root = r.node;
  }
  const kind = request.type === 'Directory' ? KIND_DIRECTORY : request.type === 'SymbolicLink' ? KIND_SYMLINK : KIND_OTHER;
  if (kind === KIND_SYMLINK && !request.target?.length) return { status: STATUS_INVALID_PARAMETER, handle: 0 };
  return withNamespace(ctx.session, 'write', (txn) => {
    const created = createNamed(txn, root, attrs.name, attrs.attributes, { kind, type: request.type, target: request.target, sd: attrs.sd });
    if (!created.node) return { status: created.status, handle: 0 };
    if (created.status === STATUS_SUCCESS && created.node.record.sd) {
      // Project the new descriptor onto the primitive ACL (best effort: the NT check is the translator's).
      ctx.session.setacl(created.primitive, primitiveAclFor(sdParts(created.node.record.sd)));
    }
    const check = created.status === STATUS_SUCCESS ? request.checkCreator !== false : true;
    const allocated = allocHandle(ctx, created.node, created.primitive, request.access, attrs.attributes, { check });
    // A failed allocation replaces the status; otherwise OBJECT_NAME_EXISTS stays.
    return { status: allocated.status || created.status, handle: allocated.handle };
  });
}

export interface OpenRequest {
  /** The type the object must have, or null for any. */
  type: string | null;
  access: number;
  attributes: number;
  rootdir: number;
  name: Buffer;
}

/** open_object: looks a name up (fully) and mints a handle to an object of the wanted type. */
export async function openNamedObject(ctx: TranslationContext, request: OpenRequest): Promise<{ status: number; handle: number }> {
  if (request.name.length >= MAX_NAME_BYTES) return { status: STATUS_OBJECT_NAME_INVALID, handle: 0 };
  let root: NsNode | null = null;
  if (request.rootdir) {
    const r = rootNode(ctx, request.rootdir, request.name.length > 0);
    if (!r.node) return { status: r.status, handle: 0 };
    root = r.node;
  }
  return withNamespace(ctx.session, 'read', (txn) => openLocked(ctx, txn, root, request));
}

function openLocked(ctx: TranslationContext, txn: NamespaceTxn, root: NsNode | null, request: OpenRequest): { status: number; handle: number } {
  const found = lookupName(txn, root, request.name.toString('utf16le'), request.attributes);
  if (!found.node) return { status: found.status, handle: 0 };
  if (found.left.length) return { status: STATUS_OBJECT_NAME_NOT_FOUND, handle: 0 };
  if (request.type && found.node.record.type !== request.type) return { status: STATUS_OBJECT_TYPE_MISMATCH, handle: 0 };
  const primitive = ctx.session.open(found.node.primName);
  if (primitive < 0) return { status: STATUS_OBJECT_NAME_NOT_FOUND, handle: 0 };
  return allocHandle(ctx, found.node, primitive, request.access, request.attributes);
}

// ---------------------------------------------------------------------------
// The translators

interface CreateDirectoryRequest {
  access: number;
  objattr: ObjectAttributesField;
}
interface OpenByNameRequest {
  access: number;
  attributes: number;
  rootdir: number;
}
interface HandleReply {
  handle: number;
}

const CREATE: readonly PrimitiveCall[] = ['object_create', 'object_open', 'lockobject', 'unlock', 'size', 'getdata', 'setdata', 'object_list', 'object_close'];
const OPEN: readonly PrimitiveCall[] = ['object_create', 'object_open', 'lockobject', 'unlock', 'size', 'getdata', 'object_list', 'object_close'];

export const createDirectory: TranslatedEntry<CreateDirectoryRequest, HandleReply> = {
  request: 'create_directory',
  family: 'directories/symlinks/objects',
  status: 'translated',
  domains: ['object-namespace'],
  primitives: CREATE,
  async translate(request, ctx): Promise<TranslatedReply<HandleReply>> {
    const { status, handle } = await createNamedObject(ctx, { type: 'Directory', access: request.body.access, objattr: request.body.objattr });
    return { error: status, body: { handle } };
  },
};

export const openDirectory: TranslatedEntry<OpenByNameRequest & { directory_name: UnicodeStr }, HandleReply> = {
  request: 'open_directory',
  family: 'directories/symlinks/objects',
  status: 'translated',
  domains: ['object-namespace'],
  primitives: OPEN,
  async translate(request, ctx) {
    const { access, attributes, rootdir } = request.body;
    const { status, handle } = await openNamedObject(ctx, { type: 'Directory', access, attributes, rootdir, name: unicodeBytes(request.body.directory_name) });
    return { error: status, body: { handle } };
  },
};

interface DirectoryEntryReply {
  total_len: number;
  name_len: number;
  name: UnicodeStr;
  type: UnicodeStr;
}

export const getDirectoryEntry: TranslatedEntry<{ handle: number; index: number }, DirectoryEntryReply> = {
  request: 'get_directory_entry',
  family: 'directories/symlinks/objects',
  status: 'translated',
  domains: ['object-namespace'],
  primitives: OPEN,
  async translate(request, ctx) {
    const body: DirectoryEntryReply = { total_len: 0, name_len: 0, name: '', type: '' };
    const dir = handleObject(ctx, request.body.handle, DIRECTORY_QUERY, 'Directory');
    if (!dir.state) return { error: dir.status, body };
    const state = dir.state;
    const record = await withNamespace(ctx.session, 'read', (txn) => entryAt(txn, state.node, request.body.index >>> 0));
    if (!record) return { error: STATUS_NO_MORE_ENTRIES, body };
    const name = Buffer.from(record.name, 'utf16le');
    const type = Buffer.from(record.type, 'utf16le');
    body.total_len = name.length + type.length;
    if (body.total_len > request.replySize >>> 0) return { error: STATUS_BUFFER_TOO_SMALL, body };
    return { error: STATUS_SUCCESS, body: { ...body, name_len: name.length, name: unicodeValue(name), type: unicodeValue(type) } };
  },
};

export const createSymlink: TranslatedEntry<CreateDirectoryRequest & { target_name: UnicodeStr }, HandleReply> = {
  request: 'create_symlink',
  family: 'directories/symlinks/objects',
  status: 'translated',
  domains: ['object-namespace'],
  primitives: CREATE,
  async translate(request, ctx) {
    const target = unicodeBytes(request.body.target_name);
    const { status, handle } = await createNamedObject(ctx, { type: 'SymbolicLink', access: request.body.access, objattr: request.body.objattr, target });
    return { error: status, body: { handle } };
  },
};

export const openSymlink: TranslatedEntry<OpenByNameRequest & { name: UnicodeStr }, HandleReply> = {
  request: 'open_symlink',
  family: 'directories/symlinks/objects',
  status: 'translated',
  domains: ['object-namespace'],
  primitives: OPEN,
  async translate(request, ctx) {
    const { access, attributes, rootdir } = request.body;
    const { status, handle } = await openNamedObject(ctx, { type: 'SymbolicLink', access, attributes: attributes | OBJ_OPENLINK, rootdir, name: unicodeBytes(request.body.name) });
    return { error: status, body: { handle } };
  },
};

export const querySymlink: TranslatedEntry<{ handle: number }, { total: number; target_name: UnicodeStr }> = {
  request: 'query_symlink',
  family: 'directories/symlinks/objects',
  status: 'translated',
  domains: ['object-namespace'],
  primitives: ['size', 'getdata'],
  translate(request, ctx) {
    const link = handleObject(ctx, request.body.handle, SYMBOLIC_LINK_QUERY, 'SymbolicLink');
    if (!link.state) return { error: link.status, body: { total: 0, target_name: '' } };
    // The target never changes after creation, so the node the handle was minted with has it.
    const target = link.state.node.record.target;
    if (request.replySize >>> 0 < target.length) return { error: STATUS_BUFFER_TOO_SMALL, body: { total: target.length, target_name: '' } };
    return { error: STATUS_SUCCESS, body: { total: target.length, target_name: unicodeValue(target) } };
  },
};

export const NAMESPACE_TRANSLATORS = [createDirectory, openDirectory, getDirectoryEntry, createSymlink, openSymlink, querySymlink] as const;
