// ACL validation and evaluation (docs/primitives.md, "ACLs").
import {
  WK_ACE_ALLOW,
  WK_ACE_DENY,
  WK_ACL_MAX_ENTRIES,
  WK_E2BIG,
  WK_EINVAL,
  WK_RIGHT_READ_ACL,
  WK_RIGHT_WRITE_ACL,
  WK_RIGHTS_MASK,
  WK_WHO_EVERYONE,
  WK_WHO_GROUP,
  WK_WHO_OWNER,
  WK_WHO_USER,
  type AclEntry,
  type Credentials,
} from '../primitives.js';

export type Acl = readonly Readonly<AclEntry>[];

/** The default ACL: ALLOW OWNER every right of the given mask. */
export function defaultAcl(mask: number): Acl {
  return Object.freeze([Object.freeze({ type: WK_ACE_ALLOW, who: WK_WHO_OWNER, id: 0, rights: mask })]);
}

function isU32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

/**
 * Validates caller-supplied entries against `rightsMask`; returns a frozen
 * normalized copy (id 0 for OWNER/EVERYONE) or -errno.
 */
export function normalizeAcl(entries: readonly AclEntry[], rightsMask: number): Acl | number {
  if (!Array.isArray(entries)) return -WK_EINVAL;
  if (entries.length > WK_ACL_MAX_ENTRIES) return -WK_E2BIG;
  const result: Readonly<AclEntry>[] = [];
  for (const entry of entries) {
    if (entry === null || typeof entry !== 'object') return -WK_EINVAL;
    const { type, who, id, rights } = entry;
    if (type !== WK_ACE_ALLOW && type !== WK_ACE_DENY) return -WK_EINVAL;
    if (who !== WK_WHO_OWNER && who !== WK_WHO_USER && who !== WK_WHO_GROUP && who !== WK_WHO_EVERYONE) {
      return -WK_EINVAL;
    }
    if (!isU32(rights) || (rights & ~rightsMask) !== 0) return -WK_EINVAL;
    if (!isU32(id)) return -WK_EINVAL;
    const keepsId = who === WK_WHO_USER || who === WK_WHO_GROUP;
    result.push(Object.freeze({ type, who, id: keepsId ? id : 0, rights }));
  }
  return Object.freeze(result);
}

function entryMatches(entry: Readonly<AclEntry>, ownerUid: number, credentials: Credentials): boolean {
  switch (entry.who) {
    case WK_WHO_EVERYONE:
      return true;
    case WK_WHO_OWNER:
      return credentials.uid === ownerUid;
    case WK_WHO_USER:
      return credentials.uid === entry.id;
    case WK_WHO_GROUP:
      return credentials.gid === entry.id || credentials.groups.includes(entry.id);
    default:
      return false;
  }
}

/**
 * Every right the caller holds: for each right, the first matching entry that
 * names it decides; undecided rights are denied; the owner always holds
 * READ_ACL and WRITE_ACL.
 */
export function grantedRights(acl: Acl, ownerUid: number, credentials: Credentials): number {
  let undecided = WK_RIGHTS_MASK;
  let granted = 0;
  for (let i = 0; i < acl.length && undecided !== 0; i++) {
    const entry = acl[i];
    const decides = entry.rights & undecided;
    if (decides === 0 || !entryMatches(entry, ownerUid, credentials)) continue;
    if (entry.type === WK_ACE_ALLOW) granted |= decides;
    undecided &= ~decides;
  }
  if (credentials.uid === ownerUid) granted |= WK_RIGHT_READ_ACL | WK_RIGHT_WRITE_ACL;
  return granted;
}

export function copyAcl(acl: Acl): AclEntry[] {
  return acl.map((entry) => ({ type: entry.type, who: entry.who, id: entry.id, rights: entry.rights }));
}
