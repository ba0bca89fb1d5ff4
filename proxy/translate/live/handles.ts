// Generic handle requests on proxy handles, live (`--translate`), whatever
// family minted the handle: dup_handle across processes, set_handle_info,
// get_object_info, get_object_name, the descriptor requests, and the copies behind handle inheritance
// (TranslationRouter.inheritHandles). Each family says how to copy a handle
// of its object types into another process (LiveFamily.duplicate); these
// entries find the processes, keep the server twins in step and answer as
// wineserver's duplicate_handle and set_handle_flags do.
//
// Processes are named by wineserver handles (src_process, dst_process): the
// proxy learns which client a process handle stands for with a server call
// as the caller (get_process_info: its Wine pid), so a bad or foreign handle
// fails as wineserver decides. A proxy handle with a twin (a named mutex's
// placeholder) has the twin duplicated alongside by wineserver, with the
// same process handles: wineserver checks PROCESS_DUP_HANDLE on both and
// the object's descriptor, and the copy gets the twin's copy. A handle
// without a twin (a registry key, an unnamed mutex) is checked only as far
// as get_process_info checks the process handles.

import { applyHandleInfo, ENTRY_INHERIT, handleInfoFlags, HANDLE_FLAG_INHERIT, type ProxyHandleEntry } from '../../../mappings/handles.ts';
import { bridgeToTwins, CURRENT_PROCESS, DUPLICATE_CLOSE_SOURCE, dupViaTwin, type DupBody } from '../../../mappings/namespace/live.ts';
import { namespaceHandle } from '../../../mappings/namespace/proxy-handles.ts';
import { setTwin, takeTwin, twinOf } from '../../../mappings/namespace/server-twins.ts';
import { STATUS_BUFFER_OVERFLOW, STATUS_INVALID_HANDLE, STATUS_NOT_SUPPORTED, STATUS_PROCESS_IS_TERMINATING, STATUS_SUCCESS } from '../../../mappings/ntstatus.ts';
import { STATUS_OBJECT_TYPE_MISMATCH } from '../../../mappings/namespace/records.ts';
import { isPromise, type Awaitable, type PrimitiveCall, type TranslatedEntry, type TranslatedReply, type TranslationContext } from '../../../mappings/translator.ts';
import type { DecodedRequest } from '../../../requests/protocol.ts';
import type { UnicodeStr } from '../../../requests/kinds/text.ts';
import type { MalformedObjectTypeInfo, ObjectTypeInfo } from '../../../requests/kinds/object-type-info.ts';
import { isMalformed } from '../../../requests/kinds/malformed.ts';
import { KEY_TYPE, keyHandleName, keyReferencesBeyondHandles } from '../../../mappings/registry/translators.ts';
import type { DuplicateHook, LiveFamily } from './family.ts';

const DUPLICATE_SAME_ACCESS = 2;
const DUPLICATE_MAKE_GLOBAL = 0x80000000;
const OBJ_INHERIT = 0x02;
/** Object types whose same-process dup_handle the mutex family's entry answers (placeholders, twins). */
const SAME_PROCESS_TYPES = new Set(['Mutant', 'Directory', 'SymbolicLink']);

type HandleReply = TranslatedReply<{ handle: number }>;
const handleReply = (error: number, handle: number): HandleReply => ({ error: error >>> 0, body: { handle } });

const hooksByFamilies = new WeakMap<readonly LiveFamily[], Map<string, DuplicateHook>>();

/** The families' duplicate hooks by object type (one map per router's family list). */
function duplicateHooks(families: readonly LiveFamily[]): Map<string, DuplicateHook> {
  let hooks = hooksByFamilies.get(families);
  if (!hooks) {
    hooks = new Map();
    for (const family of families) for (const [type, hook] of Object.entries(family.duplicate ?? {})) hooks.set(type, hook);
    hooksByFamilies.set(families, hooks);
  }
  return hooks;
}

/**
 * A copy of process `from`'s proxy handle `value` minted in process `to` by
 * the family of its object type (no twin: the caller's business). 0 when
 * no family can copy that type or the object cannot be reached.
 */
