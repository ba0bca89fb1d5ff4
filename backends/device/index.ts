// The device backend: the Session interface over /dev/winekernel through the
// N-API binding of libwinekernel (native/src/device_addon.c). The kernel does
// all the work and all the checking; this layer only adapts calling
// conventions (out-values, Promises for waits, readiness notification).
import {
  WK_EAGAIN,
  WK_EINVAL,
  WK_ERANGE,
  WK_LIST_NAMESPACES,
  WK_LOCK_NONBLOCK,
  WK_READ_EVENTS_MAX,
  WkArgumentError,
  WkBackendUnavailableError,
  WkCredentialsError,
  WkSessionClosedError,
  errnoCode,
  processCredentials,
  type AclEntry,
  type Backend,
  type CreateInfo,
  type Credentials,
  type Limits,
  type ListResult,
  type LockResult,
  type ServerEvent,
  type Session,
  type WkName,
} from '../primitives.js';
import { SCRATCH_BYTES_NEEDED, SCRATCH_CREATED, loadDeviceAddon, type DeviceAddon } from './addon.js';

export const DEVICE_PATH = '/dev/winekernel';

export class DeviceSession implements Session {
  readonly pid = process.pid;
  private readonly addon: DeviceAddon;
  private readonly scratch: Float64Array;
  private readonly slot: number;
  private isEnded = false;
  private readonly eventListeners = new Set<() => void>();
  private readonly onReadable = () => this.notify();

  constructor(addon: DeviceAddon, scratch: Float64Array, slot: number) {
    this.addon = addon;
    this.scratch = scratch;
    this.slot = slot;
  }

  get sessionId(): number {
    if (this.isEnded) return 0;
    return this.addon.sessionId(this.slot);
  }

  get ended(): boolean {
    return this.isEnded;
  }

  /** The addon slot of this session (benchmarks call the addon directly). */
  get nativeSlot(): number {
    return this.slot;
  }

  private closed(): never {
    throw new WkSessionClosedError();
  }

  attach(kernid: WkName, flags: number, limits?: Limits): number {
    if (this.isEnded) this.closed();
    let packed: Float64Array | null = null;
    if (limits !== undefined) {
      packed = new Float64Array([
        limits.maxObjects ?? 0,
        limits.maxBytes ?? 0,
        limits.maxObjectSize ?? 0,
        limits.maxHandlesPerSession ?? 0,
      ]);
      for (const value of packed) if (!Number.isSafeInteger(value) || value < 0) return -WK_EINVAL;
    }
    return this.addon.attach(this.slot, kernid, flags, packed);
  }

  instanceSetacl(entries: readonly AclEntry[]): number {
    if (this.isEnded) this.closed();
    return this.addon.instanceSetacl(this.slot, entries);
  }

  create(name: WkName, data: Uint8Array | null, flags: number, info?: CreateInfo): number {
    if (this.isEnded) this.closed();
    const result = this.addon.create(this.slot, name, data, flags);
    if (result >= 0 && info !== undefined) info.created = this.scratch[SCRATCH_CREATED] === 1;
    return result;
  }

  open(name: WkName): number {
    if (this.isEnded) this.closed();
    return this.addon.open(this.slot, name);
  }

  close(handle: number): number {
    if (this.isEnded) this.closed();
    return this.addon.close(this.slot, handle);
  }

  unlink(handle: number): number {
    if (this.isEnded) this.closed();
    return this.addon.unlink(this.slot, handle);
  }

  namesize(handle: number): number {
    if (this.isEnded) this.closed();
    return this.addon.namesize(this.slot, handle);
  }

  getname(handle: number, buf: Uint8Array): number {
    if (this.isEnded) this.closed();
    return this.addon.getname(this.slot, handle, buf);
  }

  size(handle: number): number {
    if (this.isEnded) this.closed();
    return this.addon.size(this.slot, handle);
  }

  getdata(handle: number, buf: Uint8Array, offset: number): number {
    if (this.isEnded) this.closed();
    return this.addon.getdata(this.slot, handle, buf, offset);
  }

  setdata(handle: number, buf: Uint8Array, offset: number, flags: number): number {
    if (this.isEnded) this.closed();
    return this.addon.setdata(this.slot, handle, buf, offset, flags);
  }

  tryLock(handle: number, flags: number): number {
    if (this.isEnded) this.closed();
    return this.addon.lock(this.slot, handle, flags, 0);
  }

  lock(handle: number, flags: number, timeoutNs: number = -1): LockResult {
    if (this.isEnded) this.closed();
    if (timeoutNs !== -1 && !(Number.isFinite(timeoutNs) && timeoutNs >= 0)) return -WK_EINVAL;
    // first a try, on this thread: most locks are free and need no waiter thread
    const now = this.addon.lock(this.slot, handle, flags, 0);
    if (now !== -WK_EAGAIN || timeoutNs === 0 || (flags & WK_LOCK_NONBLOCK) !== 0) return now;
    return this.addon.lockWait(this.slot, handle, flags, timeoutNs === -1 ? -1 : Math.ceil(timeoutNs));
  }

