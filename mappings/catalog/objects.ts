// The object namespace and the generic handle requests (server/directory.c,
// symlink.c, object.c, handle.c). Directories and symbolic links are
// translated (mappings/namespace/, docs/object-namespace.md): each entry is a
// primitive object named "ntd.<directory id>:<exact name>", a directory's
// listing is object_list of its namespace, permanence is WK_CREATE_PERMANENT.
// But every named object of every forwarded family (events, mutexes,
// sections, ...) lives in the same directories, so the object-namespace
// domain stays split until those families move: the router answers these
// requests live only for proxy handles, and verifies them in replay.
// make_temporary and the object-info requests below remain 'shared-state'.
//
// The generic handle requests are routed by the handle value they name
// (mappings/handles.ts): a proxy-minted handle goes to the primitives
// (close_handle = object_close, compare_objects = same object, ...), a
// wineserver handle is forwarded, and a request naming both is refused.
// They become 'translated' with the first family that mints handles (atoms
// mint none).

import { NAMESPACE_TRANSLATORS } from '../namespace/translators.ts';
import type { Translator } from '../translator.ts';
import { family, P } from './define.ts';

const ns = family('directories/symlinks/objects', ['object-namespace']);
const handles = family('handles', ['handle-tables']);

const routed = 'routed by handle value: proxy handles would use';

export const OBJECT_ENTRIES: Translator[] = [
  ...NAMESPACE_TRANSLATORS,
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