export function duplicateProxyHandle(families: readonly LiveFamily[], from: TranslationContext, value: number, to: TranslationContext, access: number | null, flags: number): number {
  const entry = from.handles.get(value);
  const hook = entry && duplicateHooks(families).get(entry.type);
  return hook ? hook(from, value, to, access, flags) : 0;
}

/**
 * Closes a proxy handle without server calls: a copy the proxy made and
 * gives up, or a source closed by DUPLICATE_CLOSE_SOURCE whose twin
 * wineserver has closed already (the twin is forgotten first, so no family
 * hook closes it again).
 */
export function closeProxyHandleQuietly(families: readonly LiveFamily[], ctx: TranslationContext, value: number): void {
  const entry = ctx.handles.release(value);
  if (!entry) return;
  takeTwin(entry);
  const hook = families.map((family) => family.onClose?.[entry.type]).find((found) => found !== undefined);
  try {
    const closing = hook?.({ ...ctx, server: undefined }, value, entry);
    if (isPromise(closing)) closing.catch((error: Error) => ctx.log?.warn({ err: error.message }, 'closing a proxy handle failed'));
  } finally {
    ctx.session.close(entry.primitive);
  }
}

/** The client process a process handle of the caller stands for, or wineserver's status for it. */
async function processBehind(ctx: TranslationContext, processHandle: number): Promise<{ ctx: TranslationContext } | { error: number }> {
  if (processHandle >>> 0 === CURRENT_PROCESS) return { ctx };
  const info = await ctx.server!.call('get_process_info', { handle: processHandle });
  if (info.error) return { error: info.error >>> 0 };
  const pid = (info.body as { pid: number }).pid;
  const other = pid === ctx.pid ? ctx : ctx.processContext!(pid);
  // A process wineserver still knows but whose client is gone has no handle table any more.
  return other ? { ctx: other } : { error: STATUS_PROCESS_IS_TERMINATING };
}

/**
 * dup_handle naming another process (src_process or dst_process not the
 * current-process pseudo-handle) with a proxy src_handle: the source looked
 * up in src_process's table, the copy minted in dst_process's by the
 * object's family, the twin duplicated alongside by wineserver;
 * DUPLICATE_CLOSE_SOURCE closes the source whatever happened, as wineserver
 * does. A directory or link of the caller keeps its wineserver copy
 * (dupViaTwin).
 */
async function dupAcrossProcesses(families: readonly LiveFamily[], request: DecodedRequest<DupBody>, ctx: TranslationContext): Promise<HandleReply> {
  const { src_process, src_handle, dst_process, access, attributes, options } = request.body;
  const server = ctx.server!;
  const from = await processBehind(ctx, src_process);
  if ('error' in from) return handleReply(from.error, 0);
  const source = from.ctx.handles.get(src_handle);
  if (source && from.ctx === ctx && (source.type === 'Directory' || source.type === 'SymbolicLink')) return (await dupViaTwin(request, ctx)) ?? handleReply(STATUS_NOT_SUPPORTED, 0);
  // wineserver's order: the source process, the target process, then the source handle.
  const to = await processBehind(ctx, dst_process);
  const hook = source && duplicateHooks(families).get(source.type);
  const twin = twinOf(source);
  let status: number = STATUS_SUCCESS;
  let copy = 0;
  if ('error' in to) status = to.error;
  else if (!source) status = STATUS_INVALID_HANDLE;
  else if (!hook) status = STATUS_NOT_SUPPORTED;
  else {
    let twinCopy: number | undefined;
    if (twin !== undefined) {
      const dup = await server.call('dup_handle', { src_process, src_handle: twin, dst_process, access, attributes, options: options & ~DUPLICATE_CLOSE_SOURCE });
      status = dup.error >>> 0;
      twinCopy = (dup.body as { handle: number }).handle || undefined;
    }
    if (!status) {
      copy = hook(from.ctx, src_handle, to.ctx, options & DUPLICATE_SAME_ACCESS ? null : access, attributes & OBJ_INHERIT);
      if (!copy) status = STATUS_NOT_SUPPORTED;
      else if (twinCopy !== undefined) setTwin(to.ctx.handles.get(copy)!, twinCopy);
    }
    if (!copy && twinCopy !== undefined) {
      // The object could not be copied after all: its twin's copy goes too.
      await server.call('dup_handle', { src_process: dst_process, src_handle: twinCopy, dst_process: 0, access: 0, attributes: 0, options: DUPLICATE_CLOSE_SOURCE });
    }
  }
  if (source && options & DUPLICATE_CLOSE_SOURCE && !(from.ctx === ('ctx' in to ? to.ctx : null) && copy === src_handle)) {
    if (twin !== undefined) await server.call('dup_handle', { src_process, src_handle: twin, dst_process: 0, access: 0, attributes: 0, options: DUPLICATE_CLOSE_SOURCE });
    closeProxyHandleQuietly(families, from.ctx, src_handle);
  }
  return handleReply(status, copy);
}

