// Projecting an NT security descriptor onto a primitive ACL.
//
// The primitives know Unix uids and gids and nine rights; NT descriptors
// know SIDs, 32-bit access masks with per-type meanings, deny/allow order,
// inheritance and owners who always keep some rights. What maps:
//
//   NT                                     primitive
//   ACE for Everyone (S-1-1-0)             EVERYONE entry
//   ACE for Wine's user (S-1-5-21-0-0-0-1000,
//     the Unix user wineserver runs as)    OWNER entry
//   ACE for any other SID (SYSTEM, groups,
//     Administrators, logon SIDs)          nothing: kept as data only
//   DELETE                                 DELETE
//   READ_CONTROL                           READ_ACL
//   WRITE_DAC, WRITE_OWNER                 WRITE_ACL
//   GENERIC_READ                           READ
//   GENERIC_WRITE                          WRITE | LOCK
//   GENERIC_ALL                            every object right
//   specific rights (low 16 bits),
//   SYNCHRONIZE, GENERIC_EXECUTE           READ | WRITE | LOCK (every operation
//                                          on the object's state reads and writes
//                                          its data under its lock)
//   NULL DACL / no DACL                    ALLOW EVERYONE every object right
//   inherit-only ACEs, audit/alarm/label   nothing
//
// The entries start with ALLOW OWNER READ | WRITE | LOCK | DELETE: the
// translators, running as that owner, must read the record to make the NT
// access check at all. So for the Wine processes of the prefix (one Unix
// user: wineserver refuses clients of another uid) the primitive ACL
// enforces nothing beyond what the translators check; it is what a session
// of another Unix user attached to the instance meets. Wineserver itself
// checks access only when a handle is allocated (open, create with
// OBJ_OPENIF, duplicate) and against the handle's granted mask afterwards;
// the translators do the same.

import {
  WK_ACE_ALLOW,
  WK_ACE_DENY,
  WK_RIGHT_DELETE,
  WK_RIGHT_LOCK,
  WK_RIGHT_READ,
  WK_RIGHT_READ_ACL,
  WK_RIGHT_WRITE,
  WK_RIGHT_WRITE_ACL,
  WK_RIGHTS_OBJECT_MASK,
  WK_WHO_EVERYONE,
  WK_WHO_OWNER,
  type AclEntry,
} from '../../backends/primitives.ts';
import {
  ACCESS_ALLOWED_ACE_TYPE,
  ACCESS_DENIED_ACE_TYPE,
  aclEntries,
  DELETE,
  GENERIC_ALL,
  GENERIC_EXECUTE,
  GENERIC_READ,
  GENERIC_WRITE,
  INHERIT_ONLY_ACE,
  LOCAL_USER_SID,
  READ_CONTROL,
  sdDacl,
  SYNCHRONIZE,
  WORLD_SID,
  WRITE_DAC,
  WRITE_OWNER,
  type SdParts,
} from './descriptor.ts';

const STATE_RIGHTS = WK_RIGHT_READ | WK_RIGHT_WRITE | WK_RIGHT_LOCK;

/** The primitive rights an NT access mask stands for (see the table above). */
export function primitiveRights(mask: number): number {
  mask >>>= 0;
  let rights = 0;
  if (mask & GENERIC_ALL) return WK_RIGHTS_OBJECT_MASK;
  if (mask & DELETE) rights |= WK_RIGHT_DELETE;
  if (mask & READ_CONTROL) rights |= WK_RIGHT_READ_ACL;
  if (mask & (WRITE_DAC | WRITE_OWNER)) rights |= WK_RIGHT_WRITE_ACL;
  if (mask & GENERIC_READ) rights |= WK_RIGHT_READ;
  if (mask & GENERIC_WRITE) rights |= WK_RIGHT_WRITE | WK_RIGHT_LOCK;
  if (mask & (0xffff | SYNCHRONIZE | GENERIC_EXECUTE)) rights |= STATE_RIGHTS;
  return rights;
}

/** The primitive ACL enforcing what of `sd` the primitives can express. */
export function primitiveAclFor(sd: SdParts): AclEntry[] {
  const entries: AclEntry[] = [{ type: WK_ACE_ALLOW, who: WK_WHO_OWNER, id: 0, rights: STATE_RIGHTS | WK_RIGHT_DELETE }];
  const dacl = sdDacl(sd);
  if (dacl === 'absent' || dacl === 'null') {
    entries.push({ type: WK_ACE_ALLOW, who: WK_WHO_EVERYONE, id: 0, rights: WK_RIGHTS_OBJECT_MASK });
    return entries;
  }
  for (const ace of aclEntries(dacl)) {
    if (ace.flags & INHERIT_ONLY_ACE) continue;
    if (ace.type !== ACCESS_ALLOWED_ACE_TYPE && ace.type !== ACCESS_DENIED_ACE_TYPE) continue;
    const who = ace.sid.equals(WORLD_SID) ? WK_WHO_EVERYONE : ace.sid.equals(LOCAL_USER_SID) ? WK_WHO_OWNER : 0;
    if (!who) continue;
    const rights = primitiveRights(ace.mask);
    if (!rights) continue;
    if (entries.length >= 64) break;
    entries.push({ type: ace.type === ACCESS_DENIED_ACE_TYPE ? WK_ACE_DENY : WK_ACE_ALLOW, who, id: 0, rights });
  }
  return entries;
}
