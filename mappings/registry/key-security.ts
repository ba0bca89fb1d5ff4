// Security descriptors of registry keys (docs/registry.md, "Key
// descriptors"), as Wine 8.0's wineserver keeps them (facts from reading
// server/registry.c, object.c, handle.c and token.c; the code is our own):
//
//  * A key owns a descriptor only when it was given one: by create_key's
//    object attributes when the request creates the key (an existing key,
//    and the key an empty name opens, ignore it), or by
//    set_security_object. Keys loaded from .reg files have none, and
//    wineserver never writes descriptors to the files, so a restart of
//    wineserver forgets them all; here they live as long as the instance.
//  * get_security_object on a key without one shows a fixed default
//    (key_get_sd): owner and group BUILTIN\Administrators, a DACL giving
//    BUILTIN\Users GENERIC_READ (inherit-only, container-inherit) and
//    Administrators KEY_ALL_ACCESS. A set merges into what the key owns
//    (obj->sd: nothing yet), not into that default, so the parts not named
//    come from the process token (default_set_sd).
//  * Opening a key (open_key, create_key of a new or existing key) checks
//    the requested access against the key's own descriptor for the
//    caller's token (check_object_access); without one, everything asked
//    is granted and MAXIMUM_ALLOWED is KEY_ALL_ACCESS.
//
// Storage: `regsd:<id>` (8 hex digits, the key's id), permanent, holding the
// descriptor's bytes in the wire layout. Created, replaced, read and removed
// only under the registry's tree lock (RegistryStore.run), so it changes in
// the one order of every other registry operation. Removed when its key is
// deleted (dropKeyDescriptor from delete_key and unload_registry): a
// deleted key's remaining handles then see the default, where wineserver
// still shows the deleted key's own descriptor (docs/registry.md).

import { WK_CREATE_OPEN_EXISTING, WK_CREATE_PERMANENT, WK_ENOENT, WK_SETDATA_TRUNCATE } from '../../backends/primitives.ts';
import type { ProxyHandleEntry } from '../handles.ts';
import {
  ACCESS_ALLOWED_ACE_TYPE,
  accessCheck,
  buildAcl,
  BUILTIN_ADMINS_SID,
  BUILTIN_USERS_SID,
  DACL_SECURITY_INFORMATION,
  GENERIC_READ,
  GROUP_SECURITY_INFORMATION,
  INHERIT_ONLY_ACE,
  mapAccess,
  MAXIMUM_ALLOWED,
  mergeSecurityDescriptor,
  OWNER_SECURITY_INFORMATION,
  SACL_SECURITY_INFORMATION,
  sdBytes,
  sdParts,
  SE_DACL_PRESENT,
  WINE_PROCESS_TOKEN,
  type GenericMapping,
  type SdParts,
} from '../security/descriptor.ts';
import { registerSecurityStore, type SecurityStore } from '../security/translators.ts';
import { STATUS_ACCESS_DENIED, STATUS_SUCCESS } from '../ntstatus.ts';
import type { TranslationContext } from '../translator.ts';
import { KEY_FLAG, RegistryStoreError } from './record.ts';
import type { RegistryTx } from './store.ts';
// An import cycle (translators.ts uses this module's functions): nothing of
// translators.ts may be used at this module's top level, whichever loads first.
import { registryFor } from './translators.ts';

const CONTAINER_INHERIT_ACE = 0x02;
const KEY_WOW64_64KEY = 0x0100;
const KEY_WOW64_32KEY = 0x0200;
/** The two handle-flag bits wineserver keeps in the access word (alloc_handle strips them). */
const RESERVED_ALL = 0x0c000000;

/** key_type's generic mapping (server/registry.c). */
export const KEY_MAPPING: GenericMapping = { read: 0x20019, write: 0x20006, exec: 0x20039, all: 0xf003f };
const KEY_ALL_ACCESS = KEY_MAPPING.all;

/** What key_get_sd shows for a key that owns no descriptor. */
export const KEY_DEFAULT_SD: Buffer = sdBytes({
  control: SE_DACL_PRESENT,
  owner: BUILTIN_ADMINS_SID,
  group: BUILTIN_ADMINS_SID,
  sacl: Buffer.alloc(0),
  dacl: buildAcl([
    { type: ACCESS_ALLOWED_ACE_TYPE, flags: INHERIT_ONLY_ACE | CONTAINER_INHERIT_ACE, mask: GENERIC_READ, sid: BUILTIN_USERS_SID },
    { type: ACCESS_ALLOWED_ACE_TYPE, mask: KEY_ALL_ACCESS, sid: BUILTIN_ADMINS_SID },
  ]),
});

/** What create_object passes to default_set_sd for a descriptor in the object attributes. */
const CREATION_INFO = OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION | SACL_SECURITY_INFORMATION;

const sdName = (id: number): string => `regsd:${(id >>> 0).toString(16).padStart(8, '0')}`;

function check(result: number, what: string): number {
  if (result < 0) throw new RegistryStoreError(`${what} failed (${result})`);
  return result;
}

