// Object directories and symbolic links translated live (`--translate`;
// docs/object-namespace.md, "Live"). The proxy owns every directory and
// link a client creates or opens through it: the handles are proxy handles,
// the objects are records in the proxy's namespace (the startup tree of
// initial.ts plus what clients create), and a link's target is answered from
// its record. Wineserver still serves events, sections, files, desktops and
// every other named type, so it still needs every name: each proxy
// directory or link has a server twin (server-twins.ts), the same directory
// or link in wineserver, made by server calls as the calling thread.
//
// Who decides what:
//  * names, roots, links followed, collisions and access on create and open
//    are wineserver's: the client's request is made on the twin first, with
//    a proxy root directory given as its twin, so the answer is exactly the
//    one wineserver gives, against every named object of every type;
//  * the proxy then indexes the twin's full name (get_object_name) in its
//    namespace and mints its own handle with the access wineserver granted
//    (get_object_info); the twin's handle stays open beside it and is closed
//    with it, so the name lives exactly as long on both sides;
//  * a directory's listing (get_directory_entry) is wineserver's answer for
//    the twin: the directory holds the entries of wineserver's types too;
//  * a name the proxy's namespace cannot index (its parent is a directory
//    only wineserver has) keeps the wineserver handle: the client gets the
//    twin itself, a plain wineserver directory or link.
//
// Requests wineserver serves that name a proxy directory (the root of a
// create_event, an open_file_object, a get_object_name of the handle, ...)
// are sent to wineserver with the twin in its place (bridgeToTwins, used by
// dispatch live).

import type { DecodedRequest } from '../../requests/protocol.ts';
import type { ObjectAttributes, ObjectAttributesField } from '../../requests/kinds/object-attributes.ts';
import type { UnicodeStr } from '../../requests/kinds/text.ts';
import type { RequestInfo } from '../../requests/protocol-types.ts';
import type { DupHandleRequest } from '../../requests/generated/wine-8.0/types.ts';
import type { ProxyHandleEntry } from '../handles.ts';
import { handleOwner } from '../handles.ts';
import { STATUS_SUCCESS } from '../ntstatus.ts';
import type { TranslatedEntry, TranslatedReply, TranslationContext } from '../translator.ts';
import { allocHandle, namespaceHandle } from './proxy-handles.ts';
import { describeServerObject, serialisedNamed, setTwin, takeTwin, twinHandleFor, twinOf } from './server-twins.ts';
import {
  createNamed,
  KIND_DIRECTORY,
  KIND_SYMLINK,
  lookupName,
  OBJ_INHERIT,
  OBJ_OPENLINK,
  OBJ_PERMANENT,
  ROOT_NAME,
  withNamespace,
  type NewObject,
} from './store.ts';
import { createDirectory, createSymlink, getDirectoryEntry, openDirectory, openSymlink, parseObjectAttributes, unicodeBytes } from './translators.ts';

/** How an indexed name is found or made in the proxy's namespace (adoptNamed). */
export type Adoption =
  /** wineserver created the name just now: a new object (a stale entry of that name is unlinked first). */
  | 'fresh'
  /** wineserver found an existing object: the proxy's entry, or nothing. */
  | 'existing'
  /** wineserver found an existing object: the proxy's entry, or a new one if the proxy has none. */
  | 'existing-or-new';

/**
 * A proxy handle to the proxy object at `fullName` (wineserver's full name
 * of the twin; '' for an unnamed object), of the kind and type `spec` says.
 * 0 when the proxy's namespace cannot hold it: the parent is unknown to
 * the proxy, or the entry there is of another type.
 */
export async function adoptNamed(ctx: TranslationContext, fullName: string, adoption: Adoption, attributes: number, spec: NewObject): Promise<number> {
  const inherit = attributes & OBJ_INHERIT;
  return withNamespace(ctx.session, 'write', (txn) => {
    if (fullName.length) {
      const found = lookupName(txn, null, fullName, OBJ_OPENLINK);
      if (!found.node) return 0;
      if (!found.left.length) {
        if (found.node.record.type !== spec.type || found.node.record.kind !== spec.kind) return 0;
        const existing = ctx.session.open(found.node.primName.length ? found.node.primName : ROOT_NAME);
        if (existing < 0) return 0;
        if (adoption !== 'fresh') return allocHandle(ctx, found.node, existing, 0, inherit, { check: false }).handle;
        // Stale: wineserver has just created this name anew. Holders keep the old object; the name goes to a new one.
        ctx.session.unlink(existing);
        ctx.session.close(existing);
      } else if (adoption === 'existing') return 0;
    }
    const created = createNamed(txn, null, fullName, attributes & OBJ_PERMANENT, spec);
    if (!created.node) return 0;
    return allocHandle(ctx, created.node, created.primitive, 0, inherit, { check: false }).handle;
  });
}

/** The proxy cannot index what wineserver made: the client gets wineserver's handle (made with the inheritance it asked for). */
function keepServerHandle(ctx: TranslationContext, request: string, serverHandle: number, status: number): TranslatedReply<{ handle: number }> {
  ctx.log?.debug({ request }, 'a directory or link the proxy cannot index: wineserver keeps it');
  return { error: status, body: { handle: serverHandle } };
}

