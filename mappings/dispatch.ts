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
//  * live, a forwarded request naming proxy handles is given to
//    `options.bridge` (the server twins of proxy objects,
//    mappings/namespace/live.ts): when every proxy handle it names has a
//    wineserver twin, wineserver answers it about the twins; otherwise it is
//    refused as above.

import type { Catalog } from './catalog/index.ts';
import { handlesNamedBy, routeByHandles } from './handles.ts';
import { STATUS_NOT_SUPPORTED } from './ntstatus.ts';
import { isPromise, TranslationError, type Awaitable, type StateDomain, type TranslatedEntry, type TranslatedReply, type TranslationContext } from './translator.ts';
import type { DecodedRequest } from '../requests/protocol.ts';

export type Dispatch =
  | { action: 'reply'; reply: TranslatedReply }
  | { action: 'forward'; why: 'forwarded-type' | 'server-handles' | 'split-domain' }
  /** Answer with `status` and an all-zero reply. */
  | { action: 'refuse'; status: number; detail: string };

export interface DispatchOptions {
  mode: 'live' | 'replay';
  /**
   * Live only: answers a forwarded request that names proxy handles by
   * giving it to wineserver with each handle's server twin in its place;
   * null when some handle has no twin.
   */
  bridge?: (request: DecodedRequest, ctx: TranslationContext) => Promise<TranslatedReply> | null;
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

/**
 * The decision for one request: a plain value when it was reached without
 * waiting (every forward and refusal, and a translator that answered at
 * once), else a promise. It never throws: a failure (no catalog entry, a
 * translator that threw or rejected) is always a rejected promise.
 */
export function dispatch(catalog: Catalog, request: DecodedRequest, ctx: TranslationContext, options: DispatchOptions): Awaitable<Dispatch> {
  try {
    return decide(catalog, request, ctx, options);
  } catch (error) {
    return Promise.reject(error);
  }
}

function decide(catalog: Catalog, request: DecodedRequest, ctx: TranslationContext, options: DispatchOptions): Awaitable<Dispatch> {
  const entry = catalog.get(request.name);
  const info = ctx.protocol.requests[request.code];
  if (!entry || !info || info.name !== request.name) {
    throw new TranslationError('WK_NO_TRANSLATOR', `no catalog entry for request ${request.code} '${request.name}'`);
  }
  const route = routeByHandles(handlesNamedBy(info, request.body, entry.status === 'translated' ? entry.serverHandleFields : undefined));
  // An entry that reaches wineserver itself (server calls) may take more than its handles say.
  const liveRouting = options.mode === 'live' && entry.status === 'translated' ? entry.liveRouting : undefined;
  if (liveRouting === 'any') return answer(entry as TranslatedEntry, request, ctx);
  if (options.bridge && options.mode === 'live' && entry.status === 'forwarded' && (route.to === 'proxy' || route.to === 'refuse')) {
    const bridged = options.bridge(request, ctx);
    if (bridged) return bridged.then(replied);
  }
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

const replied = (reply: TranslatedReply): Dispatch => ({ action: 'reply', reply });

function answer(entry: TranslatedEntry, request: DecodedRequest, ctx: TranslationContext): Awaitable<Dispatch> {
  let reply: Awaitable<TranslatedReply>;
  try {
    reply = entry.translate(request, ctx);
  } catch (error) {
    throw translatorFailed(request, error);
  }
  if (!isPromise(reply)) return { action: 'reply', reply };
  return reply.then(replied, (error: unknown) => {
    throw translatorFailed(request, error);
  });
}

function translatorFailed(request: DecodedRequest, error: unknown): TranslationError {
  return new TranslationError('WK_TRANSLATOR_FAILED', `translator of ${request.name} failed: ${(error as Error).message}`, { cause: error });
}
