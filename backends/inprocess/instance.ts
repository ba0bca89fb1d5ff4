// Instances and objects of the in-process backend.
import { WK_RIGHTS_MASK, WK_RIGHTS_OBJECT_MASK, type Limits } from '../primitives.js';
import { defaultAcl, type Acl } from './acl.js';
import type { HandleEntry, InProcessSession } from './session.js';

export const LOCK_NONE = 0;
export const LOCK_SHARED = 1;
export const LOCK_EXCLUSIVE = 2;

/** A lock request waiting in an object's FIFO queue. */
export interface LockWaiter {
  entry: HandleEntry;
  mode: number;
  resolve: (result: number) => void;
  timer: NodeJS.Timeout | null;
  /** ms still to wait after the current timer (timeouts beyond setTimeout's range are chained) */
  remainingMs: number;
}

const DEFAULT_OBJECT_ACL = defaultAcl(WK_RIGHTS_OBJECT_MASK);
export const DEFAULT_INSTANCE_ACL = defaultAcl(WK_RIGHTS_MASK);

export class WkObject {
  /** full name key ("ns:name", one char per byte) */
  readonly key: string;
  /** length of the namespace part of key */
  readonly namespaceLength: number;
  /** false once unlinked: the name is gone, the object lives while handles are open */
  linked = true;
  permanent: boolean;
  data: Buffer;
  size: number;
  readonly ownerUid: number;
  acl: Acl = DEFAULT_OBJECT_ACL;
  /** bumped on setacl; handles cache their rights per version */
  aclVersion = 1;
  handleCount = 0;
  /** the session that created it, while that session lives */
  creator: InProcessSession | null;
  nativeFd = -1;
  // lock state
  exclusiveHolder: HandleEntry | null = null;
  sharedHolders = 0;
  abandoned = false;
  waiters: LockWaiter[] = [];

  constructor(key: string, namespaceLength: number, data: Buffer, ownerUid: number, permanent: boolean, creator: InProcessSession) {
    this.key = key;
    this.namespaceLength = namespaceLength;
    this.data = data;
    this.size = data.length;
    this.ownerUid = ownerUid;
    this.permanent = permanent;
    this.creator = creator;
  }
}

// A namespace's members, with a sorted array built on demand for listing.
// Small sorted arrays are kept up to date by binary insertion; large ones are
// dropped on change and rebuilt on the next listing.
const MAINTAIN_SORTED_UP_TO = 8192;

function lowerBound(sorted: string[], value: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid] < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The listing of a set: names packed NUL-terminated, and where each starts. */
export interface PackedNames {
  bytes: Buffer;
  /** offsets[i]: first byte of name i; offsets[count]: total length */
  offsets: Uint32Array;
  count: number;
}

export class SortedKeySet {
  readonly members = new Set<string>();
  private sortedCache: string[] | null = null;
  private packedCache: PackedNames | null = null;

  add(key: string): void {
    this.members.add(key);
    this.packedCache = null;
    const sorted = this.sortedCache;
    if (sorted === null) return;
    if (sorted.length >= MAINTAIN_SORTED_UP_TO) this.sortedCache = null;
    else sorted.splice(lowerBound(sorted, key), 0, key);
  }

  delete(key: string): void {
    this.members.delete(key);
    this.packedCache = null;
    const sorted = this.sortedCache;
    if (sorted === null) return;
    if (sorted.length >= MAINTAIN_SORTED_UP_TO) this.sortedCache = null;
    else sorted.splice(lowerBound(sorted, key), 1);
  }

  get size(): number {
    return this.members.size;
  }

  sorted(): readonly string[] {
    if (this.sortedCache === null) this.sortedCache = Array.from(this.members).sort();
    return this.sortedCache;
  }

  // Listing copies one slice of this (kept until the set changes), instead
  // of encoding every name on every call.
  packed(): PackedNames {
    if (this.packedCache !== null) return this.packedCache;
    const sorted = this.sorted();
    const offsets = new Uint32Array(sorted.length + 1);
    let total = 0;
    for (let i = 0; i < sorted.length; i++) {
      offsets[i] = total;
      total += sorted[i].length + 1;
    }
    offsets[sorted.length] = total;
    const bytes = Buffer.allocUnsafe(total);
    for (let i = 0; i < sorted.length; i++) {
      const at = offsets[i];
      bytes.write(sorted[i], at, 'latin1');
      bytes[offsets[i + 1] - 1] = 0;
    }
    this.packedCache = { bytes, offsets, count: sorted.length };
    return this.packedCache;
  }
}

export const EMPTY_PACKED: PackedNames = { bytes: Buffer.alloc(0), offsets: new Uint32Array(1), count: 0 };

export class Instance {
  readonly key: string;
  readonly ownerUid: number;
  acl: Acl = DEFAULT_INSTANCE_ACL;
  readonly limits: Required<Limits>;
  /**
   * Named objects by full-name key. An unlinked name keeps its entry, set to
   * undefined, until enough are vacant to rebuild the map: V8 leaves a
   * deleted Map entry in its bucket chain until the next rehash, so a name
   * created and unlinked over and over in a large instance (an atom added
   * and deleted in a loop beside a loaded registry) made each lookup of it
   * slower (~200 µs per create after 20,000 rounds among 200,000 objects).
   * Setting an existing entry again adds nothing to the chain.
   */
  objects = new Map<string, WkObject | undefined>();
  private vacant = 0;
  /** names by namespace key; a namespace is present while it holds a name */
  readonly namespaces = new Map<string, SortedKeySet>();
  readonly namespaceKeys = new SortedKeySet();
  readonly sessions = new Set<InProcessSession>();
  server: InProcessSession | null = null;
  /** live objects (named or not) and their total data bytes, for the quotas */
  objectCount = 0;
  byteCount = 0;
  permanentCount = 0;
  nextSessionId = 1;
  /** next candidate for an assigned name */
  nameCounter = 0x20;

  constructor(key: string, ownerUid: number, limits: Required<Limits>) {
    this.key = key;
    this.ownerUid = ownerUid;
    this.limits = limits;
  }

  get alive(): boolean {
    return this.sessions.size > 0 || this.permanentCount > 0;
  }

  link(object: WkObject): void {
    if (this.objects.has(object.key)) this.vacant--;
    this.objects.set(object.key, object);
    const namespaceKey = object.key.slice(0, object.namespaceLength);
    let names = this.namespaces.get(namespaceKey);
    if (names === undefined) {
      names = new SortedKeySet();
      this.namespaces.set(namespaceKey, names);
      this.namespaceKeys.add(namespaceKey);
    }
    names.add(object.key.slice(object.namespaceLength + 1));
  }

  unlink(object: WkObject): void {
    this.objects.set(object.key, undefined);
    if (++this.vacant > 4096 && this.vacant > this.objects.size >> 1) {
      this.objects = new Map([...this.objects].filter(([, linked]) => linked !== undefined));
      this.vacant = 0;
    }
    const namespaceKey = object.key.slice(0, object.namespaceLength);
    const names = this.namespaces.get(namespaceKey);
    if (names === undefined) return;
    names.delete(object.key.slice(object.namespaceLength + 1));
    if (names.size === 0) {
      this.namespaces.delete(namespaceKey);
      this.namespaceKeys.delete(namespaceKey);
    }
  }

  allocateSessionId(): number {
    const id = this.nextSessionId;
    this.nextSessionId = id >= 0xffffffff ? 1 : id + 1;
    return id;
  }
}
