// The in-process backend: the primitives as plain TypeScript data structures.
// Instances live in the backend object, so every session opened from one
// backend sees the same instances (as every process sees the one kernel).
import { lazyNativeFdOps, type NativeFdOps } from '../native-fd.js';
import { processCredentials, WkArgumentError, type Backend, type Credentials } from '../primitives.js';
import type { Instance } from './instance.js';
import { InProcessSession, type BackendState } from './session.js';

export interface InProcessBackendOptions {
  /** dup/close of real fds for native files (default: loaded from the native addons on first use) */
  fd?: NativeFdOps;
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

export class InProcessBackend implements Backend {
  readonly kind = 'inprocess' as const;
  private readonly state: BackendState;

  constructor(options: InProcessBackendOptions = {}) {
    this.state = { instances: new Map<string, Instance>(), fd: options.fd ?? lazyNativeFdOps };
  }

  openSession(credentials: Partial<Credentials> = {}): InProcessSession {
    const own = processCredentials();
    const full: Credentials = {
      uid: credentials.uid ?? own.uid,
      gid: credentials.gid ?? own.gid,
      // naming another uid/gid without groups means no supplementary groups
      groups: Object.freeze([
        ...(credentials.groups ?? (credentials.uid !== undefined || credentials.gid !== undefined ? [] : own.groups)),
      ]),
      pid: credentials.pid ?? own.pid,
    };
    if (!isId(full.uid) || !isId(full.gid) || !isId(full.pid) || !full.groups.every(isId)) {
      throw new WkArgumentError(`invalid credentials ${JSON.stringify(credentials)}`);
    }
    return new InProcessSession(this.state, full);
  }

  /** Number of live instances (for leak checks in tests). */
  get instanceCount(): number {
    return this.state.instances.size;
  }
}

export function createInProcessBackend(options?: InProcessBackendOptions): InProcessBackend {
  return new InProcessBackend(options);
}