/**
 * The proxy handle for a twin wineserver just made or opened (any twinned
 * type): the twin's full name indexed, the access wineserver granted, the
 * twin kept beside the handle. 0 when the proxy cannot index it.
 */
export async function adoptServerTwin(ctx: TranslationContext, twin: number, adoption: Adoption, attributes: number, spec: NewObject): Promise<number> {
  const known = await describeServerObject(ctx.server!, twin);
  const handle = known ? await adoptNamed(ctx, known.name, adoption, attributes, spec) : 0;
  if (!handle) return 0;
  const entry = ctx.handles.get(handle)!;
  entry.access = known!.access;
  setTwin(entry, twin);
  return handle;
}

/** A directory's or link's proxy handle for its twin, or wineserver's own handle when the proxy cannot index it. */
async function adoptTwin(ctx: TranslationContext, request: string, twin: number, status: number, adoption: Adoption, attributes: number, spec: NewObject): Promise<TranslatedReply<{ handle: number }>> {
  const handle = await adoptServerTwin(ctx, twin, adoption, attributes, spec);
  if (!handle) return keepServerHandle(ctx, request, twin, status);
  return { error: status, body: { handle } };
}

/**
 * The root wineserver should resolve a name under: 0, a wineserver handle or
 * a proxy object's twin; null when only the proxy can answer (a
 * pseudo-handle, a proxy handle without a twin such as a registry key:
 * neither can be a root, and the namespace translators say so exactly).
 */
export function serverRootFor(ctx: TranslationContext, rootdir: number): number | null {
  if (rootdir !== 0 && handleOwner(rootdir) === 'pseudo') return null;
  return twinHandleFor(ctx.handles, rootdir);
}

interface CreateBody {
  access: number;
  objattr: ObjectAttributesField;
  target_name?: UnicodeStr;
}

function createLive(base: TranslatedEntry<CreateBody>, kind: number, type: string): TranslatedEntry<CreateBody, { handle: number }> {
  return {
    ...base,
    liveRouting: 'any',
    needsServer: true,
    async translate(request, ctx) {
      const parsed = parseObjectAttributes(request.body.objattr);
      const root = ctx.server && parsed.attrs ? serverRootFor(ctx, parsed.attrs.rootdir) : null;
      if (root === null) return base.translate(request, ctx);
      const attrs = parsed.attrs!;
      const objattr = { ...(request.body.objattr as ObjectAttributes), rootdir: root };
      return serialisedNamed(async () => {
        const made = await ctx.server!.call(request.name, { ...request.body, objattr });
        const twin = (made.body as { handle: number }).handle;
        if (!twin) return { error: made.error >>> 0, body: { handle: 0 } };
        const status = made.error >>> 0;
        const target = kind === KIND_SYMLINK ? unicodeBytes(request.body.target_name) : undefined;
        return adoptTwin(ctx, request.name, twin, status, status === STATUS_SUCCESS ? 'fresh' : 'existing', attrs.attributes, { kind, type, sd: attrs.sd, target });
      });
    },
  };
}

interface OpenBody {
  access: number;
  attributes: number;
  rootdir: number;
}

function openLive<B extends OpenBody>(base: TranslatedEntry<B>, kind: number, type: string): TranslatedEntry<B, { handle: number }> {
  return {
    ...base,
    liveRouting: 'any',
    needsServer: true,
    async translate(request, ctx) {
      const { rootdir, attributes } = request.body;
      const root = ctx.server ? serverRootFor(ctx, rootdir) : null;
      if (root === null) return base.translate(request, ctx);
      return serialisedNamed(async () => {
        const opened = await ctx.server!.call(request.name, { ...(request.body as OpenBody), rootdir: root });
        const twin = (opened.body as { handle: number }).handle;
        if (!twin) return { error: opened.error >>> 0, body: { handle: 0 } };
        // A link's target or a directory's descriptor cannot be learnt back: an object only wineserver has stays wineserver's.
        return adoptTwin(ctx, request.name, twin, opened.error >>> 0, 'existing', attributes, { kind, type, sd: null });
      });
    },
  };
}

export const createDirectoryLive = createLive(createDirectory as TranslatedEntry<CreateBody>, KIND_DIRECTORY, 'Directory');
export const createSymlinkLive = createLive(createSymlink as TranslatedEntry<CreateBody>, KIND_SYMLINK, 'SymbolicLink');
export const openDirectoryLive = openLive(openDirectory, KIND_DIRECTORY, 'Directory');
export const openSymlinkLive = openLive(openSymlink, KIND_SYMLINK, 'SymbolicLink');

/** get_directory_entry of a proxy directory: wineserver's listing of its twin (it holds the entries of every type). */
export const getDirectoryEntryLive: TranslatedEntry<{ handle: number; index: number }> = {
  ...getDirectoryEntry,
  needsServer: true,
  async translate(request, ctx) {
    const twin = twinOf(ctx.handles.get(request.body.handle));
    if (twin === undefined || !ctx.server) return getDirectoryEntry.translate(request, ctx);
    const answer = await ctx.server.call(request.name, { ...request.body, handle: twin }, request.replySize);
    return { error: answer.error >>> 0, body: answer.body as Record<string, unknown> };
  },
};

