// The catalog the proxy routes with when it translates live (`--translate`).
//
// The registry is the one family that can be translated live today, and only
// when the proxy owns the whole registry for the session (docs/translation.md,
// "Routing translated requests"): it loads the prefix's .reg files at start,
// answers every registry request, and saves the files when wineserver is
// gone. To own the whole domain, the four registry requests without a
// working translation are answered here instead of being forwarded:
//  * set_registry_notification, load_registry, unload_registry,
//    save_registry: STATUS_NOT_SUPPORTED (wineserver's copy of the registry
//    is stale while the proxy owns it, so forwarding them would act on the
//    wrong tree). Callers (RegNotifyChangeKeyValue, RegLoadKey, RegSaveKey)
//    see the failure instead of a wrong answer.
// and close_handle is answered for proxy handles (a key handle's primitive
// is closed); dispatch forwards it for wineserver's handles as before.
//
// Every other family keeps the catalog's status and dispatch's split-domain
// rule: the atom table (shared with the forwarded create_class), the object
// namespace (shared with every forwarded create_<object>) and object
// security stay forwarded live.

import { Catalog, CATALOG_ENTRIES } from '../../mappings/catalog/index.ts';
import { STATUS_INVALID_HANDLE, STATUS_NOT_SUPPORTED } from '../../mappings/ntstatus.ts';
import type { TranslatedEntry, Translator } from '../../mappings/translator.ts';

const REFUSED_REGISTRY_REQUESTS = ['set_registry_notification', 'load_registry', 'unload_registry', 'save_registry'];

function refusing(request: string): TranslatedEntry {
  return {
    request,
    family: 'registry',
    status: 'translated',
    domains: ['registry'],
    primitives: ['object_open'],
    translate: () => ({ error: STATUS_NOT_SUPPORTED, body: {} }),
  };
}

/** close_handle of a proxy handle: forget the value, close its primitive handle. */
export const closeProxyHandle: TranslatedEntry<{ handle: number }, Record<string, never>> = {
  request: 'close_handle',
  family: 'handles',
  status: 'translated',
  domains: ['handle-tables'],
  primitives: ['object_close'],
  translate(request, ctx) {
    const entry = ctx.handles.release(request.body.handle);
    if (!entry) return { error: STATUS_INVALID_HANDLE, body: {} };
    ctx.session.close(entry.primitive);
    return { error: 0, body: {} };
  },
};

/** The catalog with the registry owned by the proxy. */
export function liveCatalog(requestNames: readonly string[]): Catalog {
  const replaced = new Map<string, Translator>([
    ...REFUSED_REGISTRY_REQUESTS.map((name) => [name, refusing(name)] as const),
    ['close_handle', closeProxyHandle as Translator],
  ]);
  return new Catalog(
    requestNames,
    CATALOG_ENTRIES.map((entry) => replaced.get(entry.request) ?? entry),
  );
}
