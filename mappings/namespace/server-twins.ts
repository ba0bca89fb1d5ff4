// Server twins: the wineserver object that stands beside a proxy object
// while wineserver still serves other named object types (live only).
//
// Every named object of every type lives in one NT namespace. While events,
// sections, files, desktops and the rest stay wineserver's, wineserver must
// be able to resolve any name, and names must stay unique across both
// sides. So a named proxy object (a mutex, a directory, a symbolic link)
// has a twin in wineserver: a plain wineserver object of the same name,
// made by server calls as the calling thread (so wineserver decides about
// the name, the root, links, collisions, descriptors and access exactly as
// for the client's own request), whose handle lives in the caller's
// wineserver handle table beside the proxy handle and is closed with it.
//
//  * a proxy mutex's twin is a placeholder mutex, never owned nor waited on
//    (mappings/sync/live-names.ts);
//  * a proxy directory's twin is the same directory in wineserver, which
//    holds the entries of wineserver's own types; a proxy symbolic link's
//    twin is the same link, so wineserver resolves names through it
//    (mappings/namespace/live.ts).
//
// A proxy handle with a twin can stand where wineserver needs the object:
// as the root directory of a request wineserver serves, or as the handle of
// a generic object request (get_object_name, ...). The proxy then sends the
// request to wineserver with the twin in its place (twinHandleFor).

import type { ProxyHandleEntry, ProxyHandleTable } from '../handles.ts';
import { handleOwner } from '../handles.ts';
import { STATUS_SUCCESS } from '../ntstatus.ts';
import type { ServerChannel } from '../translator.ts';
import type { UnicodeStr } from '../../requests/kinds/text.ts';
import { unicodeBytes } from './translators.ts';

/** get_object_name's reply room: the longest name wineserver accepts. */
const NAME_REPLY_SIZE = 65536;

/** The wineserver twin behind each proxy handle that has one (keyed by the table's entry object). */
const twins = new WeakMap<ProxyHandleEntry, number>();

/** The twin's wineserver handle for a proxy handle's entry, if it has one. */
export function twinOf(entry: ProxyHandleEntry | undefined): number | undefined {
  return entry ? twins.get(entry) : undefined;
}

export function setTwin(entry: ProxyHandleEntry, serverHandle: number): void {
  twins.set(entry, serverHandle);
}

/** Forgets and returns the twin of an entry (its handle is the caller's to close). */
export function takeTwin(entry: ProxyHandleEntry): number | undefined {
  const twin = twins.get(entry);
  twins.delete(entry);
  return twin;
}

/**
 * The value to give wineserver for a handle the client named: a wineserver
 * handle, 0 or a pseudo-handle as it is; a proxy handle's twin; null for a
 * proxy handle without a twin (an object wineserver cannot reach: a
 * registry key, an unnamed mutex, a value the process does not hold).
 */
export function twinHandleFor(handles: ProxyHandleTable, value: number): number | null {
  if (handleOwner(value) !== 'proxy') return value;
  return twinOf(handles.get(value)) ?? null;
}

/**
 * What the proxy learns about a server object it just made or opened: its
 * full name ('' when unnamed) and the access wineserver granted. null when
 * either cannot be read.
 */
export async function describeServerObject(server: ServerChannel, handle: number): Promise<{ name: string; access: number } | null> {
  const named = await server.call('get_object_name', { handle }, NAME_REPLY_SIZE);
  if (named.error !== STATUS_SUCCESS) return null;
  const name = unicodeBytes((named.body as { name: UnicodeStr }).name).toString('utf16le');
  if (name.length && !name.startsWith('\\')) return null;
  const info = await server.call('get_object_info', { handle });
  if (info.error !== STATUS_SUCCESS) return null;
  return { name, access: (info.body as { access: number }).access >>> 0 };
}

// Creating or opening a named object with a twin takes several server calls
// and then an update of the proxy's index. They run one at a time within the
// proxy, so wineserver and the index see creations and opens in one order.
let namedQueue: Promise<unknown> = Promise.resolve();

/** Runs `fn` after every earlier named create or open of any twinned type has finished. */
export function serialisedNamed<T>(fn: () => Promise<T>): Promise<T> {
  const run = namedQueue.then(fn, fn);
  namedQueue = run.catch(() => undefined);
  return run;
}
