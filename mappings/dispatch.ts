// What the proxy does with one decoded request: answer it from a translator,
// forward it to wineserver, or refuse it. The rules (docs/translation.md):
//  * a request naming handles of both the proxy and wineserver is refused;
//  * one naming only wineserver handles is forwarded;
//  * one naming proxy handles must be translated (wineserver cannot see them);
//  * otherwise the catalog decides; in 'live' mode a translated request whose
//    state domain is split (some of its requests still forwarded) is
//    forwarded too, so the two sides never hold diverging copies of the same
//    state. 'replay' mode translates it anyway, to compare with wineserver.
//  * live, an entry with `liveRouting` reaches wineserver itself (server
//    calls): 'any' takes every request of its type (named mutexes: the name
//    is made by wineserver, the object by the proxy), 'mixed' also takes
//    requests naming both sides' handles (a select on proxy mutexes and
//    wineserver objects).

import type { Catalog } from './catalog/index.ts';
import { handlesNamedBy, routeByHandles } from './handles.ts';
import { STATUS_NOT_SUPPORTED } from './ntstatus.ts';
import { TranslationError, type StateDomain, type TranslatedEntry, type TranslatedReply, type TranslationContext } from './translator.ts';
import type { DecodedRequest } from '../requests/protocol.ts';

export type Dispatch =
  | { action: 'reply'; reply: TranslatedReply }
  | { action: 'forward'; why: 'forwarded-type' | 'server-handles' | 'split-domain' }
  /** Answer with `status` and an all-zero reply. */
  | { action: 'refuse'; status: number; detail: string };

export interface DispatchOptions {
  mode: 'live' | 'replay';
}

/** Domains with both translated and forwarded request types in this catalog. */
export function splitDomains(catalog: Catalog): Set<StateDomain> {
  const translated = new Set<StateDomain>();
  const forwarded = new Set<StateDomain>();
  for (const entry of catalog.entries()) for (const d of entry.domains) (entry.status === 'translated' ? translated : forwarded).add(d);
  return new Set([...translated].filter((d) => forwarded.has(d)));
}

// A catalog does not change after construction, and dispatch asks on every
// request naming no proxy handle (working it out costs ~10 µs).
const splitByCatalog = new WeakMap<Catalog, ReadonlySet<StateDomain>>();
function splitDomainsOf(catalog: Catalog): ReadonlySet<StateDomain> {
  let split = splitByCatalog.get(catalog);
  if (!split) splitByCatalog.set(catalog, (split = splitDomains(catalog)));
  return split;
}

export async function dispatch(catalog: Catalog, request: DecodedRequest, ctx: TranslationContext, options: DispatchOptions): Promise<Dispatch> {
  const entry = catalog.get(request.name);
  const info = ctx.protocol.requests[request.code];
  if (!entry || !info || info.name !== request.name) {
    throw new TranslationError('WK_NO_TRANSLATOR', `no catalog entry for request ${request.code} '${request.name}'`);
  }
  const route = routeByHandles(handlesNamedBy(info, request.body, entry.status === 'translated' ? entry.serverHandleFields : undefined));
  // An entry that reaches wineserver itself (server calls) may take more than its handles say.
  const liveRouting = options.mode === 'live' && entry.status === 'translated' ? entry.liveRouting : undefined;
  if (liveRouting === 'any') return answer(entry as TranslatedEntry, request, ctx);
  if (route.to === 'refuse' && liveRouting !== 'mixed') return { action: 'refuse', status: route.status, detail: route.detail };
  if (route.to === 'server') return { action: 'forward', why: 'server-handles' };
  if (entry.status === 'forwarded') {
    if (route.to === 'proxy') {
      return { action: 'refuse', status: STATUS_NOT_SUPPORTED, detail: `${request.name} names a proxy handle but has no translator` };
    }
    return { action: 'forward', why: 'forwarded-type' };
  }
  if (options.mode === 'live' && route.to === 'either') {
    const split = splitDomainsOf(catalog);
    if (entry.domains.some((d) => split.has(d))) return { action: 'forward', why: 'split-domain' };
  }
  return answer(entry, request, ctx);
}

async function answer(entry: TranslatedEntry, request: DecodedRequest, ctx: TranslationContext): Promise<Dispatch> {
  try {
    return { action: 'reply', reply: await entry.translate(request, ctx) };
  } catch (error) {
    throw new TranslationError('WK_TRANSLATOR_FAILED', `translator of ${request.name} failed: ${(error as Error).message}`, { cause: error });
  }
}
