// File mappings and views (server/mapping.c). A section is a natural
// primitive object: the backing file attached as a native fd, size, flags
// and the parsed PE image information as data, the client mmaps the fd it
// gets back. Anonymous sections need a temporary file the translator creates
// itself. What couples them to forwarded state is the fd objects (sharing
// checks, truncation refused while mapped) and the per-process view list
// that map_view and unmap_view maintain.

import type { ForwardedEntry } from '../translator.ts';
import { family, P } from './define.ts';

const mem = family('memory/mappings', ['memory-views']);

export const MEMORY_ENTRIES: ForwardedEntry[] = [
  mem('create_mapping', 'shared-state', "a section object with the file's fd attached and size, protection and PE image info as data; the file handle it names is a forwarded fd object", { uses: [P.object, P.fd, P.acl], domains: ['memory-views', 'fd-objects', 'object-namespace'] }),
  mem('open_mapping', 'shared-state', 'opens a section by name in the object namespace', { uses: [P.read], domains: ['memory-views', 'object-namespace'] }),
  mem('get_mapping_info', 'shared-state', "size, flags, image info and the shared-file handle of a section; its fd goes back with get_native_file", { uses: [P.read, P.fd] }),
  mem('map_view', 'shared-state', "records a view the client mapped (base, size, offset, image info) in the process's view list", { uses: [P.object, P.lock] }),
  mem('unmap_view', 'shared-state', "removes a view from the process's view list", { uses: [P.object, P.lock] }),
  mem('get_mapping_committed_range', 'shared-state', 'the committed page range at an offset of a pagefile-backed section, kept as data', { uses: [P.read, P.lock] }),
  mem('add_mapping_committed_range', 'shared-state', 'marks pages of a pagefile-backed section committed', { uses: [P.object, P.lock] }),
  mem('is_same_mapping', 'shared-state', 'whether two views of the caller map the same file (compares the files behind the views)', { uses: [P.read] }),
  mem('get_mapping_filename', 'shared-state', 'the NT file name of the file mapped at an address of a process', { uses: [P.read, P.name] }),
];
