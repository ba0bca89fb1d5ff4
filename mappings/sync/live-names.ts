// Mutexes owned by the proxy while wineserver owns the object namespace
// (docs/mutexes.md, "Live"): create_mutex, open_mutex, dup_handle,
// close_handle and object security for proxy mutexes, live.
//
// The rule: a mutex created through the proxy lives only in the proxy (its
// handles are proxy handles), so nothing about its state can diverge from
// wineserver. Its *name* must stay unique across both sides, and wineserver
// keeps every other named object, so the name is wineserver's business:
//
//  * create_mutex / open_mutex with a name are first made by wineserver, as
//    the calling thread (server calls), on a placeholder (the mutex's server
//    twin, mappings/namespace/server-twins.ts): a plain wineserver mutex,
//    never owned nor waited on, created with the client's own object
//    attributes (OBJ_INHERIT included: a twin is inherited by child
//    processes exactly when its proxy handle is; never owned; a proxy
//    directory as root is given as its own twin). So wineserver decides
//    everything about the name exactly as it would for the real request:
//    root directory handles, symbolic links (Global\, Local\), case,
//    OBJECT_NAME_EXISTS / COLLISION / TYPE_MISMATCH against events,
//    semaphores and everything else named, descriptors and access checks.
//  * On success the proxy reads the placeholder's full name
//    (get_object_name) and granted access (get_object_info) and mints a proxy
//    handle to the proxy mutex of that full name, kept in the proxy's
//    namespace as an index: a new one when wineserver created the name (a
//    stale proxy entry of that name, left by a race with a process's end, is
//    unlinked first), the existing one when wineserver found it.
//  * The placeholder handle stays open with the proxy handle, so the name
//    lives exactly as long as a proxy handle to the mutex (or the
//    wineserver handles of a process that is ending) exists; close_handle
//    closes it through a server call, and a process's end closes its
//    placeholders in wineserver by itself.
//  * get/set_security_object on a named proxy mutex act on the placeholder,
//    where wineserver keeps the descriptor later opens are checked against.
//  * A name in a directory the proxy's namespace does not know (one only
//    wineserver has) cannot be indexed: the placeholder is closed
//    and the client's request is made as it was, so that name is a plain
//    wineserver mutex for everyone.
//
// Named create and open are serialised within the proxy, so that wineserver
// and the proxy's index see them in the same order.

import type { ProxyHandleEntry } from '../handles.ts';
import { adoptServerTwin, CURRENT_PROCESS, DUPLICATE_CLOSE_SOURCE, dupViaTwin, serverRootFor, type DupBody } from '../namespace/live.ts';
import { allocHandle, namespaceHandle } from '../namespace/proxy-handles.ts';
import { serialisedNamed, setTwin, takeTwin, twinOf } from '../namespace/server-twins.ts';
import { KIND_OTHER, OBJ_INHERIT } from '../namespace/store.ts';
import { parseObjectAttributes } from '../namespace/translators.ts';
import { mapAccess, MAXIMUM_ALLOWED } from '../security/descriptor.ts';
import { getSecurityObject, setSecurityObject } from '../security/translators.ts';
import { objectType } from '../namespace/types.ts';
import { STATUS_INVALID_HANDLE, STATUS_NOT_SUPPORTED, STATUS_SUCCESS } from '../ntstatus.ts';
import type { TranslatedEntry, TranslatedReply, TranslationContext } from '../translator.ts';
import type { ObjectAttributes, ObjectAttributesField } from '../../requests/kinds/object-attributes.ts';
import type { UnicodeStr } from '../../requests/kinds/text.ts';
import { acquireMutex, mutexStateName } from './mutex-state.ts';
import { callerOf, closeMutexEntry, createMutex, MUTANT_TYPE, mutexOf, openMutex } from './mutexes.ts';

const STATUS_OBJECT_NAME_EXISTS = 0x40000000;
const DUPLICATE_SAME_ACCESS = 2;
const DUPLICATE_MAKE_GLOBAL = 0x80000000;
const RESERVED_ALL = 0x0c000000;

interface CreateMutexBody {
  access: number;
  owned: number;
  objattr: ObjectAttributesField;
}
interface OpenMutexBody {
  access: number;
  attributes: number;
  rootdir: number;
  name: UnicodeStr;
}

const handleReply = (error: number, handle: number): TranslatedReply<{ handle: number }> => ({ error, body: { handle } });

/** A proxy handle for a placeholder wineserver just made, or 0 (the caller falls back to wineserver). */
async function adoptPlaceholder(ctx: TranslationContext, placeholder: number, fresh: boolean, attributes: number): Promise<number> {
  const handle = await adoptServerTwin(ctx, placeholder, fresh ? 'fresh' : 'existing-or-new', attributes, { kind: KIND_OTHER, type: MUTANT_TYPE, sd: null });
  if (handle) mutexOf(ctx, ctx.handles.get(handle)!);
  return handle;
}