/**
 * close_handle of a proxy directory or link (after the table released the
 * value; the caller closes its primitive): the anchors on the temporary
 * directories above it, then the twin in wineserver.
 */
export async function closeTwinnedNamespaceHandle(ctx: TranslationContext, entry: ProxyHandleEntry): Promise<void> {
  for (const anchor of namespaceHandle(entry)?.anchors ?? []) ctx.session.close(anchor);
  const twin = takeTwin(entry);
  if (twin === undefined || !ctx.server) return;
  const closed = await ctx.server.call('close_handle', { handle: twin });
  if (closed.error) ctx.log?.warn({ twin, error: closed.error }, 'closing a server twin failed');
}

export const CURRENT_PROCESS = 0xffffffff;
export const DUPLICATE_CLOSE_SOURCE = 1;

/** dup_handle's request fields (as the protocol of Wine 8.0 declares them). */
export type DupBody = DupHandleRequest;

/**
 * dup_handle of a proxy handle with a twin, of an object the proxy keeps no
 * per-handle state for (directories, links): wineserver duplicates the twin,
 * into any process, with its own access and descriptor rules, and the copy
 * is wineserver's handle (the same object for every request the client can
 * make with it). DUPLICATE_CLOSE_SOURCE closes the proxy handle too, as
 * wineserver closed the twin. Null when the source has no twin or is not
 * the caller's.
 */
export async function dupViaTwin(request: DecodedRequest<DupBody>, ctx: TranslationContext): Promise<TranslatedReply<{ handle: number }> | null> {
  const { src_process, src_handle, options } = request.body;
  if (src_process >>> 0 !== CURRENT_PROCESS || !ctx.server) return null;
  const source = ctx.handles.get(src_handle);
  const twin = twinOf(source);
  if (!source || twin === undefined) return null;
  const dup = await ctx.server.call('dup_handle', { ...request.body, src_handle: twin });
  if (options & DUPLICATE_CLOSE_SOURCE) {
    // wineserver closed the twin whatever the outcome, as it closes the source.
    takeTwin(source);
    ctx.handles.release(src_handle);
    for (const anchor of namespaceHandle(source)?.anchors ?? []) ctx.session.close(anchor);
    ctx.session.close(source.primitive);
  }
  return { error: dup.error >>> 0, body: { handle: (dup.body as { handle: number }).handle } };
}

/**
 * The handle fields of a request wineserver serves that may stand for a
 * twinned proxy object: its `obj_handle_t` fields and the root directory of
 * its object attributes.
 */
function handleSlots(info: RequestInfo): { fields: string[]; objattr: string | null } {
  return {
    fields: info.request.fields.filter((field) => field.type === 'obj_handle_t').map((field) => field.name),
    objattr: info.request.varargs.find((vararg) => vararg.kind === 'object_attributes')?.name ?? null,
  };
}

/**
 * What wineserver is given for a value in the proxy's range: the twin of
 * the caller's proxy handle; the value itself when the caller holds no such
 * handle (wineserver answers INVALID_HANDLE, as for any value it never
 * minted); null for a proxy handle without a twin.
 */
function bridgedValue(ctx: TranslationContext, value: number): number | null {
  const entry = ctx.handles.get(value);
  if (!entry) return value;
  return twinOf(entry) ?? null;
}

/**
 * A request wineserver serves that names proxy handles: when every one has
 * a twin, the request goes to wineserver (a server call as the caller) with
 * each twin in its place, and wineserver's reply is the answer. Null when a
 * named proxy handle has no twin (an object wineserver cannot see: the
 * request is refused as before).
 */
export function bridgeToTwins(request: DecodedRequest, ctx: TranslationContext): Promise<TranslatedReply> | null {
  const server = ctx.server;
  const info = ctx.protocol.requests[request.code];
  if (!server || !info) return null;
  const body: Record<string, unknown> = { ...(request.body as Record<string, unknown>) };
  const slots = handleSlots(info);
  for (const field of slots.fields) {
    const value = body[field];
    if (typeof value !== 'number' || handleOwner(value) !== 'proxy') continue;
    const twin = bridgedValue(ctx, value);
    if (twin === null) return null;
    body[field] = twin;
  }
  const objattr = slots.objattr ? (body[slots.objattr] as ObjectAttributes | null) : null;
  if (objattr && typeof objattr === 'object' && typeof objattr.rootdir === 'number' && handleOwner(objattr.rootdir) === 'proxy') {
    const twin = bridgedValue(ctx, objattr.rootdir);
    if (twin === null) return null;
    body[slots.objattr!] = { ...objattr, rootdir: twin };
  }
  return server.call(request.name, body, request.replySize).then((answer) => ({ error: answer.error >>> 0, body: answer.body as Record<string, unknown> }));
}
