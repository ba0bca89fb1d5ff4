// Decoded registry state kept between operations (docs/registry.md,
// "Caching between operations").
//
// Every operation holds the tree lock, and reading a key's header, record,
// subkey list or index entry costs an object open, a copy and a decode; most
// requests read the same few keys again (a program opens HKCU\Software a
// thousand times). So what operations decode stays here, by key id, and the
// next operation reuses it while nobody else can have changed the tree.
//
// Coherence rests on one counter, the tree's generation (in registry:tree):
//  * every writer of registry objects holds the tree lock exclusively and
//    bumps the generation before it lets the lock go (RegistryTx.commit, and
//    the abandon path when an operation throws after writing); the repair
//    after a holder died mid-update bumps it too;
//  * an operation takes the lock, reads the generation and keeps the cache
//    only if it is the one the cache was last brought to: by reading under
//    the lock, or by a write of its own through this cache, which updates
//    the entries in place and then records the generation it wrote;
//  * so anything another writer did (another proxy or process on the same
//    device instance, a store with its own cache, a process that died
//    holding the lock) shows as a generation this cache has not seen, and it
//    is dropped whole.
// One cache serves all stores of one instance in this process (sessions of
// different client processes share it: one process's write keeps it valid
// for the others). The instance is recognised by the random nonce written
// into registry:tree when the tree was created.

import type { CaseMap } from '../casemap.ts';
import type { KeyHeader, KeyRecord, SubkeyEntry } from './record.ts';

/** What the cache knows of one key: always its header; its record and subkey list once read. */
export interface KeyState {
  header: KeyHeader;
  record?: KeyRecord;
  subkeys?: SubkeyEntry[];
}

export interface RegistryCacheStats {
  /** Operations that found the cache valid / had to drop it (another writer, a failed operation). */
  kept: number;
  dropped: number;
  /** Drops because the cache grew past its limit. */
  trimmed: number;
  /** A header read through a handle that disagreed with the cache (a coherence bug; the cache is then dropped). */
  incoherent: number;
}

/**
 * Keys kept before the cache is emptied. Wine's start-up reads about 760
 * distinct keys; a fresh prefix has about 9,200, which decoded would add some
 * 18 MB to the heap, so loading or saving a whole hive leaves the cache empty
 * rather than full.
 */
export const DEFAULT_CACHE_LIMIT = 4096;

export class RegistryCache {
  /** The tree generation the entries describe; -1: none (empty, must be revalidated). */
  generation = -1;
  readonly keys = new Map<number, KeyState>();
  /** parent id → folded name of one element → the subkey's id, 0 when there is none. */
  readonly index = new Map<number, Map<string, number>>();
  readonly stats: RegistryCacheStats = { kept: 0, dropped: 0, trimmed: 0, incoherent: 0 };

  constructor(
    readonly map: CaseMap,
    /** Keys kept at most; 0 keeps nothing between operations. */
    readonly limit = DEFAULT_CACHE_LIMIT,
  ) {}

  /** Called under the tree lock with the generation read there: keeps the entries only if they describe it. */
  validate(generation: number): void {
    if (generation === this.generation) {
      this.stats.kept++;
      return;
    }
    if (this.keys.size || this.index.size) this.stats.dropped++;
    this.clear();
    this.generation = generation;
  }

  /** Forgets everything; the next operation starts from the primitives. */
  invalidate(): void {
    this.clear();
    this.generation = -1;
  }

  /** After an operation: a cache past its limit is emptied (a whole-tree save or load reads every key once). */
  trim(): void {
    if (this.keys.size > this.limit) {
      this.stats.trimmed++;
      this.clear();
    }
  }

  /** The cached index answer for `folded` under `parent`, or undefined. */
  lookup(parent: number, folded: string): number | undefined {
    return this.index.get(parent)?.get(folded);
  }

  /** Records an index answer (0: no such subkey). */
  remember(parent: number, folded: string, id: number): void {
    let names = this.index.get(parent);
    if (!names) this.index.set(parent, (names = new Map()));
    names.set(folded, id);
  }

  private clear(): void {
    this.keys.clear();
    this.index.clear();
  }
}

const shared = new Map<string, WeakRef<RegistryCache>>();
const forget = new FinalizationRegistry<string>((nonce) => {
  if (!shared.get(nonce)?.deref()) shared.delete(nonce);
});

/**
 * The cache of the instance whose tree carries `nonce`, shared by every store
 * of this process on that instance (kept alive by the stores using it).
 * A store with another case map or limit gets a cache of its own.
 */
export function sharedCache(nonce: string, map: CaseMap, limit = DEFAULT_CACHE_LIMIT): RegistryCache {
  const existing = shared.get(nonce)?.deref();
  if (existing) return existing.map === map && existing.limit === limit ? existing : new RegistryCache(map, limit);
  const cache = new RegistryCache(map, limit);
  shared.set(nonce, new WeakRef(cache));
  forget.register(cache, nonce);
  return cache;
}