/** The placeholder could not be indexed: close it and make the client's request as it was (a plain wineserver mutex). */
async function asWineserverDoes(ctx: TranslationContext, placeholder: number, request: string, body: Record<string, unknown>): Promise<TranslatedReply<{ handle: number }>> {
  await ctx.server!.call('close_handle', { handle: placeholder });
  const answer = await ctx.server!.call(request, body);
  ctx.log?.debug({ request }, 'named mutex in a directory the proxy does not index: wineserver keeps it');
  return handleReply(answer.error >>> 0, (answer.body as { handle: number }).handle);
}

export const createMutexLive: TranslatedEntry<CreateMutexBody, { handle: number }> = {
  ...createMutex,
  async translate(request, ctx) {
    const { objattr, owned } = request.body;
    const parsed = parseObjectAttributes(objattr);
    // Unnamed, a bad attribute block, a proxy or pseudo root: the namespace translators answer exactly.
    const root = ctx.server && parsed.attrs?.name.length ? serverRootFor(ctx, parsed.attrs.rootdir) : null;
    if (root === null) return createMutex.translate(request, ctx);
    const attributes = parsed.attrs!.attributes;
    const plain = { ...(objattr as ObjectAttributes), rootdir: root, attributes };
    return serialisedNamed(async () => {
      const made = await ctx.server!.call('create_mutex', { access: request.body.access, owned: 0, objattr: plain });
      const status = made.error >>> 0;
      const placeholder = (made.body as { handle: number }).handle;
      if (!placeholder) return handleReply(status, 0);
      const handle = await adoptPlaceholder(ctx, placeholder, status === STATUS_SUCCESS, attributes);
      if (!handle) return asWineserverDoes(ctx, placeholder, 'create_mutex', { ...request.body, objattr: { ...plain, attributes } });
      if (status === STATUS_SUCCESS && owned) {
        const mutex = mutexOf(ctx, ctx.handles.get(handle)!);
        const taken = await acquireMutex(callerOf(ctx), mutex.state, mutex.seq, 0);
        if (!taken.acquired) ctx.log?.warn({ seq: mutex.seq }, 'a new mutex was taken before its creator could own it');
      }
      return handleReply(status, handle);
    });
  },
};

export const openMutexLive: TranslatedEntry<OpenMutexBody, { handle: number }> = {
  ...openMutex,
  async translate(request, ctx) {
    const { rootdir, attributes } = request.body;
    const root = ctx.server ? serverRootFor(ctx, rootdir) : null;
    if (root === null) return openMutex.translate(request, ctx);
    return serialisedNamed(async () => {
      const opened = await ctx.server!.call('open_mutex', { ...request.body, rootdir: root });
      const placeholder = (opened.body as { handle: number }).handle;
      if (!placeholder) return handleReply(opened.error >>> 0, 0);
      const handle = await adoptPlaceholder(ctx, placeholder, false, attributes);
      if (!handle) return asWineserverDoes(ctx, placeholder, 'open_mutex', { ...request.body, rootdir: root });
      return handleReply(opened.error >>> 0, handle);
    });
  },
};

/** close_handle of a proxy mutex handle (after the table released it; the caller closes its primitive). */
export async function closeMutexLive(ctx: TranslationContext, entry: ProxyHandleEntry): Promise<void> {
  closeMutexEntry(ctx, entry);
  const placeholder = takeTwin(entry);
  if (placeholder === undefined) return;
  if (!ctx.server) return;
  const closed = await ctx.server.call('close_handle', { handle: placeholder });
  if (closed.error) ctx.log?.warn({ placeholder, error: closed.error }, 'closing a mutex placeholder failed');
}


/**
 * dup_handle of a proxy mutex handle within the calling process (both
 * process handles the current-process pseudo-handle), as duplicate_handle
 * does it: the same or a mapped access, a check against the descriptor when
 * more access is asked than the source has (for a named mutex wineserver
 * checks it, duplicating the placeholder), DUPLICATE_CLOSE_SOURCE within one
 * process keeping the value. Global handles are refused; other processes
 * are the generic live dup_handle's (proxy/translate/live/handles.ts), which
 * calls this for the caller's own process. A proxy directory or link is
 * duplicated through its twin (dupViaTwin).
 */
