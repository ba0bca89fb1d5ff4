// The registry (server/registry.c): all fourteen requests are translated
// (mappings/registry/, docs/registry.md). Keys are named objects holding
// their class, flags, time and values, with their subkey lists and a by-name
// index beside them, all changed under one lock; key handles are minted by
// the proxy. The hive-file requests (save/load/unload_registry) and change
// notification also need what only wineserver has — the caller's token (a
// privilege check), the descriptor behind a file handle, the caller's event —
// and reach it through server calls made as the calling thread
// (docs/translation.md, "Server calls"), so they are translated live only
// (`needsServer`); replay skips them.

import { HIVE_TRANSLATORS } from '../registry/hive-requests.ts';
import { RegistryNotifications } from '../registry/notifications.ts';
import { REGISTRY_TRANSLATORS } from '../registry/translators.ts';
import type { Translator } from '../translator.ts';

export const REGISTRY_ENTRIES: Translator[] = [
  ...REGISTRY_TRANSLATORS,
  ...HIVE_TRANSLATORS,
  // The live catalog makes one watch table per proxy (proxy/translate/live/registry.ts); this one only describes the entry.
  new RegistryNotifications().entry as Translator,
];
