// get_security_object and set_security_object for objects the proxy owns
// (handles it minted), answering as Wine 8.0's wineserver does
// (server/handle.c, object.c, token.c).
//
// The NT descriptor is the truth and lives in the object's data (for the
// namespace, in the entry record); the NT access checks are made by the
// translators against it (mappings/namespace/proxy-handles.ts allocHandle). After
// each change the descriptor is also projected onto the object's primitive
// ACL (mappings/security/acl-map.ts), which is what a process of another
// Unix user attached to the instance would meet at the primitive calls.
//
// Which objects: every proxy handle whose family keeps a descriptor
// registers a SecurityStore for its type name; the namespace registers one
// for directories, symbolic links and the other objects it names, the
// registry one for keys (mappings/registry/key-security.ts). A proxy
// handle of a type without a store answers STATUS_NOT_SUPPORTED (a request
// naming a wineserver handle never reaches a translator: it is forwarded).

import type { SecurityDescriptorField } from '../../requests/kinds/security.ts';
import { decodeSecurityDescriptor, encodeSecurityDescriptor } from '../../requests/kinds/security.ts';
import { handleOwner, type ProxyHandleEntry } from '../handles.ts';
import { namespaceHandle, storeSecurity } from '../namespace/proxy-handles.ts';
import { readRecord, withNamespace } from '../namespace/store.ts';
import { STATUS_ACCESS_DENIED, STATUS_INVALID_HANDLE, STATUS_NOT_SUPPORTED, STATUS_SUCCESS } from '../ntstatus.ts';
import type { TranslatedEntry, TranslationContext } from '../translator.ts';
import { primitiveAclFor } from './acl-map.ts';
import {
  ACCESS_SYSTEM_SECURITY,
  DACL_SECURITY_INFORMATION,
  GROUP_SECURITY_INFORMATION,
  LABEL_SECURITY_INFORMATION,
  mergeSecurityDescriptor,
  OWNER_SECURITY_INFORMATION,
  READ_CONTROL,
  SACL_SECURITY_INFORMATION,
  sdBytes,
  sdIsValid,
  sdParts,
  selectSecurityParts,
  WINE_PROCESS_TOKEN,
  WRITE_DAC,
  WRITE_OWNER,
  type SdParts,
} from './descriptor.ts';

export const STATUS_ACCESS_VIOLATION = 0xc0000005;
export const STATUS_BUFFER_TOO_SMALL = 0xc0000023;

/** How a family reads and replaces the descriptor of the object behind one of its handles. */
export interface SecurityStore {
  /** What get_security_object shows (the type's get_sd): the object's descriptor, a default of its type, or null for none. */
  read(ctx: TranslationContext, entry: ProxyHandleEntry): Buffer | null | Promise<Buffer | null>;
  /** Replaces the descriptor (called under the family's own serialisation); returns an NTSTATUS. */
  write(ctx: TranslationContext, entry: ProxyHandleEntry, sd: SdParts): number | Promise<number>;
  /**
   * A set in one step under the family's own lock, for families whose get_sd
   * shows a default the object does not own (a key: wineserver merges into
   * obj->sd, which is null for a key never given one, not into the default
   * key_get_sd shows): `merge` receives the object's own descriptor and
   * returns the new one, which the store keeps. Used instead of read + write.
   */
  update?(ctx: TranslationContext, entry: ProxyHandleEntry, merge: (own: SdParts | null) => SdParts): Promise<{ status: number; sd: SdParts | null }>;
}

const namespaceStore: SecurityStore = {
  read: (ctx, entry) => readRecord(ctx.session, entry.primitive).sd,
  write: (ctx, entry, sd) => withNamespace(ctx.session, 'write', () => storeSecurity(ctx, entry, sd)),
};

const stores = new Map<string, SecurityStore>();

/** Lets a family answer the security requests for its handles of `type` ("Key", ...). */
export function registerSecurityStore(type: string, store: SecurityStore): void {
  stores.set(type, store);
}

function storeFor(entry: ProxyHandleEntry): SecurityStore | undefined {
  return namespaceHandle(entry) ? namespaceStore : stores.get(entry.type);
}

