// The winekernel primitives as a TypeScript interface (docs/primitives.md is
// the contract; docs/backends.md explains how the backends implement it).
//
// Result convention, chosen so the hot path allocates nothing and throws
// nothing:
//  * a call whose result is a number returns it when >= 0 and a negative
//    Linux errno (-WK_ENOENT, ...) when the contract says the call fails;
//  * a call whose result is richer (getacl, readEvents, list) returns an object
//    on success or a negative errno number (list always returns an object,
//    because -ERANGE carries bytesNeeded);
//  * exceptions (WkError subclasses, stable `code`) are reserved for
//    programming errors: a session used after close(), a backend that cannot
//    be loaded, arguments of the wrong JS type.
// `toResult()` converts a number into the `{ ok, errno, code }` shape for
// callers who prefer it.
//
// Names: a name is either a JS string (encoded as UTF-8) or the raw bytes
// (Uint8Array/Buffer). Names compare as bytes; names returned by the backend
// (getname, list) are always bytes, because a name need not be valid UTF-8.

import { WinekernelError } from '../errors/winekernel-error.ts';

// ---------------------------------------------------------------------------
// errno values (Linux numbering; the device returns exactly these)

export const WK_EPERM = 1;
export const WK_ENOENT = 2;
export const WK_EINTR = 4;
export const WK_E2BIG = 7;
export const WK_EBADF = 9;
export const WK_EAGAIN = 11;
export const WK_ENOMEM = 12;
export const WK_EACCES = 13;
export const WK_EBUSY = 16;
export const WK_EEXIST = 17;
export const WK_EINVAL = 22;
export const WK_EMFILE = 24;
export const WK_EFBIG = 27;
export const WK_ENOSPC = 28;
export const WK_ERANGE = 34;
export const WK_EDEADLK = 35;
export const WK_ENAMETOOLONG = 36;
export const WK_ENOTCONN = 107;
export const WK_ETIMEDOUT = 110;
export const WK_EALREADY = 114;
export const WK_EOWNERDEAD = 130;

const ERRNO_NAMES: Record<number, string> = {
  [WK_EPERM]: 'EPERM',
  [WK_ENOENT]: 'ENOENT',
  [WK_EINTR]: 'EINTR',
  [WK_E2BIG]: 'E2BIG',
  [WK_EBADF]: 'EBADF',
  [WK_EAGAIN]: 'EAGAIN',
  [WK_ENOMEM]: 'ENOMEM',
  [WK_EACCES]: 'EACCES',
  [WK_EBUSY]: 'EBUSY',
  [WK_EEXIST]: 'EEXIST',
  [WK_EINVAL]: 'EINVAL',
  [WK_EMFILE]: 'EMFILE',
  [WK_EFBIG]: 'EFBIG',
  [WK_ENOSPC]: 'ENOSPC',
  [WK_ERANGE]: 'ERANGE',
  [WK_EDEADLK]: 'EDEADLK',
  [WK_ENAMETOOLONG]: 'ENAMETOOLONG',
  [WK_ENOTCONN]: 'ENOTCONN',
  [WK_ETIMEDOUT]: 'ETIMEDOUT',
  [WK_EALREADY]: 'EALREADY',
  [WK_EOWNERDEAD]: 'EOWNERDEAD',
};

/** 'ENOENT' for -2 or 2; 'E<n>' for numbers this module has no name for. */
export function errnoCode(result: number): string {
  const errno = result < 0 ? -result : result;
  return ERRNO_NAMES[errno] ?? `E${errno}`;
}

export type WkResult = { ok: true; value: number } | { ok: false; errno: number; code: string };

/** Converts a numeric primitive result into the `{ ok, errno, code }` shape. */
export function toResult(result: number): WkResult {
  if (result >= 0) return { ok: true, value: result };
  return { ok: false, errno: -result, code: errnoCode(result) };
}

// ---------------------------------------------------------------------------
// Flags, rights, ACL entries (same values as kernel/include/uapi/linux/winekernel.h)

export const WK_KERNID_MAX = 63;
export const WK_NAMESPACE_MAX = 63;
export const WK_NAME_MAX = 1023;
export const WK_ACL_MAX_ENTRIES = 64;
export const WK_READ_EVENTS_MAX = 1024;

export const WK_ATTACH_CREATE = 0x1;

export const WK_CREATE_OPEN_EXISTING = 0x1;
export const WK_CREATE_PERMANENT = 0x2;