/**
 * The live dup_handle for proxy handles: the caller's own (both process
 * handles the current-process pseudo-handle) go to `sameProcess` (the
 * mutex family's, which also sends directories and links through their
 * twins), registry keys are copied here; any other process, here.
 * Routed by src_handle alone (src_process and dst_process are wineserver's
 * process handles, used through server calls).
 */
export function dupHandleLive(families: readonly LiveFamily[], sameProcess: TranslatedEntry<DupBody, { handle: number }>): TranslatedEntry<DupBody, { handle: number }> {
  return {
    ...sameProcess,
    serverHandleFields: ['src_process', 'dst_process'],
    translate(request, ctx) {
      const { src_process, src_handle, dst_process, access, attributes, options } = request.body;
      if (options & DUPLICATE_MAKE_GLOBAL || !ctx.server || !ctx.processContext) return handleReply(STATUS_NOT_SUPPORTED, 0);
      if (src_process >>> 0 !== CURRENT_PROCESS || dst_process >>> 0 !== CURRENT_PROCESS) return dupAcrossProcesses(families, request, ctx);
      const source = ctx.handles.get(src_handle);
      const hook = source && !SAME_PROCESS_TYPES.has(source.type) ? duplicateHooks(families).get(source.type) : undefined;
      if (!source || !hook) return sameProcess.translate(request, ctx);
      // A twinless handle of the caller's (a registry key): a copy, or with DUPLICATE_CLOSE_SOURCE the same value changed.
      const copyAccess = options & DUPLICATE_SAME_ACCESS ? null : access;
      if (options & DUPLICATE_CLOSE_SOURCE) {
        const copy = hook(ctx, src_handle, ctx, copyAccess, attributes & OBJ_INHERIT);
        if (!copy) return handleReply(STATUS_NOT_SUPPORTED, 0);
        const fresh = ctx.handles.get(copy)!;
        source.access = fresh.access;
        source.flags = attributes & OBJ_INHERIT ? ENTRY_INHERIT : 0;
        closeProxyHandleQuietly(families, ctx, copy);
        return handleReply(STATUS_SUCCESS, src_handle);
      }
      const copy = hook(ctx, src_handle, ctx, copyAccess, attributes & OBJ_INHERIT);
      return copy ? handleReply(STATUS_SUCCESS, copy) : handleReply(STATUS_NOT_SUPPORTED, 0);
    },
  };
}

/**
 * set_handle_info on a proxy handle: the inherit and protect-from-close
 * flags kept with the entry (set_handle_flags), the old ones answered; a
 * twin's flags follow, so that wineserver copies the twin into a child
 * exactly when the proxy copies the handle.
 */
export const setHandleInfoLive: TranslatedEntry<{ handle: number; flags: number; mask: number }, { old_flags: number }> = {
  request: 'set_handle_info',
  family: 'handles',
  status: 'translated',
  domains: ['handle-tables'],
  // The flags live with the proxy handle, which is the client's object_open handle.
  primitives: ['object_open'],
  translate(request, ctx) {
    const { handle, flags, mask } = request.body;
    const entry = ctx.handles.get(handle);
    if (!entry) return { error: STATUS_INVALID_HANDLE, body: { old_flags: 0 } };
    const old = handleInfoFlags(entry);
    applyHandleInfo(entry, flags, mask);
    const twin = twinOf(entry);
    if (twin === undefined || !ctx.server || !(mask & HANDLE_FLAG_INHERIT)) return { error: STATUS_SUCCESS, body: { old_flags: old } };
    return ctx.server.call('set_handle_info', { handle: twin, flags: flags & HANDLE_FLAG_INHERIT, mask: HANDLE_FLAG_INHERIT }).then(() => ({ error: STATUS_SUCCESS, body: { old_flags: old } }));
  },
};

