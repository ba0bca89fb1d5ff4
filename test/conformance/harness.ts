// Shared setup of the conformance suite. One suite checks every backend
// against docs/primitives.md; WINEKERNEL_BACKEND picks which one
// (inprocess, the default, or device). Asking for the device where
// /dev/winekernel does not exist fails every test loudly: it never skips.
import { existsSync } from 'node:fs';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { afterEach } from 'vitest';
import {
  WK_ACE_ALLOW,
  WK_ATTACH_CREATE,
  WK_RIGHT_ATTACH,
  WK_WHO_EVERYONE,
  processCredentials,
  type Backend,
  type Credentials,
  type Limits,
  type Session,
} from '../../backends/primitives.js';

export type BackendKind = 'inprocess' | 'device';

export const backendKind: BackendKind = (() => {
  const requested = process.env.WINEKERNEL_BACKEND ?? 'inprocess';
  if (requested !== 'inprocess' && requested !== 'device') {
    throw new Error(`WINEKERNEL_BACKEND must be inprocess or device, not ${JSON.stringify(requested)}`);
  }
  return requested;
})();

export const onDevice = backendKind === 'device';

let backendPromise: Promise<Backend> | null = null;

/** The backend under test (one per test file, like one kernel per machine). */
export function getBackend(): Promise<Backend> {
  backendPromise ??= (async () => {
    if (backendKind === 'device') {
      if (!existsSync('/dev/winekernel')) {
        throw new Error(
          'WINEKERNEL_BACKEND=device but /dev/winekernel does not exist: load kernel/winekernel.ko ' +
            '(run the suite in the VM: vm/run.sh -- env WINEKERNEL_BACKEND=device node node_modules/vitest/vitest.mjs run test/conformance)',
        );
      }
      const { createDeviceBackend } = await import('../../backends/device/index.js');
      return createDeviceBackend();
    }
    const { createInProcessBackend } = await import('../../backends/inprocess/index.js');
    return createInProcessBackend();
  })();
  return backendPromise;
}

// Every session a test opens is ended after it, so tests never leak state
// into each other (and on the device, never leak kernel memory).
const openSessions: Session[] = [];
afterEach(() => {
  for (const session of openSessions.splice(0)) session.end();
});

/** Opens a session (default: this process's credentials) that ends after the test. */
export async function openSession(credentials?: Partial<Credentials>): Promise<Session> {
  const session = (await getBackend()).openSession(credentials);
  openSessions.push(session);
  return session;
}

let kernidCounter = 0;
/** A fresh instance name, unique across test files running in parallel. */
export function freshKernid(): string {
  return `conf-${process.pid}-${++kernidCounter}`;
}

export const me = processCredentials();

/** Other users for ACL tests (never this process's own uid/gid). */
export const alice: Partial<Credentials> = { uid: 41001, gid: 41001, groups: [42000] };
export const bob: Partial<Credentials> = { uid: 41002, gid: 41002, groups: [] };

/** A session attached to a new instance, plus a way to join it as someone else. */
export async function freshInstance(limits?: Limits): Promise<{
  kernid: string;
  s: Session;
  join: (credentials?: Partial<Credentials>) => Promise<Session>;
}> {
  const kernid = freshKernid();
  const s = await openSession();
  const created = s.attach(kernid, WK_ATTACH_CREATE, limits);
  if (created !== 1) throw new Error(`attach(${kernid}, CREATE) returned ${created}, expected 1`);
  let opened = false;
  const join = async (credentials?: Partial<Credentials>) => {
    if (credentials !== undefined && !opened) {
      // others may attach only if the instance ACL lets them
      const result = s.instanceSetacl([{ type: WK_ACE_ALLOW, who: WK_WHO_EVERYONE, id: 0, rights: WK_RIGHT_ATTACH }]);
      if (result !== 0) throw new Error(`instanceSetacl returned ${result}`);
      opened = true;
    }
    const other = await openSession(credentials);
    const result = other.attach(kernid, 0);
    if (result !== 0) throw new Error(`attach(${kernid}) as ${JSON.stringify(credentials)} returned ${result}`);
    return other;
  };
  return { kernid, s, join };
}

export function bytes(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/** Reads an object's whole data (or returns -errno). */
export function readAll(session: Session, handle: number): Buffer | number {
  const size = session.size(handle);
  if (size < 0) return size;
  const buf = Buffer.alloc(size);
  const got = session.getdata(handle, buf, 0);
  if (got < 0) return got;
  return buf.subarray(0, got);
}

/** Timeout for tests that start peer processes (a node+tsx start-up each; slow in an emulated VM). */
export const PEER_TEST_TIMEOUT = 240_000;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Settles within `ms`? Returns the value or the string 'pending'. */
export async function settledWithin<T>(promise: T | Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
  });
  try {
    return await Promise.race([Promise.resolve(promise), pending]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------
// Peer processes: another process with its own session, driven over IPC.
// Used where a test needs a real second process (SIGKILL, another uid).

const peerScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'peer-child.ts');

export interface Peer {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Runs `method(...args)` on the peer's session; resolves to its result. */
  call(method: string, ...args: unknown[]): Promise<unknown>;
  /** Runs one of the peer's scripted operations (see peer-child.ts). */
  run(op: string, args?: Record<string, unknown>): Promise<unknown>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const livePeers: ChildProcess[] = [];
afterEach(() => {
  for (const child of livePeers.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/**
 * Forks a peer process (same backend kind). With credentials, the peer drops
 * to them (setgroups/setgid/setuid) before opening its session.
 */
export async function startPeer(credentials?: Partial<Credentials>): Promise<Peer> {
  const child = fork(peerScript, [], {
    execArgv: ['--import', 'tsx'],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, WINEKERNEL_BACKEND: backendKind },
  });
  livePeers.push(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  let nextId = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (message: { id: number; result?: unknown; error?: string }) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error !== undefined) waiter.reject(new Error(`peer: ${message.error}`));
    else waiter.resolve(message.result);
  });
  void exited.then(({ code, signal }) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`peer exited (code ${code}, signal ${signal})`));
    pending.clear();
  });
  const send = (payload: Record<string, unknown>) =>
    new Promise<unknown>((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve, reject });
      child.send({ id, ...payload });
    });
  const peer: Peer = {
    child,
    pid: child.pid!,
    call: (method, ...args) => send({ op: 'call', method, args }),
    run: (op, args = {}) => send({ op, ...args }),
    exited,
  };
  await peer.run('start', { credentials: credentials ?? null });
  return peer;
}