export const WK_SETDATA_TRUNCATE = 0x1;

export const WK_LOCK_SHARED = 0x1;
export const WK_LOCK_EXCLUSIVE = 0x2;
export const WK_LOCK_NONBLOCK = 0x4;
/** timeoutNs value meaning "wait forever". */
export const WK_TIMEOUT_INFINITE = -1;

export const WK_LIST_NAMESPACES = 0x1;

export const WK_RIGHT_READ = 0x001;
export const WK_RIGHT_WRITE = 0x002;
export const WK_RIGHT_LOCK = 0x004;
export const WK_RIGHT_DELETE = 0x008;
export const WK_RIGHT_READ_ACL = 0x010;
export const WK_RIGHT_WRITE_ACL = 0x020;
export const WK_RIGHT_ATTACH_FILE = 0x040;
export const WK_RIGHT_GET_FILE = 0x080;
export const WK_RIGHT_ATTACH = 0x100;
/** Every right an object ACL may name. */
export const WK_RIGHTS_OBJECT_MASK = 0x0ff;
/** Every right an instance ACL may name. */
export const WK_RIGHTS_MASK = 0x1ff;

export const WK_ACE_ALLOW = 1;
export const WK_ACE_DENY = 2;

export const WK_WHO_OWNER = 1;
export const WK_WHO_USER = 2;
export const WK_WHO_GROUP = 3;
export const WK_WHO_EVERYONE = 4;

export interface AclEntry {
  /** WK_ACE_ALLOW or WK_ACE_DENY */
  type: number;
  /** WK_WHO_OWNER | WK_WHO_USER | WK_WHO_GROUP | WK_WHO_EVERYONE */
  who: number;
  /** uid (USER) or gid (GROUP); ignored (reported as 0) otherwise */
  id: number;
  /** WK_RIGHT_* bits */
  rights: number;
}

export interface Limits {
  maxObjects?: number;
  maxBytes?: number;
  maxObjectSize?: number;
  maxHandlesPerSession?: number;
}

export const WK_DEFAULT_LIMITS: Required<Limits> = {
  maxObjects: 4_194_304,
  maxBytes: 1024 * 1024 * 1024,
  maxObjectSize: 16 * 1024 * 1024,
  maxHandlesPerSession: 1_048_576,
};

/** Upper bounds a caller may ask for (larger is -EINVAL), as on the device. */
export const WK_LIMIT_BOUNDS: Required<Limits> = {
  maxObjects: 2 ** 31,
  maxBytes: 2 ** 40,
  maxObjectSize: 2 ** 31 - 1,
  maxHandlesPerSession: 2 ** 31 - 1,
};

export interface Credentials {
  uid: number;
  gid: number;
  /** supplementary group ids */
  groups: readonly number[];
  pid: number;
}

export type WkName = string | Uint8Array;

/** Out-parameter of create(): tells whether OPEN_EXISTING opened or created. */
export interface CreateInfo {
  created: boolean;
}

export interface ListResult {
  /** 0 on success, else a negative errno (-ERANGE: buf too small). */
  status: number;
  /** names (or namespaces) copied into buf; 0 on error */
  count: number;
  /** bytes all names from `start` on need (also set on -ERANGE) */
  bytesNeeded: number;
}

export interface ServerEvent {
  /** the server's new handle to the handed-over object */
  handle: number;
  /** session id of the session that ended */
  fromSession: number;
  /** its pid */
  fromPid: number;
}

/** Returned by lock() when the call has to wait: resolves to the lock result. */
export type LockResult = number | Promise<number>;

export interface Session {
  /** Session id within its instance (0 until attached). */
  readonly sessionId: number;
  readonly pid: number;

  // -- sessions and instances
  attach(kernid: WkName, flags: number, limits?: Limits): number;
  instanceSetacl(entries: readonly AclEntry[]): number;

  // -- objects
  /**
   * Creates `name` ("ns:name", or bare "ns" to have the name assigned) holding
   * `data`. Returns the handle. With WK_CREATE_OPEN_EXISTING, `info.created`
   * (when info is given) tells whether the object was created or opened.
   */
  create(name: WkName, data: Uint8Array | null, flags: number, info?: CreateInfo): number;
  open(name: WkName): number;
  close(handle: number): number;
  unlink(handle: number): number;
  namesize(handle: number): number;
  /** Copies the name NUL-terminated into buf; returns its length (no NUL). */
  getname(handle: number, buf: Uint8Array): number;
  size(handle: number): number;
  /** Copies from `offset` into buf; returns bytes copied. */
  getdata(handle: number, buf: Uint8Array, offset: number): number;
  /** Writes buf at offset; returns the new size. */
  setdata(handle: number, buf: Uint8Array, offset: number, flags: number): number;