/** wineserver's answer about the twin of a proxy handle that has one (bridgeToTwins), else null. */
function aboutTwin<R>(request: DecodedRequest, ctx: TranslationContext, entry: ProxyHandleEntry): Promise<R> | null {
  return twinOf(entry) === undefined ? null : (bridgeToTwins(request, ctx) as Promise<R> | null);
}

/** What makes two proxy handles of one type name the same object: an unnamed mutex's record, a key's id. */
function objectIdentity(entry: ProxyHandleEntry): number | undefined {
  if (entry.type === KEY_TYPE) return entry.object;
  return entry.type === 'Mutant' ? namespaceHandle(entry)?.node.record.seq : undefined;
}

/**
 * get_object_info on a proxy handle: one with a twin is wineserver's answer
 * about the twin (the proxy keeps one twin per handle, inherited and
 * duplicated alongside, so wineserver's handle count is the proxy's); an
 * unnamed mutex (no twin) is answered here, its handle count summed over
 * every client's table, its reference count that plus the one wineserver's
 * handler holds while it answers (threads waiting on it are not counted); a
 * registry key likewise, its references counting those the registry holds
 * (keyReferencesBeyondHandles).
 */
export const getObjectInfoLive = aboutTwinlessObject('get_object_info', ['object_open'], { access: 0, ref_count: 0, handle_count: 0 }, (entry, ctx) => {
  const identity = objectIdentity(entry);
  let handles = 0;
  for (const table of ctx.allHandleTables?.() ?? [ctx.handles]) {
    for (const [, other] of table) if (other.type === entry.type && objectIdentity(other) === identity) handles++;
  }
  const reply = (beyond: number) => ({ error: STATUS_SUCCESS, body: { access: entry.access, ref_count: handles + beyond, handle_count: handles } });
  if (entry.type !== KEY_TYPE) return reply(1);
  const beyond = keyReferencesBeyondHandles(ctx, entry);
  return isPromise(beyond) ? beyond.then(reply) : reply(beyond);
});

/**
 * An entry for a generic request about the object behind a proxy handle
 * (needs server calls): a handle with a twin gets wineserver's answer about
 * the twin, a key or an unnamed mutex is answered by `answer`, anything
 * else is refused.
 */
function aboutTwinlessObject<B>(
  request: string,
  primitives: PrimitiveCall[],
  failedBody: B,
  answer: (entry: ProxyHandleEntry, ctx: TranslationContext, replySize: number) => Awaitable<TranslatedReply<B>>,
): TranslatedEntry<{ handle: number }, B> {
  return {
    request,
    family: 'directories/symlinks/objects',
    status: 'translated',
    domains: ['object-namespace', 'handle-tables'],
    primitives,
    needsServer: true,
    translate(decoded, ctx) {
      const entry = ctx.handles.get(decoded.body.handle);
      if (!entry) return { error: STATUS_INVALID_HANDLE, body: failedBody };
      const bridged = aboutTwin<TranslatedReply<B>>(decoded, ctx, entry);
      if (bridged) return bridged;
      if (objectIdentity(entry) === undefined) return { error: STATUS_NOT_SUPPORTED, body: failedBody };
      return answer(entry, ctx, decoded.replySize);
    },
  };
}

type TypeInfo = ObjectTypeInfo | MalformedObjectTypeInfo;
type TypeReply = TranslatedReply<{ info: TypeInfo | null }>;

/** Room asked for wineserver's list of object types (about 25 entries of 44 bytes and a short name). */
const OBJECT_TYPES_REPLY_SIZE = 8192;
const OBJECT_TYPE_INFO_HEADER = 44;

/**
 * get_object_type on a proxy handle: one with a twin is wineserver's answer
 * about the twin; a key or an unnamed mutex (no twin) gets wineserver's
 * description of its type (name, index, valid access, generic mapping,
 * limits: get_object_types, as the calling thread) with the proxy's twinless
 * handles of the type added to the handle count, and for mutexes its
 * twinless objects to the object count. wineserver's key count stays as it
 * is: its registry was loaded from the same files as the proxy's, and keys
 * made since through the proxy are not counted.
 */
