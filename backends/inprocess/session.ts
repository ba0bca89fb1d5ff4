// One session of the in-process backend: a handle table bound to an instance.
// Every call runs synchronously to completion; only a lock that has to wait
// returns a Promise, settled later by an unlock, a close or a timer.
import {
  WK_ATTACH_CREATE,
  WK_CREATE_OPEN_EXISTING,
  WK_CREATE_PERMANENT,
  WK_DEFAULT_LIMITS,
  WK_EACCES,
  WK_EAGAIN,
  WK_EALREADY,
  WK_EBADF,
  WK_EBUSY,
  WK_EDEADLK,
  WK_EEXIST,
  WK_EFBIG,
  WK_EINTR,
  WK_EINVAL,
  WK_EMFILE,
  WK_ENOENT,
  WK_ENOSPC,
  WK_ENOTCONN,
  WK_EOWNERDEAD,
  WK_EPERM,
  WK_ERANGE,
  WK_ETIMEDOUT,
  WK_LIMIT_BOUNDS,
  WK_LIST_NAMESPACES,
  WK_LOCK_EXCLUSIVE,
  WK_LOCK_NONBLOCK,
  WK_LOCK_SHARED,
  WK_READ_EVENTS_MAX,
  WK_RIGHT_ATTACH,
  WK_RIGHT_ATTACH_FILE,
  WK_RIGHT_DELETE,
  WK_RIGHT_GET_FILE,
  WK_RIGHT_LOCK,
  WK_RIGHT_READ,
  WK_RIGHT_READ_ACL,
  WK_RIGHT_WRITE,
  WK_RIGHT_WRITE_ACL,
  WK_RIGHTS_MASK,
  WK_RIGHTS_OBJECT_MASK,
  WK_SETDATA_TRUNCATE,
  WkArgumentError,
  WkSessionClosedError,
  type AclEntry,
  type CreateInfo,
  type Credentials,
  type Limits,
  type ListResult,
  type LockResult,
  type ServerEvent,
  type Session,
  type WkName,
} from '../primitives.js';
import type { NativeFdOps } from '../native-fd.js';
import { copyAcl, grantedRights, normalizeAcl } from './acl.js';
import { HandleAllocator } from './handle-allocator.js';
import {
  EMPTY_PACKED,
  Instance,
  LOCK_EXCLUSIVE,
  LOCK_NONE,
  LOCK_SHARED,
  WkObject,
  type LockWaiter,
  type PackedNames,
} from './instance.js';
import { checkKernidKey, checkNameKey, checkNamespaceKey, hex8, toKey } from './names.js';

/** What all sessions of one in-process backend share: its instances. */
export interface BackendState {
  readonly instances: Map<string, Instance>;
  readonly fd: NativeFdOps;
}

/** An open handle: the object, its lock state, its cached rights. */
export class HandleEntry {
  readonly handle: number;
  readonly object: WkObject;
  readonly session: InProcessSession;
  lockMode = LOCK_NONE;
  waiter: LockWaiter | null = null;
  /** rights computed for object.aclVersion == rightsVersion */
  rights = 0;
  rightsVersion = 0;

  constructor(handle: number, object: WkObject, session: InProcessSession) {
    this.handle = handle;
    this.object = object;
    this.session = session;
  }
}

const LOCK_FLAGS_MASK = WK_LOCK_SHARED | WK_LOCK_EXCLUSIVE | WK_LOCK_NONBLOCK;
// setTimeout's largest delay; longer timeouts are waited in chained steps
const MAX_TIMER_MS = 0x7fffffff;

