// NT security descriptors as wineserver keeps them, worked on as bytes (the
// wire layout of requests/kinds/security.ts: a 20-byte header of control
// and four lengths, then owner sid, group sid, SACL, DACL back to back).
//
// What is reproduced (facts from reading Wine 8.0's server/token.c,
// object.c and handle.c; the code is our own):
//  * validation of a descriptor a client sends (sd_is_valid / acl_is_valid):
//    lengths that fit, sids of the size they claim, only the five ACE types
//    wineserver knows;
//  * merging a descriptor into an object's (set_sd_defaults_from_token):
//    each part the caller names and supplies replaces the object's; a part
//    not supplied keeps the object's, else comes from the token (owner,
//    primary group, default DACL); the SACL never comes from the token;
//  * the parts a get_security_object caller asked for, in the same layout;
//  * the access check wineserver makes when a handle is allocated
//    (check_object_access / token_access_check): an object without a
//    descriptor or with a NULL DACL grants everything asked; the owner
//    always gets STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE; ACEs are read in
//    order, a deny of a wanted right ends the check;
//  * Wine's process token (token_create_admin): user S-1-5-21-0-0-0-1000,
//    the groups every Wine process has, owner and primary group Domain
//    Users (the first owner-capable group), default DACL "SYSTEM and Domain
//    Users: GENERIC_ALL".

export const OWNER_SECURITY_INFORMATION = 0x1;
export const GROUP_SECURITY_INFORMATION = 0x2;
export const DACL_SECURITY_INFORMATION = 0x4;
export const SACL_SECURITY_INFORMATION = 0x8;
export const LABEL_SECURITY_INFORMATION = 0x10;

export const SE_DACL_PRESENT = 0x0004;
export const SE_SACL_PRESENT = 0x0010;
export const SE_SELF_RELATIVE = 0x8000;

export const ACCESS_ALLOWED_ACE_TYPE = 0x0;
export const ACCESS_DENIED_ACE_TYPE = 0x1;
export const SYSTEM_AUDIT_ACE_TYPE = 0x2;
export const SYSTEM_ALARM_ACE_TYPE = 0x3;
export const SYSTEM_MANDATORY_LABEL_ACE_TYPE = 0x11;
export const INHERIT_ONLY_ACE = 0x08;

export const DELETE = 0x00010000;
export const READ_CONTROL = 0x00020000;
export const WRITE_DAC = 0x00040000;
export const WRITE_OWNER = 0x00080000;
export const SYNCHRONIZE = 0x00100000;
export const STANDARD_RIGHTS_REQUIRED = 0x000f0000;
export const ACCESS_SYSTEM_SECURITY = 0x01000000;
export const MAXIMUM_ALLOWED = 0x02000000;
export const GENERIC_ALL = 0x10000000;
export const GENERIC_EXECUTE = 0x20000000;
export const GENERIC_WRITE = 0x40000000;
export const GENERIC_READ = 0x80000000;
const GENERIC_ANY = (GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL) >>> 0;

const SD_HEADER = 20;
const SID_HEADER = 8;
const ACL_HEADER = 8;
const ACE_HEADER = 8;
const MAX_ACL_LEN = 65535;
/** A sid with 255 sub-authorities: owner and group must be shorter. */
const MAX_SID_LEN = SID_HEADER + 4 * 255;

/** GENERIC_* → specific rights of one object type. */
export interface GenericMapping {
  read: number;
  write: number;
  exec: number;
  all: number;
}

/** The type's mapping applied to an access mask, generic bits removed (map_access). */
export function mapAccess(access: number, mapping: GenericMapping): number {
  let out = access >>> 0;
  if (out & GENERIC_READ) out |= mapping.read;
  if (out & GENERIC_WRITE) out |= mapping.write;
  if (out & GENERIC_EXECUTE) out |= mapping.exec;
  if (out & GENERIC_ALL) out |= mapping.all;
  return (out & ~GENERIC_ANY) >>> 0;
}

// ---------------------------------------------------------------------------
// Sids

/** Bytes of a sid from "S-1-5-21-0-0-0-513"-style parts. */
export function sidBytes(authority: number, ...subAuthorities: number[]): Buffer {
  const out = Buffer.alloc(SID_HEADER + 4 * subAuthorities.length);
  out[0] = 1;
  out[1] = subAuthorities.length;
  out.writeUIntBE(authority, 2, 6);
  subAuthorities.forEach((sub, i) => out.writeUInt32LE(sub >>> 0, SID_HEADER + 4 * i));
  return out;
}