  // -- locks
  /**
   * Takes a lock. timeoutNs: -1 infinite (default), 0 try, else relative ns.
   * Returns the result directly when it is known without waiting; otherwise a
   * Promise of it. `await session.lock(...)` works either way. A wait ends
   * with -EBADF when its handle is closed meanwhile, with -EINTR when the
   * session ends (and on the device also when a signal interrupts it).
   */
  lock(handle: number, flags: number, timeoutNs?: number): LockResult;
  /** Never waits, never allocates: lock with timeout 0. */
  tryLock(handle: number, flags: number): number;
  unlock(handle: number): number;

  // -- ACLs
  setacl(handle: number, entries: readonly AclEntry[]): number;
  getacl(handle: number): AclEntry[] | number;

  // -- native files
  attachNativeFile(handle: number, fd: number): number;
  /** Returns a new close-on-exec fd for the attached open file description. */
  getNativeFile(handle: number): number;

  // -- listing
  list(namespace: WkName, buf: Uint8Array, flags: number, start?: number): ListResult;

  // -- server
  registerServer(): number;
  /** Returns the queued events (at most max, default WK_READ_EVENTS_MAX). */
  readEvents(max?: number): ServerEvent[] | number;
  /**
   * Calls `listener` (asynchronously, coalesced) whenever events are queued,
   * including right away if some already are. Returns an unsubscribe function.
   */
  onEvents(listener: () => void): () => void;

  // -- end
  /**
   * Ends the session as a process death would: its locks are released as
   * abandoned, objects it created are handed to the registered server, its
   * handles are closed, its pending lock waits end with -EINTR. Idempotent.
   * Afterwards every call throws WkSessionClosedError.
   */
  end(): void;
  readonly ended: boolean;
}

export interface Backend {
  readonly kind: 'inprocess' | 'device';
  /**
   * Opens a session with the given credentials (default: this process's own).
   * The device captures the credentials of the opening thread, so a device
   * backend can honour other credentials only when running as root.
   */
  openSession(credentials?: Partial<Credentials>): Session;
}

// ---------------------------------------------------------------------------
// Programming errors

/** The primitives' own programming errors (each subclass has one code). */
export class WkError<Code extends string = string> extends WinekernelError<Code> {}

/** A session was used after end(). */
export class WkSessionClosedError extends WkError<'WK_SESSION_CLOSED'> {
  constructor() {
    super('WK_SESSION_CLOSED', 'winekernel session used after end()');
  }
}

/** A backend (or a native addon it needs) could not be loaded. */
export class WkBackendUnavailableError extends WkError<'WK_BACKEND_UNAVAILABLE'> {
  constructor(message: string) {
    super('WK_BACKEND_UNAVAILABLE', message);
  }
}

/** An argument had the wrong JS type (not a contract error). */
export class WkArgumentError extends WkError<'WK_BAD_ARGUMENT'> {
  constructor(message: string) {
    super('WK_BAD_ARGUMENT', message);
  }
}

/** The caller asked for credentials the backend cannot give a session. */
export class WkCredentialsError extends WkError<'WK_CREDENTIALS'> {
  constructor(message: string) {
    super('WK_CREDENTIALS', message);
  }
}

// ---------------------------------------------------------------------------
// Helpers shared by backends and callers

/** The credentials of this process. */
export function processCredentials(): Credentials {
  return {
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    groups: process.getgroups?.() ?? [],
    pid: process.pid,
  };
}

/** Reads the name of `handle` as bytes (without NUL) or returns -errno. */
export function readName(session: Session, handle: number): Buffer | number {
  const length = session.namesize(handle);
  if (length < 0) return length;
  const buf = Buffer.allocUnsafe(length + 1);
  const got = session.getname(handle, buf);
  if (got < 0) return got;
  return buf.subarray(0, got);
}

/** Splits a list() buffer into its names. */
export function parseNameList(buf: Uint8Array, count: number): Buffer[] {
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const names: Buffer[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const end = view.indexOf(0, at);
    if (end < 0) break;
    names.push(view.subarray(at, end));
    at = end + 1;
  }
  return names;
}
