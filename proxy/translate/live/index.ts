// The catalog the proxy routes with when it translates live (`--translate`):
// the base catalog (mappings/catalog/) with the entries of every family that
// is translated live replaced by that family's live entries (one module per
// family in this folder, LiveFamily), and close_handle answered for proxy
// handles (the family of the handle's object type is told; dispatch forwards
// close_handle of wineserver's handles as before).
//
// A family is translated live only when the proxy can own its whole state
// domain for the session (docs/translation.md, "State domains"); every other
// family keeps the catalog's status and dispatch's split-domain rule.

import { Catalog, CATALOG_ENTRIES } from '../../../mappings/catalog/index.ts';
import type { LiveStatus } from '../../../mappings/coverage.ts';
import { splitDomains } from '../../../mappings/dispatch.ts';
import { STATUS_HANDLE_NOT_CLOSABLE, STATUS_INVALID_HANDLE } from '../../../mappings/ntstatus.ts';
import { ENTRY_PROTECT_FROM_CLOSE } from '../../../mappings/handles.ts';
import { dupHandleLive, getObjectInfoLive, getObjectNameLive, getObjectTypeLive, noDescriptorEntries, setHandleInfoLive } from './handles.ts';
import { isPromise, type Awaitable, type TranslatedEntry, type TranslatedReply, type Translator } from '../../../mappings/translator.ts';
import { instantiateFamily, type LiveFamily, type LiveFamilySource } from './family.ts';
import { atomsLive } from './atoms.ts';
import { namespaceLive } from './namespace.ts';
import { registryLive } from './registry.ts';
import { syncLive } from './sync.ts';

export type { LiveFamily, LiveFamilySource } from './family.ts';
export { closeProxyHandleQuietly, duplicateProxyHandle } from './handles.ts';
/** Forwarded requests naming proxy objects that have server twins: answered by wineserver about the twins. */
export { bridgeToTwins } from '../../../mappings/namespace/live.ts';

/** The families translated live (or their factories), in the order their entries are applied. */
export const LIVE_FAMILIES: readonly LiveFamilySource[] = [registryLive, syncLive, atomsLive, namespaceLive];

/** Fresh instances of every live family, for one router. */
export function liveFamilies(sources: readonly LiveFamilySource[] = LIVE_FAMILIES): LiveFamily[] {
  return sources.map(instantiateFamily);
}

/** close_handle of a proxy handle: forget the value, tell the object's family, close its primitive handle. */
export function closeProxyHandleEntry(families: readonly LiveFamily[]): TranslatedEntry<{ handle: number }> {
  const hooks = new Map<string, NonNullable<LiveFamily['onClose']>[string]>();
  for (const family of families) for (const [type, hook] of Object.entries(family.onClose ?? {})) hooks.set(type, hook);
  return {
    request: 'close_handle',
    family: 'handles',
    status: 'translated',
    domains: ['handle-tables'],
    primitives: ['object_close'],
    // Plain when the family's hook is (most closes): the reply is written in
    // the request's own call stack; a hook that waits keeps the primitive
    // open until it has answered.
    translate(request, ctx): Awaitable<TranslatedReply> {
      const held = ctx.handles.get(request.body.handle);
      if (held && held.flags & ENTRY_PROTECT_FROM_CLOSE) return { error: STATUS_HANDLE_NOT_CLOSABLE, body: {} };
      const entry = ctx.handles.release(request.body.handle);
      if (!entry) return { error: STATUS_INVALID_HANDLE, body: {} };
      const hook = hooks.get(entry.type);
      let answer: ReturnType<NonNullable<typeof hook>>;
      try {
        answer = hook ? hook(ctx, request.body.handle, entry) : undefined;
      } catch (error) {
        ctx.session.close(entry.primitive);
        throw error;
      }
      if (!isPromise(answer)) {
        ctx.session.close(entry.primitive);
        return answer ?? { error: 0, body: {} };
      }
      return answer.then((settled) => settled ?? { error: 0, body: {} }).finally(() => ctx.session.close(entry.primitive));
    },
  };
}

/**
 * The generic handle requests answered for proxy handles of any family
 * (live/handles.ts), in place of the families' or the catalog's entries.
 * `sameProcessDup`: the family entry that keeps same-process dup_handle of
 * mutexes, directories and links; the rest of dup_handle is generic.
 */
function genericHandleEntries(families: readonly LiveFamily[], sameProcessDup: Translator | undefined): Translator[] {
  const entries = [closeProxyHandleEntry(families), setHandleInfoLive, getObjectInfoLive, getObjectNameLive, getObjectTypeLive, ...noDescriptorEntries] as Translator[];
  if (sameProcessDup?.status === 'translated') entries.push(dupHandleLive(families, sameProcessDup as never) as Translator);
  return entries;
}

/** The catalog with every live family's entries in place. */
export function liveCatalog(requestNames: readonly string[], families: readonly LiveFamily[] = liveFamilies()): Catalog {
  const replaced = new Map<string, Translator>();
  for (const family of families) for (const entry of family.entries) replaced.set(entry.request, entry);
  for (const entry of genericHandleEntries(families, replaced.get('dup_handle'))) replaced.set(entry.request, entry);
  return new Catalog(
    requestNames,
    CATALOG_ENTRIES.map((entry) => replaced.get(entry.request) ?? entry),
  );
}

/**
 * For the coverage report: what live translation does with each request
 * (mappings/coverage.ts LiveStatus). A request of a live family is answered
 * by the proxy ('yes', or 'yes, server calls' when it needs them), or, when
 * its state domain stays split live, whenever it names a proxy handle
 * ('proxy handles'); any other request is wineserver's live ('no').
 */
export function liveStatusFor(requestNames: readonly string[]): (request: string) => LiveStatus {
  const families = liveFamilies();
  const catalog = liveCatalog(requestNames, families);
  const split = splitDomains(catalog);
  const ofFamilies = new Set(families.flatMap((family) => family.entries.map((entry) => entry.request)));
  for (const entry of genericHandleEntries(families, undefined)) ofFamilies.add(entry.request);
  return (request) => {
    const entry = catalog.get(request);
    if (!entry || entry.status !== 'translated' || !ofFamilies.has(request)) return 'no';
    if (entry.needsServer) return 'yes, server calls';
    if (!entry.liveRouting && entry.domains.some((domain) => split.has(domain))) return 'proxy handles';
    return 'yes';
  };
}