function isOffset(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function normalizeLimits(limits: Limits | undefined): Required<Limits> | number {
  const result = { ...WK_DEFAULT_LIMITS };
  if (limits === undefined) return result;
  for (const field of Object.keys(WK_DEFAULT_LIMITS) as (keyof Limits)[]) {
    const value = limits[field];
    if (value === undefined || value === 0) continue;
    if (!Number.isSafeInteger(value) || value < 0 || value > WK_LIMIT_BOUNDS[field]) return -WK_EINVAL;
    result[field] = value;
  }
  return result;
}

export class InProcessSession implements Session {
  readonly pid: number;
  private readonly credentials: Credentials;
  private readonly state: BackendState;
  private instance: Instance | null = null;
  private id = 0;
  private isEnded = false;
  private readonly handles: (HandleEntry | undefined)[] = [];
  private readonly allocator = new HandleAllocator();
  private handleCount = 0;
  /** live objects this session created (handed to the server when it ends) */
  readonly createdObjects = new Set<WkObject>();
  // server side
  private events: ServerEvent[] = [];
  private readonly eventListeners = new Set<() => void>();
  private notifyScheduled = false;

  constructor(state: BackendState, credentials: Credentials) {
    this.state = state;
    this.credentials = credentials;
    this.pid = credentials.pid;
  }

  get sessionId(): number {
    return this.id;
  }

  get ended(): boolean {
    return this.isEnded;
  }

  // Every call on an unbound session is -ENOTCONN; on an ended one, a
  // programming error. Kept out of line so the bound fast path stays small.
  private unbound(): number {
    if (this.isEnded) throw new WkSessionClosedError();
    return -WK_ENOTCONN;
  }

  private rightsOf(entry: HandleEntry): number {
    const object = entry.object;
    if (entry.rightsVersion !== object.aclVersion) {
      entry.rights = grantedRights(object.acl, object.ownerUid, this.credentials);
      entry.rightsVersion = object.aclVersion;
    }
    return entry.rights;
  }

  // -------------------------------------------------------------------------
  // sessions and instances

  attach(kernid: WkName, flags: number, limits?: Limits): number {
    if (this.isEnded) throw new WkSessionClosedError();
    if (this.instance !== null) return -WK_EALREADY;
    const key = toKey(kernid);
    if (typeof key === 'number') return key;
    const invalid = checkKernidKey(key);
    if (invalid < 0) return invalid;
    if ((flags & ~WK_ATTACH_CREATE) !== 0) return -WK_EINVAL;
    // with CREATE the limits are checked even if the instance turns out to exist
    const effective = (flags & WK_ATTACH_CREATE) !== 0 ? normalizeLimits(limits) : WK_DEFAULT_LIMITS;
    if (typeof effective === 'number') return effective;
    const instances = this.state.instances;
    let instance = instances.get(key);
    let created = 0;
    if (instance === undefined) {
      if ((flags & WK_ATTACH_CREATE) === 0) return -WK_ENOENT;
      instance = new Instance(key, this.credentials.uid, effective);
      instances.set(key, instance);
      created = 1;
    } else if ((grantedRights(instance.acl, instance.ownerUid, this.credentials) & WK_RIGHT_ATTACH) === 0) {
      return -WK_EACCES;
    }
    this.instance = instance;
    this.id = instance.allocateSessionId();
    instance.sessions.add(this);
    return created;
  }

  instanceSetacl(entries: readonly AclEntry[]): number {
    const instance = this.instance;
    if (instance === null) return this.unbound();
    if (this.credentials.uid !== instance.ownerUid) return -WK_EPERM;
    const acl = normalizeAcl(entries, WK_RIGHTS_MASK);
    if (typeof acl === 'number') return acl;
    instance.acl = acl;
    return 0;
  }

  // -------------------------------------------------------------------------
  // handles

  private addHandle(object: WkObject): number {
    const handle = this.allocator.allocate();
    this.handles[handle] = new HandleEntry(handle, object, this);
    this.handleCount++;
    object.handleCount++;
    return handle;
  }

  private dropHandle(entry: HandleEntry): void {
    // a wait through a handle that goes away ends with -EBADF (as on the device)
    if (entry.waiter !== null) this.cancelWait(entry.waiter, -WK_EBADF);
    if (entry.lockMode !== LOCK_NONE) releaseLock(entry, true);
    this.handles[entry.handle] = undefined;
    this.allocator.release(entry.handle);
    this.handleCount--;
    const object = entry.object;
    if (--object.handleCount === 0 && !object.permanent) this.destroy(object);
  }

  private destroy(object: WkObject): void {
    const instance = this.instance!;
    if (object.linked) {
      instance.unlink(object);
      object.linked = false;
    }
    instance.objectCount--;
    instance.byteCount -= object.size;
    object.size = 0;
    object.data = EMPTY;
    if (object.creator !== null) {
      object.creator.createdObjects.delete(object);
      object.creator = null;
    }
    if (object.nativeFd >= 0) {
      this.state.fd.close(object.nativeFd);
      object.nativeFd = -1;
    }
  }

  // -------------------------------------------------------------------------
  // objects

  create(name: WkName, data: Uint8Array | null, flags: number, info?: CreateInfo): number {
    const instance = this.instance;
    if (instance === null) return this.unbound();
    let key = toKey(name);
    if (typeof key === 'number') return key;
    let namespaceLength = checkNameKey(key);
    if (namespaceLength < -1) return namespaceLength;
    if ((flags & ~(WK_CREATE_OPEN_EXISTING | WK_CREATE_PERMANENT)) !== 0) return -WK_EINVAL;
    const size = data === null ? 0 : data.byteLength;
    if (size > instance.limits.maxObjectSize) return -WK_EFBIG;
    let assignedCounter = -1;
    if (namespaceLength === -1) {
      // bare namespace: assign the next free counter name
      namespaceLength = key.length;
      const prefix = key + ':';
      let counter = instance.nameCounter;
      while (instance.objects.get(prefix + hex8(counter)) !== undefined) counter = counter >= 0xffffffff ? 1 : counter + 1;
      key = prefix + hex8(counter);
      assignedCounter = counter;
    } else {
      const existing = instance.objects.get(key);
      if (existing !== undefined) {
        if ((flags & WK_CREATE_OPEN_EXISTING) === 0) return -WK_EEXIST;
        if (this.handleCount >= instance.limits.maxHandlesPerSession) return -WK_EMFILE;
        if (info !== undefined) info.created = false;
        return this.addHandle(existing);
      }
    }
    if (this.handleCount >= instance.limits.maxHandlesPerSession) return -WK_EMFILE;
    if (instance.objectCount >= instance.limits.maxObjects) return -WK_ENOSPC;
    if (instance.byteCount + size > instance.limits.maxBytes) return -WK_ENOSPC;
    const permanent = (flags & WK_CREATE_PERMANENT) !== 0;
    // empty objects share one zero-length buffer (setdata replaces it on growth)
    const bytes = size === 0 ? EMPTY : Buffer.allocUnsafe(size);
    if (size > 0) bytes.set(data!);
    const object = new WkObject(key, namespaceLength, bytes, this.credentials.uid, permanent, this);
    instance.link(object);
    instance.objectCount++;
    instance.byteCount += size;
    if (permanent) instance.permanentCount++;
    this.createdObjects.add(object);
    if (assignedCounter >= 0) instance.nameCounter = assignedCounter >= 0xffffffff ? 1 : assignedCounter + 1;
    if (info !== undefined) info.created = true;
    return this.addHandle(object);
  }

  open(name: WkName): number {
    const instance = this.instance;
    if (instance === null) return this.unbound();
    const key = toKey(name);
    if (typeof key === 'number') return key;
    const object = instance.objects.get(key);
    if (object === undefined) {
      // tell a malformed name (-EINVAL, -ENAMETOOLONG) from a missing one
      const namespaceLength = checkNameKey(key);
      if (namespaceLength < -1) return namespaceLength;
      return namespaceLength === -1 ? -WK_EINVAL : -WK_ENOENT;
    }
    if (this.handleCount >= instance.limits.maxHandlesPerSession) return -WK_EMFILE;
    return this.addHandle(object);
  }

  close(handle: number): number {
    if (this.instance === null) return this.unbound();
    const entry = this.handles[handle];
    if (entry === undefined) return -WK_EBADF;
    this.dropHandle(entry);
    return 0;
  }

  unlink(handle: number): number {
    const instance = this.instance;
    if (instance === null) return this.unbound();
    const entry = this.handles[handle];
    if (entry === undefined) return -WK_EBADF;
    if ((this.rightsOf(entry) & WK_RIGHT_DELETE) === 0) return -WK_EACCES;
    const object = entry.object;
    if (object.linked) {
      instance.unlink(object);
      object.linked = false;
    }
    if (object.permanent) {
      object.permanent = false;
      instance.permanentCount--;
    }
    return 0;
  }

  namesize(handle: number): number {
    if (this.instance === null) return this.unbound();
    const entry = this.handles[handle];
    if (entry === undefined) return -WK_EBADF;
    return entry.object.key.length;
  }

  getname(handle: number, buf: Uint8Array): number {
    if (this.instance === null) return this.unbound();
    const entry = this.handles[handle];
    if (entry === undefined) return -WK_EBADF;
    const key = entry.object.key;
    if (buf.byteLength < key.length + 1) return -WK_ERANGE;
    const target = asBuffer(buf);
    target.write(key, 0, key.length, 'latin1');
    target[key.length] = 0;
    return key.length;
  }

  size(handle: number): number {
    if (this.instance === null) return this.unbound();
    const entry = this.handles[handle];
    if (entry === undefined) return -WK_EBADF;
    if ((this.rightsOf(entry) & WK_RIGHT_READ) === 0) return -WK_EACCES;
    return entry.object.size;
  }

  getdata(handle: number, buf: Uint8Array, offset: number): number {
    if (this.instance === null) return this.unbound();
    const entry = this.handles[handle];
    if (entry === undefined) return -WK_EBADF;
    if (!isOffset(offset)) return -WK_EINVAL;
    if ((this.rightsOf(entry) & WK_RIGHT_READ) === 0) return -WK_EACCES;
    const object = entry.object;
    if (offset >= object.size) return 0;
    const count = Math.min(buf.byteLength, object.size - offset);
    copyOut(object.data, offset, buf, count);
    return count;
  }

  setdata(handle: number, buf: Uint8Array, offset: number, flags: number): number {
    const instance = this.instance;
    if (instance === null) return this.unbound();
    const entry = this.handles[handle];
    if (entry === undefined) return -WK_EBADF;
    if ((flags & ~WK_SETDATA_TRUNCATE) !== 0 || !isOffset(offset)) return -WK_EINVAL;
    if ((this.rightsOf(entry) & WK_RIGHT_WRITE) === 0) return -WK_EACCES;
    const object = entry.object;
    const length = buf.byteLength;
    const end = offset + length;
    if (end > instance.limits.maxObjectSize) return -WK_EFBIG;
    const oldSize = object.size;
    const newSize = (flags & WK_SETDATA_TRUNCATE) !== 0 || end > oldSize ? end : oldSize;
    const growth = newSize - oldSize;
    if (growth > 0 && instance.byteCount + growth > instance.limits.maxBytes) return -WK_ENOSPC;
    let data = object.data;
    if (newSize > data.length) {
      // grow geometrically so repeated appends stay amortized O(1)
      const capacity = Math.min(Math.max(newSize, data.length * 2), instance.limits.maxObjectSize);
      const grown = Buffer.allocUnsafe(capacity);
      data.copy(grown, 0, 0, oldSize);
      data = grown;
      object.data = grown;
    } else if (newSize < data.length >>> 2 && data.length > 4096) {
      // give memory back after a large truncation
      const shrunk = Buffer.allocUnsafe(newSize);
      data.copy(shrunk, 0, 0, Math.min(oldSize, newSize));
      data = shrunk;
      object.data = shrunk;
    }
    if (offset > oldSize) data.fill(0, oldSize, offset); // the gap reads as zeros
    copyIn(buf, data, offset, length);
    object.size = newSize;
    instance.byteCount += growth;
    return newSize;
  }

  // -------------------------------------------------------------------------
  // locks

  // Checks shared by lock() and tryLock(): the entry, or -errno.
  private lockEntry(handle: number, flags: number): HandleEntry | number {
    if (this.instance === null) return this.unbound();
    const entry = this.handles[handle];
    if (entry === undefined) return -WK_EBADF;
    const mode = flags & (WK_LOCK_SHARED | WK_LOCK_EXCLUSIVE);
    if ((flags & ~LOCK_FLAGS_MASK) !== 0 || mode === 0 || mode === (WK_LOCK_SHARED | WK_LOCK_EXCLUSIVE)) {
      return -WK_EINVAL;
    }
    if ((this.rightsOf(entry) & WK_RIGHT_LOCK) === 0) return -WK_EACCES;
    if (entry.lockMode !== LOCK_NONE || entry.waiter !== null) return -WK_EDEADLK;
    return entry;
  }

  tryLock(handle: number, flags: number): number {
    const entry = this.lockEntry(handle, flags);
    if (typeof entry === 'number') return entry;
    const mode = (flags & WK_LOCK_EXCLUSIVE) !== 0 ? LOCK_EXCLUSIVE : LOCK_SHARED;
    if (!grantableNow(entry.object, mode)) return -WK_EAGAIN;
    return grantLock(entry, mode);
  }

  lock(handle: number, flags: number, timeoutNs: number = -1): LockResult {
    const entry = this.lockEntry(handle, flags);
    if (typeof entry === 'number') return entry;
    if (timeoutNs !== -1 && !(Number.isFinite(timeoutNs) && timeoutNs >= 0)) return -WK_EINVAL;
    const mode = (flags & WK_LOCK_EXCLUSIVE) !== 0 ? LOCK_EXCLUSIVE : LOCK_SHARED;
    if (grantableNow(entry.object, mode)) return grantLock(entry, mode);
    if ((flags & WK_LOCK_NONBLOCK) !== 0 || timeoutNs === 0) return -WK_EAGAIN;
    return new Promise<number>((resolve) => {
      const waiter: LockWaiter = { entry, mode, resolve, timer: null, remainingMs: 0 };
      entry.waiter = waiter;
      entry.object.waiters.push(waiter);
      if (timeoutNs > 0) {
        waiter.remainingMs = Math.ceil(timeoutNs / 1e6);
        this.armTimer(waiter);
      }
    });
  }

  private armTimer(waiter: LockWaiter): void {
    const step = Math.min(waiter.remainingMs, MAX_TIMER_MS);
    waiter.remainingMs -= step;
    waiter.timer = setTimeout(() => {
      if (waiter.remainingMs > 0) this.armTimer(waiter);
      else this.cancelWait(waiter, -WK_ETIMEDOUT);
    }, step);
  }

  // Takes a waiter out of its queue and settles it with `result`; the
  // waiters behind it may now be grantable.
  private cancelWait(waiter: LockWaiter, result: number): void {
    const object = waiter.entry.object;
    const at = object.waiters.indexOf(waiter);
    if (at >= 0) object.waiters.splice(at, 1);
    finishWaiter(waiter, result);
    if (at === 0) serveWaiters(object);
  }

  unlock(handle: number): number {
    if (this.instance === null) return this.unbound();
    const entry = this.handles[handle];
    if (entry === undefined) return -WK_EBADF;
    if (entry.lockMode === LOCK_NONE) return -WK_EPERM;
    releaseLock(entry, false);
    return 0;
  }

  // -------------------------------------------------------------------------
  // ACLs

  setacl(handle: number, entries: readonly AclEntry[]): number {
    if (this.instance === null) return this.unbound();
    const entry = this.handles[handle];
    if (entry === undefined) return -WK_EBADF;
    if ((this.rightsOf(entry) & WK_RIGHT_WRITE_ACL) === 0) return -WK_EACCES;
    const acl = normalizeAcl(entries, WK_RIGHTS_OBJECT_MASK);
    if (typeof acl === 'number') return acl;
    entry.object.acl = acl;
    entry.object.aclVersion++;
    return 0;
  }

  getacl(handle: number): AclEntry[] | number {
    if (this.instance === null) return this.unbound();
    const entry = this.handles[handle];
    if (entry === undefined) return -WK_EBADF;
    if ((this.rightsOf(entry) & WK_RIGHT_READ_ACL) === 0) return -WK_EACCES;
    return copyAcl(entry.object.acl);
  }

  // -------------------------------------------------------------------------
  // native files

  attachNativeFile(handle: number, fd: number): number {
    if (this.instance === null) return this.unbound();
    const entry = this.handles[handle];
    if (entry === undefined) return -WK_EBADF;
    if ((this.rightsOf(entry) & WK_RIGHT_ATTACH_FILE) === 0) return -WK_EACCES;
    if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) return -WK_EBADF;
    const copy = this.state.fd.dup(fd);
    if (copy < 0) return copy;
    const object = entry.object;
    if (object.nativeFd >= 0) this.state.fd.close(object.nativeFd);
    object.nativeFd = copy;
    return 0;
  }

  getNativeFile(handle: number): number {
    if (this.instance === null) return this.unbound();
    const entry = this.handles[handle];
    if (entry === undefined) return -WK_EBADF;
    if ((this.rightsOf(entry) & WK_RIGHT_GET_FILE) === 0) return -WK_EACCES;
    if (entry.object.nativeFd < 0) return -WK_ENOENT;
    return this.state.fd.dup(entry.object.nativeFd);
  }

  // -------------------------------------------------------------------------
  // listing

  list(namespace: WkName, buf: Uint8Array, flags: number, start: number = 0): ListResult {
    const instance = this.instance;
    if (instance === null) return listError(this.unbound());
    if ((flags & ~WK_LIST_NAMESPACES) !== 0 || !isOffset(start)) return listError(-WK_EINVAL);
    let names: PackedNames;
    if ((flags & WK_LIST_NAMESPACES) !== 0) {
      names = instance.namespaceKeys.packed();
    } else {
      const key = toKey(namespace);
      if (typeof key === 'number') return listError(key);
      const invalid = checkNamespaceKey(key);
      if (invalid < 0) return listError(invalid);
      names = instance.namespaces.get(key)?.packed() ?? EMPTY_PACKED;
    }
    const total = names.offsets[names.count];
    const from = start < names.count ? names.offsets[start] : total;
    const bytesNeeded = total - from;
    if (bytesNeeded > buf.byteLength) return { status: -WK_ERANGE, count: 0, bytesNeeded };
    if (bytesNeeded > 0) names.bytes.copy(buf, 0, from, total);
    return { status: 0, count: start < names.count ? names.count - start : 0, bytesNeeded };
  }

  // -------------------------------------------------------------------------
  // server

  registerServer(): number {
    const instance = this.instance;
    if (instance === null) return this.unbound();
    if (instance.server !== null && instance.server !== this) return -WK_EBUSY;
    instance.server = this;
    return 0;
  }

  readEvents(max: number = WK_READ_EVENTS_MAX): ServerEvent[] | number {
    if (this.instance === null) return this.unbound();
    if (!Number.isInteger(max) || max < 1 || max > WK_READ_EVENTS_MAX) return -WK_EINVAL;
    if (this.events.length <= max) {
      const all = this.events;
      this.events = [];
      return all;
    }
    return this.events.splice(0, max);
  }

  onEvents(listener: () => void): () => void {
    if (this.isEnded) throw new WkSessionClosedError();
    if (typeof listener !== 'function') throw new WkArgumentError('onEvents needs a function');
    this.eventListeners.add(listener);
    if (this.events.length > 0) this.scheduleNotify();
    return () => {
      this.eventListeners.delete(listener);
    };
  }

  private queueEvent(event: ServerEvent): void {
    this.events.push(event);
    this.scheduleNotify();
  }

  private scheduleNotify(): void {
    if (this.notifyScheduled || this.eventListeners.size === 0) return;
    this.notifyScheduled = true;
    setImmediate(() => {
      this.notifyScheduled = false;
      if (this.events.length === 0 || this.isEnded) return;
      for (const listener of [...this.eventListeners]) listener();
    });
  }

  // Gives the server a handle to an object of an ending session.
  private adopt(object: WkObject, from: InProcessSession): void {
    const handle = this.addHandle(object);
    this.queueEvent({ handle, fromSession: from.id, fromPid: from.pid });
  }

  // -------------------------------------------------------------------------
  // end of the session (process death)

  end(): void {
    if (this.isEnded) return;
    const instance = this.instance;
    if (instance !== null) {
      // 1. pending waits end; 2. held locks are abandoned, so their next
      // taker learns the data may be half-written
      for (const entry of this.handles) {
        if (entry !== undefined && entry.waiter !== null) this.cancelWait(entry.waiter, -WK_EINTR);
      }
      for (const entry of this.handles) {
        if (entry !== undefined && entry.lockMode !== LOCK_NONE) releaseLock(entry, true);
      }
      // 3. the server adopts what this session created, before its handles
      // close (so objects only this session kept open survive for cleanup)
      const server = instance.server;
      if (server !== null && server !== this) {
        for (const object of this.createdObjects) server.adopt(object, this);
      }
      for (const object of this.createdObjects) object.creator = null;
      this.createdObjects.clear();
      // 4. handles close
      for (const entry of this.handles) {
        if (entry !== undefined) this.dropHandle(entry);
      }
      if (instance.server === this) instance.server = null;
      instance.sessions.delete(this);
      if (!instance.alive) this.state.instances.delete(instance.key);
    }
    this.isEnded = true;
    this.instance = null;
    this.events = [];
    this.eventListeners.clear();
  }
}

