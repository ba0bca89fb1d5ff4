// Object directories and symbolic links, translated live
// (mappings/namespace/live.ts; docs/object-namespace.md, "Live"): the proxy
// owns every directory and link made or opened through it, and wineserver
// keeps a twin of each so that it can still resolve the names of the objects
// it serves. query_symlink is answered from the proxy's record; closing a
// handle closes its twin.

import { closeTwinnedNamespaceHandle, createDirectoryLive, createSymlinkLive, getDirectoryEntryLive, openDirectoryLive, openSymlinkLive } from '../../../mappings/namespace/live.ts';
import { duplicateNamespaceHandle } from '../../../mappings/namespace/proxy-handles.ts';
import { querySymlink } from '../../../mappings/namespace/translators.ts';
import type { LiveFamily } from './family.ts';

export const namespaceLive: LiveFamily = {
  name: 'object directories and symbolic links',
  entries: [createDirectoryLive, openDirectoryLive, getDirectoryEntryLive, createSymlinkLive, openSymlinkLive, querySymlink],
  onClose: {
    Directory: (ctx, _value, entry) => closeTwinnedNamespaceHandle(ctx, entry),
    SymbolicLink: (ctx, _value, entry) => closeTwinnedNamespaceHandle(ctx, entry),
  },
  duplicate: { Directory: duplicateNamespaceHandle, SymbolicLink: duplicateNamespaceHandle },
};
