// The registry (server/registry.c). Ten requests are translated
// (mappings/registry/, docs/registry.md): keys are named objects holding
// their class, flags, time and values, with their subkey lists and a by-name
// index beside them, all changed under one lock; key handles are minted by
// the proxy. Still forwarded: change notification (no primitive signals a
// wineserver event) and the three hive-file requests, whose .reg code exists
// (mappings/registry/reg-file.ts) but which need the file behind a handle of
// the forwarded file domain. So the registry domain stays split and `dispatch`
// translates these only in replay mode until those four move too.

import { REGISTRY_TRANSLATORS } from '../registry/translators.ts';
import type { Translator } from '../translator.ts';
import { family, P } from './define.ts';

const reg = family('registry', ['registry']);
const keyObject = [P.object, P.lock, P.acl] as const;

export const REGISTRY_ENTRIES: Translator[] = [
  ...REGISTRY_TRANSLATORS,
  reg('load_registry', 'not-yet-translated', 'loads a .reg file into a new branch (RegLoadKey); reg-file.ts parses it, but the file arrives as a handle of the forwarded file domain', { uses: [...keyObject, P.fd] }),
  reg('unload_registry', 'not-yet-translated', 'removes a branch loaded by load_registry (unlinks its key objects)', { uses: [P.list, P.unlink, P.lock] }),
  reg('save_registry', 'not-yet-translated', 'writes a branch in .reg format (reg-file.ts) to the file behind a handle of the forwarded file domain', { uses: [P.read, P.list, P.fd, P.lock] }),
  reg('set_registry_notification', 'missing-primitive', 'signals an event when a key (or its subtree) changes', { missing: ['change-notification', 'signal-wakeup'], domains: ['registry', 'sync-objects'] }),
];