const EMPTY = Buffer.alloc(0);

function listError(status: number): ListResult {
  return { status, count: 0, bytesNeeded: 0 };
}

// Small copies are faster as a loop than through a native call. Two copies
// of the loop, so each stays monomorphic on the object-data side.
const SMALL_COPY = 16;

function copyOut(data: Buffer, offset: number, target: Uint8Array, count: number): void {
  if (count <= SMALL_COPY) {
    for (let i = 0; i < count; i++) target[i] = data[offset + i];
  } else {
    data.copy(target, 0, offset, offset + count);
  }
}

function copyIn(source: Uint8Array, data: Buffer, offset: number, count: number): void {
  if (count <= SMALL_COPY) {
    for (let i = 0; i < count; i++) data[offset + i] = source[i];
  } else {
    data.set(source, offset);
  }
}

// -----------------------------------------------------------------------------
// lock state machine (per object): FIFO queue, shared/exclusive, abandonment

function compatible(object: WkObject, mode: number): boolean {
  if (object.exclusiveHolder !== null) return false;
  return mode === LOCK_SHARED || object.sharedHolders === 0;
}

// A new request may not overtake queued waiters (FIFO).
function grantableNow(object: WkObject, mode: number): boolean {
  return object.waiters.length === 0 && compatible(object, mode);
}

