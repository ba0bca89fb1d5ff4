// The object namespace and the generic handle requests (server/directory.c,
// symlink.c, object.c, handle.c). Names map one to one onto primitive names
// ("dir:\basenamedobjects\foo", case-folded unless OBJ_CASE_INSENSITIVE is
// clear), directory listing onto object_list, temporary/permanent onto
// WK_CREATE_PERMANENT and object_unlink. But every named object of every
// forwarded family lives in the same directories, so the namespace can only
// move once those families do: these are 'shared-state'.
//
// The generic handle requests are routed by the handle value they name
// (mappings/handles.ts): a proxy-minted handle goes to the primitives
// (close_handle = object_close, compare_objects = same object, ...), a
// wineserver handle is forwarded, and a request naming both is refused.
// They become 'translated' with the first family that mints handles (atoms
// mint none).

import type { ForwardedEntry } from '../translator.ts';
import { family, P } from './define.ts';

const ns = family('directories/symlinks/objects', ['object-namespace']);
const handles = family('handles', ['handle-tables']);

const routed = 'routed by handle value: proxy handles would use';

export const OBJECT_ENTRIES: ForwardedEntry[] = [
  ns('create_directory', 'shared-state', 'a directory object: a name prefix in the primitives, but \\BaseNamedObjects etc. hold the forwarded events, mutexes and sections', { uses: [P.object, P.acl] }),
  ns('open_directory', 'shared-state', 'opens a directory by name relative to a root handle', { uses: [P.read] }),
  ns('get_directory_entry', 'shared-state', "the n-th entry of a directory with its type name: object_list, if the directory's objects all lived in the primitives", { uses: [P.list, P.read] }),
  ns('create_symlink', 'shared-state', 'a symbolic link object holding its target path as data', { uses: [P.object, P.acl] }),
  ns('open_symlink', 'shared-state', 'opens a symbolic link object (without following it)', { uses: [P.read] }),
  ns('query_symlink', 'shared-state', 'reads the target of a symbolic link object', { uses: [P.read] }),
  ns('make_temporary', 'shared-state', 'makes a permanent named object temporary: object_unlink, once the object lives in the primitives', { uses: [P.read, P.unlink] }),
  ns('get_object_info', 'shared-state', `${routed} their own reference counts and name; wineserver's are forwarded`, { uses: [P.read, P.name], domains: ['object-namespace', 'handle-tables'] }),
  ns('get_object_name', 'shared-state', `${routed} getname (translated to the NT path); wineserver's are forwarded`, { uses: [P.name], domains: ['object-namespace', 'handle-tables'] }),
  ns('get_object_type', 'shared-state', `${routed} the type recorded with the handle; wineserver's are forwarded`, { uses: [P.read], domains: ['object-namespace', 'handle-tables'] }),
  ns('get_object_types', 'shared-state', "lists every object type with object and handle counts, which sum both sides' objects", { uses: [P.list] }),
  ns('allocate_locally_unique_id', 'shared-state', 'a counter under a lock; but token and logon LUIDs come from the same wineserver counter', { uses: [P.object, P.lock], domains: ['object-namespace', 'tokens'] }),

  handles('close_handle', 'shared-state', `${routed} object_close and forget the value; wineserver's are forwarded`, { uses: ['object_close'] }),
  handles('set_handle_info', 'shared-state', `${routed} the inherit/protect flags kept with the proxy handle entry`, { uses: ['object_open'] }),
  handles('dup_handle', 'shared-state', `${routed} object_open in the target process's session (any two sessions of one instance see the same names)`, { uses: ['object_open', 'object_close', P.name] }),
  handles('compare_objects', 'shared-state', `${routed} equal full names; a proxy handle and a wineserver handle never name the same object`, { uses: [P.name] }),
  handles('get_system_handles', 'shared-state', "lists the handles of all processes: wineserver's tables plus the proxy's", { uses: [P.name] }),
];
