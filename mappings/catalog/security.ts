// Tokens and security descriptors (server/token.c, and the get/set_sd paths
// of every object). A token's contents are data an object could hold. What
// the primitives lack is the NT access model: wineserver checks the caller's
// token against every object's security descriptor on each open and
// duplicate, computes privileges and integrity levels, and assigns default
// DACLs from the token. The primitive ACLs (uid/gid/everyone entries with
// nine rights) cannot express SIDs, inheritance or generic mappings, so a
// translated object family would have to carry NT descriptors as data and do
// the checks in the translator, consistently with the forwarded families.
// That is what mappings/security/ does for the objects the proxy owns:
// get_security_object and set_security_object are translated for proxy
// handles (the descriptor kept with the object, checks made by the
// translators, a projection onto the primitive ACL); the token requests
// stay forwarded, so new objects take their defaults from Wine's known
// process token.

import { SECURITY_TRANSLATORS } from '../security/translators.ts';
import type { Translator } from '../translator.ts';
import { family, P } from './define.ts';

const token = family('tokens/security', ['tokens']);

export const SECURITY_ENTRIES: Translator[] = [
  token('open_token', 'token/security-context', "opens the primary token of a process or the impersonation token of a thread", { domains: ['tokens', 'processes'] }),
  token('adjust_token_privileges', 'token/security-context', 'enables or disables privileges of a token and returns the previous state', { missing: ['nt-security'], uses: [P.object, P.lock] }),
  token('get_token_privileges', 'token/security-context', 'lists the privileges of a token with their attributes', { uses: [P.read] }),
  token('check_token_privileges', 'token/security-context', 'evaluates a privilege set against a token (all or any)', { missing: ['nt-security'], uses: [P.read] }),
  token('duplicate_token', 'token/security-context', 'copies a token as primary or impersonation token at an impersonation level', { missing: ['nt-security'], uses: [P.object] }),
  token('filter_token', 'token/security-context', 'makes a restricted copy of a token (deleted privileges, deny-only and restricting SIDs)', { missing: ['nt-security'], uses: [P.object] }),
  token('access_check', 'token/security-context', 'evaluates a security descriptor against a token and a desired access with a generic mapping', { missing: ['nt-security'], uses: [P.read] }),
  token('get_token_sid', 'token/security-context', 'the user, owner, primary group or logon SID of a token', { uses: [P.read] }),
  token('get_token_groups', 'token/security-context', 'the (restricted) group SIDs of a token with their attributes', { uses: [P.read] }),
  token('get_token_default_dacl', 'token/security-context', 'the default DACL new objects created with this token receive', { uses: [P.read] }),
  token('set_token_default_dacl', 'token/security-context', 'replaces the default DACL of a token', { uses: [P.object] }),
  token('get_token_info', 'token/security-context', 'token id, modified id, session, primary flag, impersonation and elevation types, integrity level', { uses: [P.read] }),
  token('create_linked_token', 'token/security-context', 'creates the elevated or limited counterpart of an admin token', { missing: ['nt-security'], uses: [P.object] }),
  // Answered for proxy-owned objects (a request naming a wineserver handle is still forwarded): mappings/security/translators.ts.
  ...SECURITY_TRANSLATORS,
];
