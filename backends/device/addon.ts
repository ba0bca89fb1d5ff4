// Loading and typing of native/build/Release/winekernel_device.node
// (native/src/device_addon.c).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { WkBackendUnavailableError, type AclEntry, type ServerEvent } from '../primitives.js';

/** The addon's calls; all results are >= 0 or -errno (see device_addon.c). */
export interface DeviceAddon {
  sessionOpen(uid: number, gid: number, groups: readonly number[] | null): number;
  sessionClose(slot: number): number;
  sessionId(slot: number): number;
  setScratch(scratch: Float64Array): void;
  attach(slot: number, kernid: string | Uint8Array, flags: number, limits: Float64Array | null): number;
  instanceSetacl(slot: number, entries: readonly AclEntry[]): number;
  create(slot: number, name: string | Uint8Array, data: Uint8Array | null, flags: number): number;
  open(slot: number, name: string | Uint8Array): number;
  close(slot: number, handle: number): number;
  unlink(slot: number, handle: number): number;
  namesize(slot: number, handle: number): number;
  getname(slot: number, handle: number, buf: Uint8Array): number;
  size(slot: number, handle: number): number;
  getdata(slot: number, handle: number, buf: Uint8Array, offset: number): number;
  setdata(slot: number, handle: number, buf: Uint8Array, offset: number, flags: number): number;
  lock(slot: number, handle: number, flags: number, timeoutNs: number): number;
  lockWait(slot: number, handle: number, flags: number, timeoutNs: number): Promise<number> | number;
  unlock(slot: number, handle: number): number;
  setacl(slot: number, handle: number, entries: readonly AclEntry[]): number;
  getacl(slot: number, handle: number): AclEntry[] | number;
  attachFile(slot: number, handle: number, fd: number): number;
  getFile(slot: number, handle: number): number;
  list(slot: number, namespace: string | Uint8Array | null, buf: Uint8Array, flags: number, start: number): number;
  registerServer(slot: number): number;
  readEvents(slot: number, max: number): ServerEvent[] | number;
  watch(slot: number, callback: () => void): number;
  unwatch(slot: number): number;
  nop(slot: number): number;
  noop(slot: number): number;
  stats(slot: number): Record<string, number> | number;
  dupFd(fd: number): number;
  closeFd(fd: number): number;
}

export const SCRATCH_CREATED = 0;
export const SCRATCH_BYTES_NEEDED = 1;

export const deviceAddonPath = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'native',
  'build',
  'Release',
  'winekernel_device.node',
);

let loaded: { addon: DeviceAddon; scratch: Float64Array } | null = null;

export function loadDeviceAddon(): { addon: DeviceAddon; scratch: Float64Array } {
  if (loaded) return loaded;
  let addon: DeviceAddon;
  try {
    addon = createRequire(import.meta.url)(deviceAddonPath) as DeviceAddon;
  } catch (error) {
    throw new WkBackendUnavailableError(
      `cannot load ${deviceAddonPath} (build it: npx node-gyp rebuild --directory=native): ${(error as Error).message}`,
    );
  }
  const scratch = new Float64Array(2);
  addon.setScratch(scratch);
  loaded = { addon, scratch };
  return loaded;
}
