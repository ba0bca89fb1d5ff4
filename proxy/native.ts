// Typed loader of the winekernel_fd native addon (native/src/fd_addon.c).
// Node cannot pass descriptors over arbitrary unix sockets nor watch raw
// descriptors, and the proxy needs both; everything else stays in JS.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { WinekernelError } from '../errors/winekernel-error.ts';

export interface FdMessage {
  /** Bytes that travelled with the descriptor; empty means end of stream. */
  data: Buffer;
  /** The received descriptor (ours now), or -1 when none came. */
  fd: number;
  /** Descriptors beyond the first in the same message (already closed). */
  extraFds: number;
  /** The kernel truncated data or control information. */
  truncated: boolean;
}

export interface FdInfo {
  type: 'fifo' | 'socket' | 'file' | 'directory' | 'char' | 'block' | 'other';
  access: 'r' | 'w' | 'rw';
  nonBlocking: boolean;
  cloexec: boolean;
  dev: number;
  ino: number;
}

export interface NativeWatcher {
  /** Event mask: READABLE | WRITABLE | DISCONNECT; 0 stops watching. */
  start(events: number): void;
  stop(): void;
  /** Unregisters the descriptor at once; the descriptor stays open. */
  close(): void;
  ref(on: boolean): void;
}

export interface FdAddon {
  sendFd(sock: number, fd: number, data: Buffer): number | null;
  recvFd(sock: number): FdMessage | null;
  socketpair(): [number, number];
  pipe(): [number, number];
  dup(fd: number): number;
  close(fd: number): void;
  setNonBlocking(fd: number, on?: boolean): void;
  fdInfo(fd: number): FdInfo;
  read(fd: number, buffer: Buffer, offset: number, length: number): number | null;
  write(fd: number, buffer: Buffer, offset: number, length: number): number | null;
  connectUnix(path: string): number | null;
  listenUnix(path: string, backlog: number): number;
  accept(fd: number): number | null;
  lockFile(fd: number): boolean;
  clearCloexec(fd: number): void;
  /** clock_gettime(clockId) in nanoseconds (CLOCK_MONOTONIC_RAW: 4, the clock Wine's wait deadlines count on). */
  clockGettime(clockId: number): bigint;
  Watcher: new (fd: number, callback: (status: number, events: number) => void) => NativeWatcher;
}

export const READABLE = 1;
/** Linux clock ids for clockGettime. */
export const CLOCK_MONOTONIC = 1;
export const CLOCK_MONOTONIC_RAW = 4;
export const WRITABLE = 2;
export const DISCONNECT = 4;

/** The addon has not been built (`npm run build:native`). */
export class NativeAddonMissingError extends WinekernelError<'NATIVE_ADDON_MISSING'> {
  constructor(searched: string[], cause?: unknown) {
    super(
      'NATIVE_ADDON_MISSING',
      `the winekernel_fd native addon is not built (looked in ${searched.join(', ')}); run \`npm run build:native\``,
      { cause },
    );
  }
}

/** errno-carrying error thrown by the addon. */
export interface ErrnoError extends Error {
  code: string;
  errno: number;
}

export function isErrno(error: unknown, ...codes: string[]): error is ErrnoError {
  return error instanceof Error && typeof (error as ErrnoError).code === 'string' && codes.includes((error as ErrnoError).code);
}

function load(): FdAddon {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.join(here, '..', 'native', 'build', 'Release', 'winekernel_fd.node'),
    path.join(here, '..', 'native', 'build', 'Debug', 'winekernel_fd.node'),
  ];
  const require = createRequire(import.meta.url);
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue;
    try {
      return require(candidate) as FdAddon;
    } catch (error) {
      throw new NativeAddonMissingError([candidate], error);
    }
  }
  throw new NativeAddonMissingError(candidates);
}

export const fdAddon: FdAddon = load();