const sidLengthAt = (buf: Buffer, offset: number): number => SID_HEADER + 4 * buf[offset + 1];

/** sid_valid_size: `size` bytes at `offset` hold the sid's header and its sub-authorities. */
function sidFits(buf: Buffer, offset: number, size: number): boolean {
  if (size < SID_HEADER || offset + SID_HEADER > buf.length) return false;
  return size >= sidLengthAt(buf, offset);
}

export const WORLD_SID = sidBytes(1, 0);
export const LOCAL_SYSTEM_SID = sidBytes(5, 18);
export const LOCAL_USER_SID = sidBytes(5, 21, 0, 0, 0, 1000);
export const DOMAIN_USERS_SID = sidBytes(5, 21, 0, 0, 0, 513);
export const BUILTIN_ADMINS_SID = sidBytes(5, 32, 544);
export const BUILTIN_USERS_SID = sidBytes(5, 32, 545);

// ---------------------------------------------------------------------------
// ACLs

export interface AceSpec {
  type: number;
  flags?: number;
  mask: number;
  sid: Buffer;
}

/** An ACL with these ACEs (revision 2, size exactly what they need). */
export function buildAcl(aces: readonly AceSpec[]): Buffer {
  const size = ACL_HEADER + aces.reduce((sum, ace) => sum + ACE_HEADER + ace.sid.length, 0);
  const out = Buffer.alloc(size);
  out[0] = 2;
  out.writeUInt16LE(size, 2);
  out.writeUInt16LE(aces.length, 4);
  let pos = ACL_HEADER;
  for (const ace of aces) {
    out[pos] = ace.type;
    out[pos + 1] = ace.flags ?? 0;
    out.writeUInt16LE(ACE_HEADER + ace.sid.length, pos + 2);
    out.writeUInt32LE(ace.mask >>> 0, pos + 4);
    ace.sid.copy(out, pos + ACE_HEADER);
    pos += ACE_HEADER + ace.sid.length;
  }
  return out;
}

/** acl_is_valid over `size` bytes at `offset`. */
function aclIsValid(buf: Buffer, offset: number, size: number): boolean {
  if (size < ACL_HEADER) return false;
  let remaining = Math.min(size, MAX_ACL_LEN) - ACL_HEADER;
  const count = buf.readUInt16LE(offset + 4);
  let ace = offset + ACL_HEADER;
  for (let i = 0; i < count; i++) {
    if (remaining < ACE_HEADER || ace + ACE_HEADER > buf.length) return false;
    const aceSize = buf.readUInt16LE(ace + 2);
    if (remaining < aceSize) return false;
    remaining -= aceSize;
    const type = buf[ace];
    if (![ACCESS_ALLOWED_ACE_TYPE, ACCESS_DENIED_ACE_TYPE, SYSTEM_AUDIT_ACE_TYPE, SYSTEM_ALARM_ACE_TYPE, SYSTEM_MANDATORY_LABEL_ACE_TYPE].includes(type)) {
      return false;
    }
    // The sid's size is the ACE's minus its header (an unsigned wrap in C for a short ACE, which then fails).
    if (aceSize < ACE_HEADER || !sidFits(buf, ace + ACE_HEADER, aceSize - ACE_HEADER)) return false;
    ace += aceSize;
  }
  return true;
}

export interface Ace {
  type: number;
  flags: number;
  mask: number;
  sid: Buffer;
}

