// The registry, owned by the proxy for the whole session (docs/translation.md,
// "Routing translated requests"; docs/registry.md): the prefix's .reg files
// are loaded at start and saved when wineserver is gone, and every registry
// request is answered here — wineserver's copy is stale while the proxy owns
// it, so no registry request may reach it. The ten tree requests are the base
// catalog's translators; the hive-file requests (save/load/unload_registry)
// and change notification need the caller's token, file and event handles,
// which they reach through server calls (live only). Every request that can
// change the tree is wrapped so that its changes fire the notification
// watches they match.

import { HIVE_TRANSLATORS } from '../../../mappings/registry/hive-requests.ts';
import { RegistryNotifications } from '../../../mappings/registry/notifications.ts';
import { duplicateKeyHandle, KEY_TYPE, REGISTRY_TRANSLATORS } from '../../../mappings/registry/translators.ts';
import type { Translator } from '../../../mappings/translator.ts';
import type { LiveFamily } from './family.ts';

/** Requests whose translators may touch keys (touch_key in wineserver). */
const TREE_CHANGING = new Set(['create_key', 'delete_key', 'set_key_value', 'delete_key_value', 'rename_key', 'load_registry', 'unload_registry']);

export function registryLive(): LiveFamily {
  const notifications = new RegistryNotifications();
  const entries: Translator[] = [...REGISTRY_TRANSLATORS, ...HIVE_TRANSLATORS].map((entry) =>
    TREE_CHANGING.has(entry.request) ? notifications.wrap(entry as Translator) : (entry as Translator),
  );
  entries.push(notifications.entry as Translator);
  return {
    name: 'registry',
    entries,
    onClose: { [KEY_TYPE]: (ctx, value, entry) => notifications.keyHandleClosed(ctx, value, entry) },
    duplicate: { [KEY_TYPE]: duplicateKeyHandle },
    onProcessEnd: (pid) => notifications.processEnded(pid),
  };
}