export const getObjectTypeLive = aboutTwinlessObject<{ info: TypeInfo | null }>('get_object_type', ['object_open'], { info: null }, typeOfTwinless);

async function typeOfTwinless(entry: ProxyHandleEntry, ctx: TranslationContext, replySize: number): Promise<TypeReply> {
  if (!ctx.server) return { error: STATUS_NOT_SUPPORTED, body: { info: null } };
  const listed = await ctx.server.call('get_object_types', {}, OBJECT_TYPES_REPLY_SIZE);
  if (listed.error) return { error: listed.error >>> 0, body: { info: null } };
  const types = (listed.body as { info: TypeInfo[] }).info;
  const known = types.find((type): type is ObjectTypeInfo => !isMalformed(type) && type.name === entry.type);
  if (!known) return { error: STATUS_NOT_SUPPORTED, body: { info: null } };
  const nameBytes = Buffer.byteLength(known.name, 'utf16le');
  if (OBJECT_TYPE_INFO_HEADER + nameBytes > replySize >>> 0) return { error: STATUS_BUFFER_OVERFLOW, body: { info: null } };
  let handles = 0;
  const objects = new Set<number>();
  for (const table of ctx.allHandleTables?.() ?? [ctx.handles]) {
    for (const [, other] of table) {
      if (other.type !== entry.type || twinOf(other) !== undefined) continue;
      handles++;
      const identity = objectIdentity(other);
      if (identity !== undefined) objects.add(identity);
    }
  }
  const addedObjects = entry.type === KEY_TYPE ? 0 : objects.size;
  return {
    error: STATUS_SUCCESS,
    body: {
      // wineserver writes this one entry unpadded
      info: { ...known, obj_count: (known.obj_count + addedObjects) >>> 0, handle_count: (known.handle_count + handles) >>> 0, padding: Buffer.alloc(0) },
    },
  };
}

type NameReply = TranslatedReply<{ total: number; name: string | UnicodeStr }>;

function nameReply(status: number, name: Buffer, replySize: number): NameReply {
  if (status) return { error: status >>> 0, body: { total: 0, name: '' } };
  const shown = name.subarray(0, Math.min(name.length, replySize >>> 0));
  return { error: STATUS_SUCCESS, body: { total: name.length, name: shown.length % 2 ? { malformed: true, bytes: Buffer.from(shown) } : shown.toString('utf16le') } };
}

/**
 * get_object_name on a proxy handle: one with a twin is wineserver's answer
 * about the twin (the same name); a registry key's full name
 * (\REGISTRY\...) and an unnamed mutex's empty one are answered here.
 */
export const getObjectNameLive = aboutTwinlessObject<{ total: number; name: string | UnicodeStr }>('get_object_name', ['getname'], { total: 0, name: '' }, (entry, ctx, replySize) => {
  if (entry.type !== KEY_TYPE) return nameReply(STATUS_SUCCESS, Buffer.alloc(0), replySize);
  const named = keyHandleName(ctx, entry);
  return isPromise(named) ? named.then((n) => nameReply(n.status, n.name, replySize)) : nameReply(named.status, named.name, replySize);
});

/**
 * A descriptor request (get_handle_fd, get_handle_unix_name) on a proxy
 * handle: no proxy object has a unix descriptor (keys, mutexes, directories
 * and links have none in wineserver either), so the answer is wineserver's
 * for such an object, STATUS_OBJECT_TYPE_MISMATCH; NtQueryObject asks
 * get_handle_unix_name first for every handle and falls back to
 * get_object_name on that status.
 */
function noDescriptor<B>(request: string, emptyReply: B): TranslatedEntry<{ handle: number }, B> {
  return {
    request,
    family: 'files/fds',
    status: 'translated',
    domains: ['handle-tables'],
    primitives: ['get_native_file'],
    translate(decoded, ctx) {
      return { error: ctx.handles.get(decoded.body.handle) ? STATUS_OBJECT_TYPE_MISMATCH : STATUS_INVALID_HANDLE, body: emptyReply };
    },
  };
}

export const noDescriptorEntries = [
  noDescriptor('get_handle_fd', { type: 0, cacheable: 0, access: 0, options: 0 }),
  noDescriptor('get_handle_unix_name', { name_len: 0, name: Buffer.alloc(0) }),
];
