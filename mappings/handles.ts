// The handle space of a translated Wine process, split between two owners.
//
// A Wine client holds handles minted by wineserver (for everything that is
// forwarded) and handles minted by the proxy (for objects that live in the
// primitives). Both reach the client as plain 32-bit obj_handle_t values, so
// the two sets must never overlap, and a request naming a handle can be routed
// by the value alone. docs/translation.md explains the choice of ranges.
//
//   0                      no handle
//   4 .. 0x03fffffc        wineserver's per-process handles: (index + 1) * 4,
//                          index < 0xffffff (its table limit), lowest free first
//   0x3c000000..0x3fff0000 proxy-minted handles, multiples of 4, counting down
//                          from the top (this module)
//   0x54000000..0x57ffffff wineserver's global handles (a local value XORed
//                          with a fixed obfuscator; used by a few kernel paths)
//   0xfffffffa..0xffffffff pseudo-handles (current process, current thread,
//                          the three token pseudo-handles); neutral: the proxy
//                          knows which process and thread is asking
//
// Like wineserver, the proxy ignores the two low bits of a handle value when
// looking it up (Windows keeps them free for applications to tag).

import { STATUS_NOT_SUPPORTED } from './ntstatus.ts';
import { WinekernelError } from '../errors/winekernel-error.ts';

/** The first (highest) handle value the proxy mints. */
export const PROXY_HANDLE_TOP = 0x3fff0000;
/** The lowest handle value the proxy may mint. */
export const PROXY_HANDLE_BOTTOM = 0x3c000000;
/** How many handles one process may hold from the proxy at once. */
export const PROXY_HANDLE_CAPACITY = (PROXY_HANDLE_TOP - PROXY_HANDLE_BOTTOM) / 4 + 1;
/** The largest per-process handle wineserver can mint (its table holds 0xffffff entries). */
export const SERVER_LOCAL_HANDLE_MAX = 0xffffff << 2;
/** Pseudo-handles are the values from here up (-6 .. -1 as signed ints). */
export const PSEUDO_HANDLE_MIN = 0xfffffffa;

export type HandleOwner = 'none' | 'pseudo' | 'proxy' | 'server';

/** Who minted `value` (a u32 handle as the client sent it). */
export function handleOwner(value: number): HandleOwner {
  const h = value >>> 0;
  if (h === 0) return 'none';
  if (h >= PSEUDO_HANDLE_MIN) return 'pseudo';
  const base = h & ~3;
  if (base >= PROXY_HANDLE_BOTTOM && base <= PROXY_HANDLE_TOP) return 'proxy';
  return 'server';
}

/** new_process's flag for "the child inherits the parent's inheritable handles". */
export const PROCESS_CREATE_FLAGS_INHERIT_HANDLES = 0x4;

/** ProxyHandleEntry.flags: the handle is inherited by child processes (OBJ_INHERIT's bit, so `attributes & OBJ_INHERIT` sets it). */
export const ENTRY_INHERIT = 0x02;
/** ProxyHandleEntry.flags: close_handle fails with STATUS_HANDLE_NOT_CLOSABLE (HANDLE_FLAG_PROTECT_FROM_CLOSE). */
export const ENTRY_PROTECT_FROM_CLOSE = 0x04;

/** set_handle_info's flag bits (HANDLE_FLAG_*), as wineserver keeps them per handle. */
export const HANDLE_FLAG_INHERIT = 0x01;
export const HANDLE_FLAG_PROTECT_FROM_CLOSE = 0x02;

/** An entry's flags as set_handle_info reports them. */
export function handleInfoFlags(entry: ProxyHandleEntry): number {
  return (entry.flags & ENTRY_INHERIT ? HANDLE_FLAG_INHERIT : 0) | (entry.flags & ENTRY_PROTECT_FROM_CLOSE ? HANDLE_FLAG_PROTECT_FROM_CLOSE : 0);
}

/** set_handle_info's change of an entry's flags: the bits of `mask` take their value from `flags`. */
export function applyHandleInfo(entry: ProxyHandleEntry, flags: number, mask: number): void {
  if (mask & HANDLE_FLAG_INHERIT) entry.flags = flags & HANDLE_FLAG_INHERIT ? entry.flags | ENTRY_INHERIT : entry.flags & ~ENTRY_INHERIT;
  if (mask & HANDLE_FLAG_PROTECT_FROM_CLOSE) {
    entry.flags = flags & HANDLE_FLAG_PROTECT_FROM_CLOSE ? entry.flags | ENTRY_PROTECT_FROM_CLOSE : entry.flags & ~ENTRY_PROTECT_FROM_CLOSE;
  }
}

/** A typed error for misuse of the handle table (never for a client's bad handle: that is a status). */
export class HandleTableError extends WinekernelError<'WK_PROXY_HANDLES_EXHAUSTED' | 'WK_NOT_A_PROXY_HANDLE'> {}

/** What a proxy-minted handle stands for. */
export interface ProxyHandleEntry {
  /** The handle of the object in the client's primitives session. */
  primitive: number;
  /** The Wine object type the handle is of ('Key', 'Directory', ...), for get_object_type and checks. */
  type: string;
  /** Granted access mask, as wineserver would have granted it. */
  access: number;
  /** ENTRY_INHERIT (OBJ_INHERIT's value, as the attributes carry it) and ENTRY_PROTECT_FROM_CLOSE. */
  flags: number;
  /** The object's identity within its family (a registry key's id), where a family counts handles per object. */
  object?: number;
}

/**
 * The proxy's handles of one client process. Values are handed out from
 * PROXY_HANDLE_TOP downwards; a closed value is reused (most recently freed
 * first) so a long-running process does not walk out of the range.
 */