/** get_handle_obj: the entry if open with every right in `access`. */
function checkedEntry(ctx: TranslationContext, handle: number, access: number): { status: number; entry?: ProxyHandleEntry; store?: SecurityStore } {
  // A pseudo-handle (current process or thread, a token) or a wineserver handle names an object whose
  // descriptor wineserver holds: never answered here (the router forwards the latter; the former only
  // reaches a translator in replay).
  if (handleOwner(handle) !== 'proxy') return { status: STATUS_NOT_SUPPORTED };
  const entry = ctx.handles.get(handle);
  if (!entry) return { status: STATUS_INVALID_HANDLE };
  if ((entry.access & access) >>> 0 !== access >>> 0) return { status: STATUS_ACCESS_DENIED };
  const store = storeFor(entry);
  if (!store) return { status: STATUS_NOT_SUPPORTED };
  return { status: STATUS_SUCCESS, entry, store };
}

interface GetReply {
  sd_len: number;
  sd: SecurityDescriptorField | null;
}

export const getSecurityObject: TranslatedEntry<{ handle: number; security_info: number }, GetReply> = {
  request: 'get_security_object',
  family: 'tokens/security',
  status: 'translated',
  domains: ['tokens', 'handle-tables'],
  primitives: ['size', 'getdata'],
  async translate(request, ctx) {
    const info = request.body.security_info >>> 0;
    const access = READ_CONTROL | (info & SACL_SECURITY_INFORMATION ? ACCESS_SYSTEM_SECURITY : 0);
    const found = checkedEntry(ctx, request.body.handle, access);
    if (!found.entry || !found.store) return { error: found.status, body: { sd_len: 0, sd: null } };
    const sd = await found.store.read(ctx, found.entry);
    // An object created without a descriptor has none: an empty answer, no error.
    if (!sd) return { error: STATUS_SUCCESS, body: { sd_len: 0, sd: null } };
    const reply = sdBytes(selectSecurityParts(sdParts(sd), info));
    if (reply.length > request.replySize >>> 0) return { error: STATUS_BUFFER_TOO_SMALL, body: { sd_len: reply.length, sd: null } };
    return { error: STATUS_SUCCESS, body: { sd_len: reply.length, sd: decodeSecurityDescriptor(reply, 0, reply.length) } };
  },
};

export const setSecurityObject: TranslatedEntry<{ handle: number; security_info: number; sd: SecurityDescriptorField | null }, Record<string, never>> = {
  request: 'set_security_object',
  family: 'tokens/security',
  status: 'translated',
  domains: ['tokens', 'handle-tables'],
  primitives: ['size', 'getdata', 'setdata', 'setacl', 'lockobject', 'unlock'],
  async translate(request, ctx) {
    const bytes = request.body.sd === null ? Buffer.alloc(0) : encodeSecurityDescriptor(request.body.sd);
    if (!sdIsValid(bytes)) return { error: STATUS_ACCESS_VIOLATION, body: {} };
    const info = request.body.security_info >>> 0;
    let access = 0;
    if (info & (OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | LABEL_SECURITY_INFORMATION)) access |= WRITE_OWNER;
    if (info & SACL_SECURITY_INFORMATION) access |= ACCESS_SYSTEM_SECURITY;
    if (info & DACL_SECURITY_INFORMATION) access |= WRITE_DAC;
    const found = checkedEntry(ctx, request.body.handle, access);
    if (!found.entry || !found.store) return { error: found.status, body: {} };
    // set_sd with nothing named changes nothing (no defaults from the token either).
    if (!info) return { error: STATUS_SUCCESS, body: {} };
    const sent = sdParts(bytes);
    const merge = (own: SdParts | null) => mergeSecurityDescriptor(own, sent, info, WINE_PROCESS_TOKEN);
    let status: number;
    let merged: SdParts | null;
    if (found.store.update) ({ status, sd: merged } = await found.store.update(ctx, found.entry, merge));
    else {
      const current = await found.store.read(ctx, found.entry);
      merged = merge(current ? sdParts(current) : null);
      status = await found.store.write(ctx, found.entry, merged);
    }
    if (status === STATUS_SUCCESS && merged) {
      // Best effort: the NT checks above are authoritative; the primitive ACL only constrains other Unix users.
      const acl = primitiveAclFor(merged);
      const set = ctx.session.setacl(found.entry.primitive, acl);
      if (set < 0) ctx.log?.warn({ handle: request.body.handle, errno: set }, 'set_security_object: primitive ACL not updated');
    }
    return { error: status, body: {} };
  },
};

export const SECURITY_TRANSLATORS = [setSecurityObject, getSecurityObject] as const;