  unlock(handle: number): number {
    if (this.isEnded) this.closed();
    return this.addon.unlock(this.slot, handle);
  }

  setacl(handle: number, entries: readonly AclEntry[]): number {
    if (this.isEnded) this.closed();
    return this.addon.setacl(this.slot, handle, entries);
  }

  getacl(handle: number): AclEntry[] | number {
    if (this.isEnded) this.closed();
    return this.addon.getacl(this.slot, handle);
  }

  attachNativeFile(handle: number, fd: number): number {
    if (this.isEnded) this.closed();
    return this.addon.attachFile(this.slot, handle, fd);
  }

  getNativeFile(handle: number): number {
    if (this.isEnded) this.closed();
    return this.addon.getFile(this.slot, handle);
  }

  list(namespace: WkName, buf: Uint8Array, flags: number, start: number = 0): ListResult {
    if (this.isEnded) this.closed();
    const listNamespaces = (flags & WK_LIST_NAMESPACES) !== 0;
    const result = this.addon.list(this.slot, listNamespaces ? null : namespace, buf, flags, start);
    if (result >= 0) return { status: 0, count: result, bytesNeeded: this.scratch[SCRATCH_BYTES_NEEDED] };
    if (result === -WK_ERANGE) return { status: result, count: 0, bytesNeeded: this.scratch[SCRATCH_BYTES_NEEDED] };
    return { status: result, count: 0, bytesNeeded: 0 };
  }

  registerServer(): number {
    if (this.isEnded) this.closed();
    return this.addon.registerServer(this.slot);
  }

  readEvents(max: number = WK_READ_EVENTS_MAX): ServerEvent[] | number {
    if (this.isEnded) this.closed();
    const events = this.addon.readEvents(this.slot, max);
    // the watcher fires once per arming; reading the queue re-arms it
    if (this.eventListeners.size > 0) this.arm();
    return events;
  }

  onEvents(listener: () => void): () => void {
    if (this.isEnded) this.closed();
    if (typeof listener !== 'function') throw new WkArgumentError('onEvents needs a function');
    this.eventListeners.add(listener);
    this.arm();
    return () => {
      this.eventListeners.delete(listener);
      if (this.eventListeners.size === 0 && !this.isEnded) this.addon.unwatch(this.slot);
    };
  }

  private arm(): void {
    const result = this.addon.watch(this.slot, this.onReadable);
    if (result < 0) throw new WkBackendUnavailableError(`cannot poll ${DEVICE_PATH}: ${errnoCode(result)}`);
  }

  private notify(): void {
    if (this.isEnded) return;
    for (const listener of [...this.eventListeners]) listener();
  }

  end(): void {
    if (this.isEnded) return;
    this.isEnded = true;
    this.eventListeners.clear();
    this.addon.sessionClose(this.slot);
  }

  /** A no-op ioctl (the floor for benchmarks). */
  nop(): number {
    if (this.isEnded) this.closed();
    return this.addon.nop(this.slot);
  }

  /** The module's live counters (leak checks). */
  stats(): Record<string, number> | number {
    if (this.isEnded) this.closed();
    return this.addon.stats(this.slot);
  }
}

function sameGroups(a: readonly number[], b: readonly number[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((g) => set.has(g));
}

export class DeviceBackend implements Backend {
  readonly kind = 'device' as const;
  private readonly addon: DeviceAddon;
  private readonly scratch: Float64Array;

  constructor() {
    ({ addon: this.addon, scratch: this.scratch } = loadDeviceAddon());
  }

  /**
   * The device takes the credentials of the thread that opens it. Other
   * credentials than this process's are honoured by opening as them (root
   * only); a pid other than this process's cannot be.
   */
  openSession(credentials: Partial<Credentials> = {}): DeviceSession {
    const own = processCredentials();
    if (credentials.pid !== undefined && credentials.pid !== own.pid) {
      throw new WkCredentialsError(`the device records the real pid (${own.pid}), not ${credentials.pid}`);
    }
    const uid = credentials.uid ?? own.uid;
    const gid = credentials.gid ?? own.gid;
    const groups = credentials.groups ?? (credentials.uid !== undefined || credentials.gid !== undefined ? [] : own.groups);
    const asSelf = uid === own.uid && gid === own.gid && sameGroups(groups, own.groups);
    if (!asSelf && process.geteuid?.() !== 0) {
      throw new WkCredentialsError('opening a device session with other credentials needs root');
    }
    const slot = asSelf ? this.addon.sessionOpen(-1, -1, null) : this.addon.sessionOpen(uid, gid, groups);
    if (slot < 0) throw new WkBackendUnavailableError(`cannot open ${DEVICE_PATH}: ${errnoCode(slot)}`);
    return new DeviceSession(this.addon, this.scratch, slot);
  }
}

export function createDeviceBackend(): DeviceBackend {
  return new DeviceBackend();
}