function grantLock(entry: HandleEntry, mode: number): number {
  const object = entry.object;
  if (mode === LOCK_EXCLUSIVE) object.exclusiveHolder = entry;
  else object.sharedHolders++;
  entry.lockMode = mode;
  if (object.abandoned) {
    object.abandoned = false;
    return -WK_EOWNERDEAD;
  }
  return 0;
}

function releaseLock(entry: HandleEntry, abandoning: boolean): void {
  const object = entry.object;
  if (entry.lockMode === LOCK_EXCLUSIVE) {
    object.exclusiveHolder = null;
    if (abandoning) object.abandoned = true;
  } else {
    object.sharedHolders--;
  }
  entry.lockMode = LOCK_NONE;
  serveWaiters(object);
}

function finishWaiter(waiter: LockWaiter, result: number): void {
  if (waiter.timer !== null) clearTimeout(waiter.timer);
  waiter.timer = null;
  waiter.entry.waiter = null;
  waiter.resolve(result);
}

// Grants queued requests from the head while they are compatible; stops at
// the first that is not, so a waiting exclusive taker holds back later
// shared ones.
function serveWaiters(object: WkObject): void {
  const waiters = object.waiters;
  while (waiters.length > 0) {
    const head = waiters[0];
    if (!compatible(object, head.mode)) return;
    waiters.shift();
    const result = grantLock(head.entry, head.mode);
    finishWaiter(head, result);
  }
}
