// dup/close of real file descriptors for backends that keep native files
// themselves (the in-process backend). Node has no dup(), so this comes from a
// native addon: native/build/Release/winekernel_fd.node (the proxy's fd
// addon) or, when that one is not built, the device addon, which exports the
// same two functions (as dupFd/closeFd). Both are loaded lazily, on first use.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { WK_EBADF, WkBackendUnavailableError } from './primitives.js';

/** Both functions return a non-negative result or a negative errno. */
export interface NativeFdOps {
  /** A new close-on-exec fd for the same open file description. */
  dup(fd: number): number;
  close(fd: number): number;
}

const nativeBuildDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'native', 'build', 'Release');
const requireAddon = createRequire(import.meta.url);

interface RawFdAddon {
  dup(fd: number): unknown;
  close(fd: number): unknown;
}

function errnoFromException(error: unknown): number {
  const errno = (error as { errno?: unknown }).errno;
  if (typeof errno === 'number') return errno < 0 ? errno : -errno;
  return -WK_EBADF;
}

// The addons may report failure by returning -errno or by throwing an
// exception carrying errno; this adapter turns both into -errno.
function adapt(addon: RawFdAddon): NativeFdOps {
  return {
    dup(fd) {
      try {
        const result = addon.dup(fd);
        return typeof result === 'number' ? result : -WK_EBADF;
      } catch (error) {
        return errnoFromException(error);
      }
    },
    close(fd) {
      try {
        const result = addon.close(fd);
        return typeof result === 'number' ? result : 0;
      } catch (error) {
        return errnoFromException(error);
      }
    },
  };
}

let loaded: NativeFdOps | null = null;

/** Loads the fd functions from the first addon that provides them; throws WkBackendUnavailableError otherwise. */
export function loadNativeFdOps(): NativeFdOps {
  if (loaded) return loaded;
  const failures: string[] = [];
  // the fd addon calls them dup/close; the device addon dupFd/closeFd (its
  // close() closes handles)
  const candidates = [
    { file: 'winekernel_fd.node', dup: 'dup', close: 'close' },
    { file: 'winekernel_device.node', dup: 'dupFd', close: 'closeFd' },
  ];
  for (const { file, dup, close } of candidates) {
    const full = path.join(nativeBuildDir, file);
    try {
      const addon = requireAddon(full) as Record<string, unknown>;
      if (typeof addon[dup] === 'function' && typeof addon[close] === 'function') {
        loaded = adapt({ dup: addon[dup] as RawFdAddon['dup'], close: addon[close] as RawFdAddon['close'] });
        return loaded;
      }
      failures.push(`${file}: exports no dup/close`);
    } catch (error) {
      failures.push(`${file}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new WkBackendUnavailableError(
    `no native addon provides dup/close (build it: npx node-gyp rebuild --directory=native): ${failures.join('; ')}`,
  );
}

/** Lazily bound ops: the addon is loaded on the first dup/close, not before. */
export const lazyNativeFdOps: NativeFdOps = {
  dup: (fd) => loadNativeFdOps().dup(fd),
  close: (fd) => loadNativeFdOps().close(fd),
};