export const dupMutexHandleLive: TranslatedEntry<DupBody, { handle: number }> = {
  request: 'dup_handle',
  family: 'handles',
  status: 'translated',
  domains: ['handle-tables', 'sync-objects'],
  primitives: ['object_open', 'object_close'],
  async translate(request, ctx) {
    const { src_process, src_handle, dst_process, access, attributes, options } = request.body;
    const source = ctx.handles.get(src_handle);
    if (source && source.type !== MUTANT_TYPE) return (await dupViaTwin(request, ctx)) ?? handleReply(STATUS_NOT_SUPPORTED, 0);
    if (src_process >>> 0 !== CURRENT_PROCESS || dst_process >>> 0 !== CURRENT_PROCESS || options & DUPLICATE_MAKE_GLOBAL) {
      return handleReply(STATUS_NOT_SUPPORTED, 0);
    }
    if (!source) return handleReply(STATUS_INVALID_HANDLE, 0);
    const state = namespaceHandle(source);
    if (!state) return handleReply(STATUS_NOT_SUPPORTED, 0);
    const placeholder = twinOf(source);
    let placeholderCopy: number | undefined;
    let granted: number;
    if (placeholder !== undefined && ctx.server) {
      // wineserver duplicates the placeholder: its access rules and descriptor check decide.
      const dup = await ctx.server.call('dup_handle', { src_process, src_handle: placeholder, dst_process, access, attributes, options });
      placeholderCopy = (dup.body as { handle: number }).handle;
      if (!placeholderCopy) return handleReply(dup.error >>> 0, 0);
      const info = await ctx.server.call('get_object_info', { handle: placeholderCopy });
      granted = (info.body as { access: number }).access >>> 0;
    } else {
      granted = duplicateAccess(source, options & DUPLICATE_SAME_ACCESS ? null : access);
    }
    if (options & DUPLICATE_CLOSE_SOURCE) {
      // Within one process the value is kept and only its access and flags change.
      source.access = granted;
      source.flags = attributes & OBJ_INHERIT;
      if (placeholderCopy !== undefined) setTwin(source, placeholderCopy);
      return handleReply(STATUS_SUCCESS, src_handle);
    }
    const copy = duplicateMutexHandle(ctx, src_handle, ctx, null, attributes & OBJ_INHERIT);
    if (!copy) return handleReply(STATUS_INVALID_HANDLE, 0);
    const entry = ctx.handles.get(copy)!;
    entry.access = granted;
    if (placeholderCopy !== undefined) setTwin(entry, placeholderCopy);
    return handleReply(STATUS_SUCCESS, copy);
  },
};

/** The access a duplicate gets: the source's (null: DUPLICATE_SAME_ACCESS), or `access` mapped for a mutex. */
function duplicateAccess(source: ProxyHandleEntry, access: number | null): number {
  if (access === null) return source.access;
  const mapping = objectType(MUTANT_TYPE).mapping;
  const granted = (mapAccess(access, mapping) & ~RESERVED_ALL) >>> 0;
  return granted & MAXIMUM_ALLOWED ? mapping.all : granted;
}

/**
 * A second proxy handle to the mutex behind `value` of process `from`,
 * minted in `to` (the same process or another client of the proxy; every
 * session of the instance reaches the same objects): dup_handle and
 * inheritance (LiveFamily.duplicate). 0 when the mutex cannot be reopened.
 */
export function duplicateMutexHandle(from: TranslationContext, value: number, to: TranslationContext, access: number | null, flags: number): number {
  const source = from.handles.get(value);
  const state = namespaceHandle(source);
  if (!source || source.type !== MUTANT_TYPE || !state) return 0;
  // An unnamed mutex cannot be reopened by name: the copy holds its state object instead (which
  // keeps the mutex as long; the copy has no descriptor of its own to read or set).
  const primitive = to.session.open(state.node.primName.length ? state.node.primName : mutexStateName(state.node.record.seq));
  if (primitive < 0) return 0;
  const copy = allocHandle(to, state.node, primitive, 0, flags, { check: false });
  if (!copy.handle) return 0;
  const entry = to.handles.get(copy.handle)!;
  entry.access = duplicateAccess(source, access);
  mutexOf(to, entry);
  return copy.handle;
}

type SecurityBody = { handle: number; security_info: number };

/** get/set_security_object on a named proxy mutex go to its placeholder; everything else to the namespace translators. */
function viaPlaceholder<B extends SecurityBody>(base: TranslatedEntry<B>): TranslatedEntry<B> {
  return {
    ...base,
    async translate(request, ctx) {
      const placeholder = twinOf(ctx.handles.get(request.body.handle));
      if (placeholder === undefined || !ctx.server) return base.translate(request, ctx);
      const answer = await ctx.server.call(request.name, { ...request.body, handle: placeholder }, request.replySize);
      return { error: answer.error >>> 0, body: answer.body as Record<string, unknown> };
    },
  };
}

export const getSecurityObjectLive = viaPlaceholder(getSecurityObject as TranslatedEntry<SecurityBody>);
export const setSecurityObjectLive = viaPlaceholder(setSecurityObject as TranslatedEntry<SecurityBody>);