/** The ACEs of a valid ACL. */
export function aclEntries(acl: Buffer): Ace[] {
  const out: Ace[] = [];
  if (acl.length < ACL_HEADER) return out;
  const count = acl.readUInt16LE(4);
  let pos = ACL_HEADER;
  for (let i = 0; i < count && pos + ACE_HEADER <= acl.length; i++) {
    const size = acl.readUInt16LE(pos + 2);
    out.push({ type: acl[pos], flags: acl[pos + 1], mask: acl.readUInt32LE(pos + 4), sid: acl.subarray(pos + ACE_HEADER, pos + Math.max(size, ACE_HEADER)) });
    pos += Math.max(size, ACE_HEADER);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Descriptors

/** A descriptor split into its parts (each part's bytes as stored; a length of 0 is an absent part). */
export interface SdParts {
  control: number;
  owner: Buffer;
  group: Buffer;
  sacl: Buffer;
  dacl: Buffer;
}

/** sd_is_valid: the header, the lengths and each present part are consistent. */
export function sdIsValid(sd: Buffer): boolean {
  if (sd.length < SD_HEADER) return false;
  const [ownerLen, groupLen, saclLen, daclLen] = [4, 8, 12, 16].map((o) => sd.readUInt32LE(o));
  let offset = SD_HEADER;
  if (ownerLen >= MAX_SID_LEN || offset + ownerLen > sd.length) return false;
  if (ownerLen && !sidFits(sd, offset, ownerLen)) return false;
  offset += ownerLen;
  if (groupLen >= MAX_SID_LEN || offset + groupLen > sd.length) return false;
  if (groupLen && !sidFits(sd, offset, groupLen)) return false;
  offset += groupLen;
  if (saclLen >= MAX_ACL_LEN || offset + saclLen > sd.length) return false;
  // Any ACL bytes present are checked, whether or not the control word says the ACL is present.
  if (saclLen && !aclIsValid(sd, offset, saclLen)) return false;
  offset += saclLen;
  if (daclLen >= MAX_ACL_LEN || offset + daclLen > sd.length) return false;
  if (daclLen && !aclIsValid(sd, offset, daclLen)) return false;
  return true;
}

/** Splits a descriptor that passed sdIsValid. */
export function sdParts(sd: Buffer): SdParts {
  const [ownerLen, groupLen, saclLen, daclLen] = [4, 8, 12, 16].map((o) => sd.readUInt32LE(o));
  let at = SD_HEADER;
  const take = (length: number): Buffer => {
    const part = Buffer.from(sd.subarray(at, at + length));
    at += length;
    return part;
  };
  return { control: sd.readUInt32LE(0), owner: take(ownerLen), group: take(groupLen), sacl: take(saclLen), dacl: take(daclLen) };
}

export function sdBytes(parts: SdParts): Buffer {
  const header = Buffer.alloc(SD_HEADER);
  header.writeUInt32LE(parts.control >>> 0, 0);
  header.writeUInt32LE(parts.owner.length, 4);
  header.writeUInt32LE(parts.group.length, 8);
  header.writeUInt32LE(parts.sacl.length, 12);
  header.writeUInt32LE(parts.dacl.length, 16);
  return Buffer.concat([header, parts.owner, parts.group, parts.sacl, parts.dacl]);
}

/** The DACL of a descriptor: 'absent' (not present), 'null' (present, no ACL: no protection), or the ACL. */
export function sdDacl(parts: SdParts): 'absent' | 'null' | Buffer {
  if (!(parts.control & SE_DACL_PRESENT)) return 'absent';
  return parts.dacl.length ? parts.dacl : 'null';
}

// ---------------------------------------------------------------------------
// The token

export interface TokenGroup {
  sid: Buffer;
  /** SE_GROUP_* attributes */
  attrs: number;
}

export interface NtToken {
  user: Buffer;
  groups: readonly TokenGroup[];
  owner: Buffer;
  primaryGroup: Buffer;
  defaultDacl: Buffer;
  /** Privilege names the token holds enabled (only SeSecurityPrivilege matters here). */
  enabledPrivileges: ReadonlySet<string>;
}

const SE_GROUP_MANDATORY = 0x1;
const SE_GROUP_ENABLED_BY_DEFAULT = 0x2;
const SE_GROUP_ENABLED = 0x4;
const SE_GROUP_OWNER = 0x8;
const SE_GROUP_USE_FOR_DENY_ONLY = 0x10;
const SE_GROUP_LOGON_ID = 0xc0000000;
const ON = SE_GROUP_ENABLED | SE_GROUP_ENABLED_BY_DEFAULT | SE_GROUP_MANDATORY;

/**
 * The primary token wineserver gives every process it starts from Unix
 * (token_create_admin with full elevation); child processes get a copy.
 */
export const WINE_PROCESS_TOKEN: NtToken = {
  user: LOCAL_USER_SID,
  groups: [
    { sid: WORLD_SID, attrs: ON },
    { sid: sidBytes(2, 0), attrs: ON },
    { sid: sidBytes(5, 4), attrs: ON },
    { sid: sidBytes(5, 11), attrs: ON },
    { sid: DOMAIN_USERS_SID, attrs: ON | SE_GROUP_OWNER },
    { sid: BUILTIN_ADMINS_SID, attrs: ON | SE_GROUP_OWNER },
    { sid: BUILTIN_USERS_SID, attrs: ON },
    { sid: sidBytes(5, 5, 0, 0), attrs: (ON | SE_GROUP_LOGON_ID) >>> 0 },
  ],
  owner: DOMAIN_USERS_SID,
  primaryGroup: DOMAIN_USERS_SID,
  defaultDacl: buildAcl([
    { type: ACCESS_ALLOWED_ACE_TYPE, mask: GENERIC_ALL, sid: LOCAL_SYSTEM_SID },
    { type: ACCESS_ALLOWED_ACE_TYPE, mask: GENERIC_ALL, sid: DOMAIN_USERS_SID },
  ]),
  // SeSecurityPrivilege is held but not enabled in Wine's admin token.
  enabledPrivileges: new Set(['SeChangeNotifyPrivilege', 'SeLoadDriverPrivilege', 'SeImpersonatePrivilege', 'SeCreateGlobalPrivilege']),
};

/** token_sid_present: the user, or an enabled group (deny-only groups count only for deny ACEs). */
export function tokenHasSid(token: NtToken, sid: Buffer, forDeny: boolean): boolean {
  const same = (a: Buffer) => a.length >= SID_HEADER && sid.length >= SID_HEADER && a[1] === sid[1] && a.subarray(0, sidLengthAt(a, 0)).equals(sid.subarray(0, sidLengthAt(sid, 0)));
  if (same(token.user)) return true;
  return token.groups.some((g) => g.attrs & SE_GROUP_ENABLED && (forDeny || !(g.attrs & SE_GROUP_USE_FOR_DENY_ONLY)) && same(g.sid));
}

// ---------------------------------------------------------------------------
// Setting and reading

/**
 * The object's new descriptor after a set with `info` (set_sd_defaults_from_token).
 * `current` is the object's descriptor or null; `token` null means no defaults.
 */
export function mergeSecurityDescriptor(current: SdParts | null, sd: SdParts, info: number, token: NtToken | null): SdParts {
  let control = sd.control & ~SE_SELF_RELATIVE;
  const owner =
    info & OWNER_SECURITY_INFORMATION && sd.owner.length ? sd.owner : current?.owner.length ? current.owner : token ? token.owner : Buffer.alloc(0);
  const group =
    info & GROUP_SECURITY_INFORMATION && sd.group.length ? sd.group : current?.group.length ? current.group : token ? token.primaryGroup : Buffer.alloc(0);

  let sacl: Buffer;
  const saclPresent = (sd.control & SE_SACL_PRESENT) !== 0;
  if (info & SACL_SECURITY_INFORMATION && saclPresent) {
    control |= SE_SACL_PRESENT;
    sacl = sd.sacl;
  } else if (info & LABEL_SECURITY_INFORMATION && saclPresent) {
    control |= SE_SACL_PRESENT;
    sacl = replaceLabels(current && current.control & SE_SACL_PRESENT ? current.sacl : null, sd.sacl);
  } else if (current && current.control & SE_SACL_PRESENT) {
    control |= SE_SACL_PRESENT;
    sacl = current.sacl;
  } else {
    // The control bit of the caller's descriptor is kept as sent (wineserver copies it), only the bytes go.
    sacl = Buffer.alloc(0);
  }

  let dacl: Buffer;
  if (info & DACL_SECURITY_INFORMATION && sd.control & SE_DACL_PRESENT) {
    control |= SE_DACL_PRESENT;
    dacl = sd.dacl;
  } else if (current && current.control & SE_DACL_PRESENT) {
    control |= SE_DACL_PRESENT;
    dacl = current.dacl;
  } else if (token) {
    control |= SE_DACL_PRESENT;
    dacl = token.defaultDacl;
  } else {
    dacl = Buffer.alloc(0);
  }
  return { control: control >>> 0, owner, group, sacl, dacl };
}

/** replace_security_labels: the old SACL's non-label ACEs followed by the new SACL's label ACEs. */
function replaceLabels(oldSacl: Buffer | null, newSacl: Buffer): Buffer {
  const keep = oldSacl ? aclEntries(oldSacl).filter((a) => a.type !== SYSTEM_MANDATORY_LABEL_ACE_TYPE) : [];
  const labels = newSacl.length ? aclEntries(newSacl).filter((a) => a.type === SYSTEM_MANDATORY_LABEL_ACE_TYPE) : [];
  const revision = newSacl.length ? newSacl[0] : 2;
  const acl = buildAcl([...keep, ...labels]);
  acl[0] = revision;
  return acl;
}

/** What get_security_object returns for `info` (the parts asked for and present). */
export function selectSecurityParts(sd: SdParts, info: number): SdParts {
  const none: Buffer = Buffer.alloc(0);
  let sacl: Buffer = none;
  if (info & SACL_SECURITY_INFORMATION && sd.control & SE_SACL_PRESENT) sacl = sd.sacl;
  else if (info & LABEL_SECURITY_INFORMATION && sd.control & SE_SACL_PRESENT && sd.sacl.length) {
    const labels = aclEntries(sd.sacl).filter((a) => a.type === SYSTEM_MANDATORY_LABEL_ACE_TYPE);
    sacl = buildAcl(labels);
    sacl[0] = sd.sacl[0];
  }
  return {
    control: sd.control & ~SE_SELF_RELATIVE,
    owner: info & OWNER_SECURITY_INFORMATION ? sd.owner : none,
    group: info & GROUP_SECURITY_INFORMATION ? sd.group : none,
    sacl,
    dacl: info & DACL_SECURITY_INFORMATION && sd.control & SE_DACL_PRESENT ? sd.dacl : none,
  };
}

// ---------------------------------------------------------------------------
// Access checks

/** The access a handle request is granted: `granted` (0 = denied) or an error status of the check itself. */
export type AccessCheck = { ok: true; granted: number } | { ok: false; status: 'denied' | 'no-owner' | 'generic-not-mapped' | 'privilege-not-held' };

/**
 * token_access_check on a descriptor (the object has one). `desired` has its
 * generic bits mapped already, except that MAXIMUM_ALLOWED may be set.
 */
export function accessCheck(token: NtToken, sd: SdParts, desired: number, mapping: GenericMapping): AccessCheck {
  desired >>>= 0;
  if (desired & GENERIC_ANY) return { ok: false, status: 'generic-not-mapped' };
  if (!sd.owner.length || !sd.group.length) return { ok: false, status: 'no-owner' };
  const dacl = sdDacl(sd);
  if (dacl === 'absent' || dacl === 'null') return { ok: true, granted: desired & MAXIMUM_ALLOWED ? mapping.all : desired };
  let current = 0;
  let denied = 0;
  if (desired & ACCESS_SYSTEM_SECURITY) {
    if (!token.enabledPrivileges.has('SeSecurityPrivilege')) return { ok: false, status: 'privilege-not-held' };
    current |= ACCESS_SYSTEM_SECURITY;
    if (desired === current) return { ok: true, granted: current };
  }
  if (tokenHasSid(token, sd.owner, false)) {
    current |= STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE;
    if (desired === current) return { ok: true, granted: current };
  }
  const maximum = (desired & MAXIMUM_ALLOWED) !== 0;
  for (const ace of aclEntries(dacl)) {
    if (ace.flags & INHERIT_ONLY_ACE) continue;
    if (ace.type === ACCESS_DENIED_ACE_TYPE && tokenHasSid(token, ace.sid, true)) {
      const access = mapAccess(ace.mask, mapping);
      if (maximum) denied |= access;
      else {
        denied |= access & ~current;
        if (desired & access) break;
      }
    } else if (ace.type === ACCESS_ALLOWED_ACE_TYPE && tokenHasSid(token, ace.sid, false)) {
      const access = mapAccess(ace.mask, mapping);
      current |= maximum ? access : access & ~denied;
    }
    // (wineserver's early exit compares with a granted mask that is still 0 here, so it never fires)
  }
  let granted: number;
  if (maximum) granted = current & ~denied;
  else granted = (current & desired) === desired ? current & desired : 0;
  granted >>>= 0;
  return granted ? { ok: true, granted } : { ok: false, status: 'denied' };
}