export class ProxyHandleTable {
  private readonly entries = new Map<number, ProxyHandleEntry>();
  private readonly freed: number[] = [];
  private next = PROXY_HANDLE_TOP;

  get size(): number {
    return this.entries.size;
  }

  /** Mints a new Wine handle for `entry`. */
  mint(entry: ProxyHandleEntry): number {
    let value = this.freed.pop();
    if (value === undefined) {
      if (this.next < PROXY_HANDLE_BOTTOM) {
        throw new HandleTableError('WK_PROXY_HANDLES_EXHAUSTED', `a process holds ${PROXY_HANDLE_CAPACITY} proxy handles already`);
      }
      value = this.next;
      this.next -= 4;
    }
    this.entries.set(value, entry);
    return value;
  }

  /**
   * Moves an open handle to exactly `target` (inheritance: a child process
   * holds its parent's inherited handles at the same values). False when
   * `value` is not open, or `target` is taken or not a proxy value.
   */
  move(value: number, target: number): boolean {
    const from = (value >>> 0) & ~3;
    const to = (target >>> 0) & ~3;
    const entry = this.entries.get(from);
    if (!entry) return false;
    if (from === to) return true;
    if (to < PROXY_HANDLE_BOTTOM || to > PROXY_HANDLE_TOP || this.entries.has(to)) return false;
    if (to >= this.next + 4) {
      // Handed out before and closed since: no longer free.
      const at = this.freed.lastIndexOf(to);
      if (at >= 0) this.freed.splice(at, 1);
    } else {
      // Below every value handed out so far: the values passed on the way down are free.
      for (let skipped = this.next; skipped > to; skipped -= 4) this.freed.unshift(skipped);
      this.next = to - 4;
    }
    this.entries.delete(from);
    this.freed.push(from);
    this.entries.set(to, entry);
    return true;
  }

  /** The entry of a proxy handle, or undefined when it is not open (the client gets STATUS_INVALID_HANDLE). */
  get(value: number): ProxyHandleEntry | undefined {
    return this.entries.get((value >>> 0) & ~3);
  }

  /** Forgets a proxy handle and returns what it stood for (the caller closes the primitive handle). */
  release(value: number): ProxyHandleEntry | undefined {
    const key = (value >>> 0) & ~3;
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.freed.push(key);
    return entry;
  }

  /** Every open proxy handle, for cleanup when the process ends. */
  *[Symbol.iterator](): IterableIterator<[number, ProxyHandleEntry]> {
    yield* this.entries;
  }
}

/** Where a request goes, judged by the handles it names. */
export type HandleRoute =
  | { to: 'proxy' | 'server'; handles: number[] }
  /** It names no handle either side owns: the request type's own default decides. */
  | { to: 'either'; handles: number[] }
  /** It names handles of both sides: no single owner can answer it correctly. */
  | { to: 'refuse'; status: number; handles: number[]; detail: string };

/**
 * Routes a request by the handles it names. Handles of both owners in one
 * request cannot be served by either (wineserver cannot see the proxy's
 * objects and the primitives cannot see wineserver's), so the request is
 * refused with STATUS_NOT_SUPPORTED rather than answered wrongly.
 */
export function routeByHandles(handles: readonly number[]): HandleRoute {
  let proxy = false;
  let server = false;
  for (const h of handles) {
    const owner = handleOwner(h);
    if (owner === 'proxy') proxy = true;
    else if (owner === 'server') server = true;
  }
  const list = [...handles];
  if (proxy && server) {
    return {
      to: 'refuse',
      status: STATUS_NOT_SUPPORTED,
      handles: list,
      detail: `request names handles of both the proxy and wineserver: ${list.map((h) => (h >>> 0).toString(16)).join(', ')}`,
    };
  }
  if (proxy) return { to: 'proxy', handles: list };
  if (server) return { to: 'server', handles: list };
  return { to: 'either', handles: list };
}

/** The subset of the generated request table this module needs. */
interface RequestShape {
  request: { fields: ReadonlyArray<{ name: string; type: string }>; varargs: ReadonlyArray<{ name: string; kind: string }> };
}

/**
 * Every handle value a decoded request names: its obj_handle_t fields, the
 * root directory of its object attributes, and the objects of a select
 * operation. (dup_handle's src_handle lives in src_process's table and
 * new_process's inherited handle list in the parent's; the router resolves
 * those against the right process, but their owner is still read off the value.)
 */
export function handlesNamedBy(info: RequestShape, body: Record<string, unknown>, ignoredFields?: readonly string[]): number[] {
  const handles: number[] = [];
  for (const field of info.request.fields) {
    if (field.type === 'obj_handle_t' && !ignoredFields?.includes(field.name)) {
      const value = body[field.name];
      if (typeof value === 'number' && value !== 0) handles.push(value >>> 0);
    }
  }
  for (const vararg of info.request.varargs) {
    const value = body[vararg.name] as Record<string, unknown> | null | undefined;
    if (!value || typeof value !== 'object') continue;
    if (vararg.kind === 'object_attributes' && typeof value.rootdir === 'number' && value.rootdir !== 0) {
      handles.push(value.rootdir >>> 0);
    } else if (vararg.kind === 'select_op') {
      if (Array.isArray(value.handles)) for (const h of value.handles) if (typeof h === 'number') handles.push(h >>> 0);
      for (const key of ['wait', 'signal', 'handle'] as const) {
        const h = value[key];
        if (typeof h === 'number' && h !== 0) handles.push(h >>> 0);
      }
    }
  }
  return handles;
}