/** The key's own descriptor (wineserver's obj->sd), or null when it has none. Caller holds the tree lock. */
export function keyDescriptor(tx: RegistryTx, id: number): Buffer | null {
  const h = tx.session.open(sdName(id));
  if (h === -WK_ENOENT) return null;
  check(h, `opening ${sdName(id)}`);
  try {
    const size = check(tx.session.size(h), `sizing ${sdName(id)}`);
    const out = Buffer.alloc(size);
    check(tx.session.getdata(h, out, 0), `reading ${sdName(id)}`);
    return out;
  } finally {
    tx.session.close(h);
  }
}

/** Gives the key `sd` as its own descriptor, replacing any. Caller holds the tree lock exclusively. */
export function storeKeyDescriptor(tx: RegistryTx, id: number, sd: SdParts): void {
  const bytes = sdBytes(sd);
  const info = { created: false };
  const h = check(tx.session.create(sdName(id), bytes, WK_CREATE_OPEN_EXISTING | WK_CREATE_PERMANENT, info), `creating ${sdName(id)}`);
  try {
    if (!info.created) check(tx.session.setdata(h, bytes, 0, WK_SETDATA_TRUNCATE), `writing ${sdName(id)}`);
  } finally {
    tx.session.close(h);
  }
}

/** Removes a deleted key's descriptor, if it had one. Caller holds the tree lock exclusively. */
export function dropKeyDescriptor(tx: RegistryTx, id: number): void {
  const h = tx.session.open(sdName(id));
  if (h === -WK_ENOENT) return;
  check(h, `opening ${sdName(id)}`);
  try {
    check(tx.session.unlink(h), `removing ${sdName(id)}`);
  } finally {
    tx.session.close(h);
  }
}

/** create_key made a new key with a descriptor in its object attributes: default_set_sd with every part named. */
export function storeCreationDescriptor(tx: RegistryTx, id: number, sd: Buffer): void {
  storeKeyDescriptor(tx, id, mergeSecurityDescriptor(null, sdParts(sd), CREATION_INFO, WINE_PROCESS_TOKEN));
}

/** key_map_access and alloc_handle's mask: generic rights mapped, the WOW64 view bits and the handle-flag bits dropped. */
export function keyRequestedAccess(requested: number): number {
  return (mapAccess(requested, KEY_MAPPING) & ~(KEY_WOW64_64KEY | KEY_WOW64_32KEY | RESERVED_ALL)) >>> 0;
}

/** What check_object_access grants on a key that owns no descriptor: everything asked, MAXIMUM_ALLOWED as KEY_ALL_ACCESS. */
export function keyAccessWithoutDescriptor(requested: number): number {
  const access = keyRequestedAccess(requested);
  return access & MAXIMUM_ALLOWED ? KEY_ALL_ACCESS : access;
}

/**
 * alloc_handle for a key: the access a new handle on key `id` gets for
 * `requested` (the request's access, WOW64 view bits included), or
 * STATUS_ACCESS_DENIED when the key's own descriptor refuses it.
 */
export function grantKeyAccess(tx: RegistryTx, id: number, requested: number): { status: number; access: number } {
  const access = keyRequestedAccess(requested);
  // alloc_handle checks nothing for an empty mask.
  if (!access) return { status: STATUS_SUCCESS, access: 0 };
  const sd = keyDescriptor(tx, id);
  if (!sd) return { status: STATUS_SUCCESS, access: keyAccessWithoutDescriptor(requested) };
  const checked = accessCheck(WINE_PROCESS_TOKEN, sdParts(sd), access, KEY_MAPPING);
  return checked.ok ? { status: STATUS_SUCCESS, access: checked.granted } : { status: STATUS_ACCESS_DENIED, access: 0 };
}

/** The key behind a proxy key handle: its id and whether it was deleted. */
function keyOfEntry(tx: RegistryTx, entry: ProxyHandleEntry): { id: number; deleted: boolean } {
  const header = tx.headerByHandle(entry.primitive);
  return { id: header.id, deleted: (header.flags & KEY_FLAG.DELETED) !== 0 };
}

/** get/set_security_object on key handles. */
export const keySecurityStore: SecurityStore = {
  read: (ctx: TranslationContext, entry: ProxyHandleEntry) =>
    registryFor(ctx.session).run('read', (tx) => {
      const key = keyOfEntry(tx, entry);
      return (key.deleted ? null : keyDescriptor(tx, key.id)) ?? KEY_DEFAULT_SD;
    }),
  write: (ctx, entry, sd) =>
    registryFor(ctx.session).run('write', (tx) => {
      const key = keyOfEntry(tx, entry);
      if (!key.deleted) storeKeyDescriptor(tx, key.id, sd);
      return STATUS_SUCCESS;
    }),
  update: (ctx, entry, merge) =>
    registryFor(ctx.session).run('write', (tx) => {
      const key = keyOfEntry(tx, entry);
      // A deleted key has no name left to keep a descriptor under: the set succeeds and is not kept.
      const own = key.deleted ? null : keyDescriptor(tx, key.id);
      const sd = merge(own ? sdParts(own) : null);
      if (!key.deleted) storeKeyDescriptor(tx, key.id, sd);
      return { status: STATUS_SUCCESS, sd };
    }),
};

// Every module answering requests on key handles loads this one (translators.ts imports it), so the
// security translators find the store wherever keys have handles: the base catalog and the live family.
// 'Key' is translators.ts's KEY_TYPE, spelt out because of the import cycle above.
registerSecurityStore('Key', keySecurityStore);
