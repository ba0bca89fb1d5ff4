// Proxy handles onto namespace entries: minting them with wineserver's
// access check, the anchors that keep temporary directories alive, closing,
// duplicating and inheriting them, make_temporary, and the descriptor
// behind a handle (store.ts has the layout and the lookup rules).

import { handleOwner, type ProxyHandleEntry } from '../handles.ts';
import { STATUS_ACCESS_DENIED, STATUS_INVALID_HANDLE, STATUS_SUCCESS, statusFromErrno } from '../ntstatus.ts';
import { accessCheck, MAXIMUM_ALLOWED, mapAccess, sdBytes, sdParts, WINE_PROCESS_TOKEN, type NtToken, type SdParts } from '../security/descriptor.ts';
import type { TranslationContext } from '../translator.ts';
import {
  encodeRecord,
  FLAG_PERMANENT,
  NamespaceStoreError,
  OBJ_INHERIT,
  readRecord,
  RESERVED_ALL,
  STATUS_OBJECT_TYPE_MISMATCH,
  withNamespace,
  writeRecord,
  type NsNode,
} from './store.ts';
import { objectType } from './types.ts';
// ---------------------------------------------------------------------------
// Proxy handles onto entries

interface HandleState {
  node: NsNode;
  /** Primitive handles on the temporary directories above the object. */
  anchors: number[];
}

/** What the namespace knows about each proxy handle it minted (keyed by the table's entry object). */
const handleStates = new WeakMap<ProxyHandleEntry, HandleState>();

/** The namespace state of a proxy handle, if the namespace minted it. */
export function namespaceHandle(entry: ProxyHandleEntry | undefined): HandleState | undefined {
  return entry ? handleStates.get(entry) : undefined;
}

/**
 * alloc_handle (or, with check: false, alloc_handle_no_access_check): checks `access` (generic bits mapped by the object's type)
 * against the object's descriptor for the caller's token, then mints a proxy
 * handle that owns `primitive` and anchors the temporary directories above.
 * On failure the primitive handle is closed.
 */
export function allocHandle(
  ctx: TranslationContext,
  node: NsNode,
  primitive: number,
  access: number,
  attributes: number,
  options: { check?: boolean; token?: NtToken } = {},
): { status: number; handle: number } {
  const type = objectType(node.record.type);
  const token = options.token ?? WINE_PROCESS_TOKEN;
  let granted = (mapAccess(access, type.mapping) & ~RESERVED_ALL) >>> 0;
  if (options.check === false) {
    // alloc_handle_no_access_check: what the creator of a new event, mutex, ... gets.
    if (access & MAXIMUM_ALLOWED) granted = (mapAccess(0x10000000, type.mapping) & ~RESERVED_ALL) >>> 0;
  } else if (granted) {
    if (!node.record.sd) {
      if (granted & MAXIMUM_ALLOWED) granted = type.mapping.all;
    } else {
      const check = accessCheck(token, sdParts(node.record.sd), granted, type.mapping);
      if (!check.ok) {
        ctx.session.close(primitive);
        return { status: STATUS_ACCESS_DENIED, handle: 0 };
      }
      granted = check.granted;
    }
  }
  const anchors: number[] = [];
  for (const dir of node.chain) {
    if (dir.record.flags & FLAG_PERMANENT || !dir.primName.length) continue;
    const h = ctx.session.open(dir.primName);
    if (h >= 0) anchors.push(h);
  }
  const entry: ProxyHandleEntry = { primitive, type: node.record.type, access: granted, flags: attributes & OBJ_INHERIT };
  let handle: number;
  try {
    handle = ctx.handles.mint(entry);
  } catch (error) {
    for (const h of [primitive, ...anchors]) ctx.session.close(h);
    throw error;
  }
  handleStates.set(entry, { node, anchors });
  return { status: STATUS_SUCCESS, handle };
}

/**
 * Closes a proxy handle the namespace minted: the object's primitive handle
 * and its anchors (what close_handle must call for these handles).
 */
export function closeNamespaceHandle(ctx: TranslationContext, value: number): number {
  const entry = ctx.handles.get(value);
  const state = namespaceHandle(entry);
  if (!entry || !state) return STATUS_INVALID_HANDLE;
  ctx.handles.release(value);
  ctx.session.close(entry.primitive);
  for (const h of state.anchors) ctx.session.close(h);
  return STATUS_SUCCESS;
}

