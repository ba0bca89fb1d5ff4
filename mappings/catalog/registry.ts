// The registry (server/registry.c). Keys map naturally onto named objects:
// "registry:\machine\software\wine" (case-folded path) holding the key's
// values, class, timestamps and security descriptor as data, subkeys listed
// with object_list, writes serialised with a lock, volatile keys ending with
// the session and permanent keys made WK_CREATE_PERMANENT. Only change
// notification has no primitive. No translator is written yet: the hive
// files (system.reg, user.reg, userdef.reg) that wineserver loads at start
// without any request would have to be imported first, and key handles
// would be the first proxy-minted handles (close_handle, dup_handle and
// get_object_* routed by value, see docs/translation.md).

import type { ForwardedEntry } from '../translator.ts';
import { family, P } from './define.ts';

const reg = family('registry', ['registry']);
const keyObject = [P.object, P.lock, P.acl] as const;

export const REGISTRY_ENTRIES: ForwardedEntry[] = [
  reg('create_key', 'not-yet-translated', 'creates or opens a key object and its missing parents (volatile or permanent, with class and security descriptor)', { uses: [...keyObject, 'object_unlink'] }),
  reg('open_key', 'not-yet-translated', 'opens a key by path relative to a parent key handle (case-insensitive, through symlink keys)', { uses: [P.read] }),
  reg('delete_key', 'not-yet-translated', 'unlinks a key without subkeys (STATUS_ACCESS_DENIED otherwise); open handles keep it alive', { uses: [P.read, P.list, P.unlink, P.lock] }),
  reg('flush_key', 'not-yet-translated', 'writes the dirty hive back to its .reg file; the translator writes the file itself', { uses: [P.read, P.list, P.lock] }),
  reg('enum_key', 'not-yet-translated', 'the n-th subkey of a key with class and time: object_list of the key path (ordering must match wineserver sorted subkeys)', { uses: [P.list, P.read, P.name] }),
  reg('set_key_value', 'not-yet-translated', 'stores a typed value in the key object data and updates its modification time', { uses: [P.object, P.lock] }),
  reg('get_key_value', 'not-yet-translated', 'reads one typed value from the key object data', { uses: [P.read, P.lock] }),
  reg('enum_key_value', 'not-yet-translated', 'the n-th value of a key in creation order, from the key object data', { uses: [P.read, P.lock] }),
  reg('delete_key_value', 'not-yet-translated', 'removes a value from the key object data', { uses: [P.object, P.lock] }),
  reg('load_registry', 'not-yet-translated', 'loads a .reg file into a new branch; the translator parses the file the client names by handle', { uses: [...keyObject, P.fd] }),
  reg('unload_registry', 'not-yet-translated', 'removes a branch loaded by load_registry (unlinks its key objects)', { uses: [P.list, P.unlink, P.lock] }),
  reg('save_registry', 'not-yet-translated', 'writes a branch to the file behind a handle in .reg format', { uses: [P.read, P.list, P.fd, P.lock] }),
  reg('set_registry_notification', 'missing-primitive', 'signals an event when a key (or its subtree) changes', { missing: ['change-notification', 'signal-wakeup'], domains: ['registry', 'sync-objects'] }),
  reg('rename_key', 'not-yet-translated', 'renames a key (and so every descendant path): unlink and re-create the subtree under a lock', { uses: [...keyObject, P.list, P.unlink] }),
];
