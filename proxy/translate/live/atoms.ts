// The global atom table, owned by the proxy for the session (docs/translation.md,
// "Live atoms: the atom bridge"): add_atom, delete_atom, find_atom and
// get_atom_information are answered here, and every window-class and
// window-property request that carries atoms is bridged: still served by
// wineserver, through a server call, with atom numbers rewritten both ways
// (mappings/atom-bridge.ts). The two requests whose atom use never leaves
// wineserver (destroy_window, get_desktop_window) stay forwarded, and no longer
// count as sharing the proxy's table, so the domain is not split live.

import { AtomBridge, ATOM_SERVER_INTERNAL_REQUESTS } from '../../../mappings/atom-bridge.ts';
import { CATALOG_ENTRIES } from '../../../mappings/catalog/index.ts';
import type { Translator } from '../../../mappings/translator.ts';
import type { LiveFamily } from './family.ts';

const SERVER_INTERNAL = new Set(Object.keys(ATOM_SERVER_INTERNAL_REQUESTS));

export function atomsLive(): LiveFamily {
  const bridge = new AtomBridge();
  const serverInternal: Translator[] = CATALOG_ENTRIES.filter((entry) => SERVER_INTERNAL.has(entry.request)).map((entry) => ({
    ...entry,
    domains: entry.domains.filter((domain) => domain !== 'global-atom-table'),
  }));
  return { name: 'atoms', entries: [...bridge.entries(), ...serverInternal] };
}