/** get_handle_obj for namespace handles: the entry, or the status wineserver answers. */
export function handleObject(ctx: TranslationContext, value: number, access: number, type: string | null): { status: number; entry: ProxyHandleEntry | null; state: HandleState | null } {
  // A pseudo-handle names the current process, thread or a token: never a directory or a link.
  if (type && handleOwner(value) === 'pseudo') return { status: STATUS_OBJECT_TYPE_MISMATCH, entry: null, state: null };
  const entry = ctx.handles.get(value);
  const state = namespaceHandle(entry);
  if (!entry || !state) return { status: STATUS_INVALID_HANDLE, entry: null, state: null };
  if (type && entry.type !== type) return { status: STATUS_OBJECT_TYPE_MISMATCH, entry: null, state: null };
  if ((entry.access & access) >>> 0 !== access >>> 0) return { status: STATUS_ACCESS_DENIED, entry: null, state: null };
  return { status: STATUS_SUCCESS, entry, state };
}

/** The node of a handle, its record re-read (another process may have changed its descriptor). */
export function handleNode(ctx: TranslationContext, entry: ProxyHandleEntry): NsNode {
  const state = handleStates.get(entry);
  if (!state) throw new NamespaceStoreError('not a namespace handle');
  return { ...state.node, record: readRecord(ctx.session, entry.primitive) };
}

/** Replaces the descriptor of the object behind a handle (write lock held by the caller). */
export function storeSecurity(ctx: TranslationContext, entry: ProxyHandleEntry, sd: SdParts): number {
  const record = readRecord(ctx.session, entry.primitive);
  record.sd = sdBytes(sd);
  const written = writeRecord(ctx.session, entry.primitive, record);
  return written < 0 ? statusFromErrno(written) : STATUS_SUCCESS;
}


/**
 * make_temporary for a namespace handle: the object loses its permanence and
 * its name goes with its last handle. The primitives end permanence only by
 * unlinking the name, so the entry is unlinked and recreated temporary under
 * the same name, and this handle moves to the new object. Exact when this is
 * the only handle (the usual create-permanent, reopen, make-temporary, close
 * pattern); other open handles keep the unlinked original.
 */
export async function makeTemporary(ctx: TranslationContext, value: number): Promise<number> {
  const entry = ctx.handles.get(value);
  const state = namespaceHandle(entry);
  if (!entry || !state) return STATUS_INVALID_HANDLE;
  return withNamespace(ctx.session, 'write', () => {
    const record = readRecord(ctx.session, entry.primitive);
    if (!(record.flags & FLAG_PERMANENT) || !state.node.primName.length) return STATUS_SUCCESS;
    record.flags &= ~FLAG_PERMANENT;
    const unlinked = ctx.session.unlink(entry.primitive);
    if (unlinked < 0) return statusFromErrno(unlinked);
    const fresh = ctx.session.create(state.node.primName, encodeRecord(record), 0);
    if (fresh < 0) return statusFromErrno(fresh);
    ctx.session.close(entry.primitive);
    entry.primitive = fresh;
    state.node = { ...state.node, record };
    return STATUS_SUCCESS;
  });
}

/**
 * A second handle to the object behind a namespace handle, in `to` (the
 * same process or another one of the instance): what handle inheritance at
 * process creation and dup_handle need. `access` null keeps the source's
 * granted access (DUPLICATE_SAME_ACCESS, inheritance). Returns 0 when the
 * source is not a namespace handle or the object cannot be opened.
 */
export function duplicateNamespaceHandle(from: TranslationContext, value: number, to: TranslationContext, access: number | null, flags: number): number {
  const entry = from.handles.get(value);
  const state = namespaceHandle(entry);
  if (!entry || !state) return 0;
  // Reopen by name; an unnamed object (or one whose name is gone) cannot be reached from another session.
  const primitive = state.node.primName.length ? to.session.open(state.node.primName) : -1;
  if (primitive < 0) return 0;
  const anchors: number[] = [];
  for (const dir of state.node.chain) {
    if (dir.record.flags & FLAG_PERMANENT || !dir.primName.length) continue;
    const h = to.session.open(dir.primName);
    if (h >= 0) anchors.push(h);
  }
  const type = objectType(state.node.record.type);
  const granted = access === null ? entry.access : (mapAccess(access, type.mapping) & ~RESERVED_ALL) >>> 0;
  const copy: ProxyHandleEntry = { primitive, type: entry.type, access: granted, flags };
  const handle = to.handles.mint(copy);
  handleStates.set(copy, { node: state.node, anchors });
  return handle;
}

