// Starting a translated registry the way wineserver's init_registry does:
// \REGISTRY, then Machine loaded from system.reg, User\.Default from
// userdef.reg and the current user's key (Wine's fixed local user SID,
// S-1-5-21-0-0-0-1000) from user.reg; then the two keys wineserver marks
// itself (Software\Classes\Wow6432Node shared between the views in a 64-bit
// prefix, and the predefined Perflib\009). And saving the three hives back.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { KEY_FLAG } from './record.ts';
import { utf16 } from './names.ts';
import { createKeyRecursive, loadRegFile, saveRegFile, type LoadResult } from './reg-file.ts';
import type { Arch, RegistryStore, RegistryTx } from './store.ts';

/** The current user's key, as wineserver names it for its local user SID. */
export const CURRENT_USER_PATH = 'User\\S-1-5-21-0-0-0-1000';

/** The three hives wineserver loads from a prefix, and where each goes. */
export const PREFIX_HIVES = [
  { file: 'system.reg', path: 'Machine' },
  { file: 'userdef.reg', path: 'User\\.Default' },
  { file: 'user.reg', path: CURRENT_USER_PATH },
] as const;

export interface HiveTexts {
  /** File contents by file name (system.reg, userdef.reg, user.reg); a missing one is a missing file. */
  [file: string]: Buffer | undefined;
}

export interface InitResult {
  arch: Arch;
  loads: Record<string, LoadResult | 'missing'>;
}

/**
 * Builds the registry of an instance from the texts of a prefix's hive files
 * (what wineserver does at start). `wineArch` plays the part of $WINEARCH
 * when system.reg is missing.
 */
export async function initRegistry(store: RegistryStore, hives: HiveTexts, wineArch?: string): Promise<InitResult> {
  const loads: InitResult['loads'] = {};
  let arch: Arch = 'unknown';
  await store.run('write', (tx) => {
    for (const hive of PREFIX_HIVES) {
      const base = createKeyRecursive(tx, tx.rootId, utf16(hive.path), tx.now);
      const text = hives[hive.file];
      if (!text) {
        loads[hive.file] = 'missing';
        if (hive.file === 'system.reg') arch = wineArch === 'win32' ? 'win32' : 'win64';
        continue;
      }
      const result = loadRegFile(tx, base, text, 0, arch);
      loads[hive.file] = result;
      if (hive.file === 'system.reg') arch = result.arch ?? (arch === 'unknown' ? 'win32' : arch);
      else if (result.arch && arch === 'unknown') arch = result.arch;
    }
    const machine = createKeyRecursive(tx, tx.rootId, utf16('Machine'), tx.now);
    if (arch === 'win64') {
      const share = createKeyRecursive(tx, machine, utf16('Software\\Classes\\Wow6432Node'), tx.now);
      if (share) tx.setFlags(share, tx.header(share).flags | KEY_FLAG.WOWSHARE);
    }
    const perflib = createKeyRecursive(tx, machine, utf16('Software\\Microsoft\\Windows NT\\CurrentVersion\\Perflib\\009'), tx.now);
    if (perflib) tx.setFlags(perflib, tx.header(perflib).flags | KEY_FLAG.PREDEF);
  });
  store.setArch(arch);
  return { arch, loads };
}

/** How wineserver names a hive's key in the header of its file: `REGISTRY\\Machine`, escaped as dump_path does. */
function hiveHeaderPath(hivePath: string): string {
  return `REGISTRY\\${hivePath}`.replaceAll('\\', '\\\\');
}

/** The architecture a prefix's system.reg declares (`#arch=`), or undefined when it declares none. */
function declaredArch(systemReg: string): Arch | undefined {
  const fd = fs.openSync(systemReg, 'r');
  try {
    const head = Buffer.alloc(512);
    const text = head.subarray(0, fs.readSync(fd, head, 0, head.length, 0)).toString('latin1');
    const match = /^#arch=(win32|win64)$/m.exec(text);
    return match ? (match[1] as Arch) : undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Makes each hive file the prefix lacks, holding only the header wineserver
 * writes (the format line, the hive's key, the prefix's `#arch`) and no key,
 * and returns the files made. wineserver loads such a file exactly as a
 * missing one: no keys, and for system.reg the architecture it would have
 * taken from $WINEARCH (win32, else win64) — the rule `initRegistry` follows
 * too; the other hives take system.reg's. The proxy needs the files to exist
 * before wineserver starts, so that wineserver's saves of them can be turned
 * away from the prefix (proxy/legacy-wineserver.ts shadowFiles): a file it
 * found missing it would create with a rename, over whatever the proxy saved.
 */
export function createMissingHives(prefix: string, wineArch = process.env.WINEARCH): string[] {
  const systemReg = path.join(prefix, 'system.reg');
  const arch: Arch | undefined = fs.existsSync(systemReg) ? declaredArch(systemReg) : wineArch === 'win32' ? 'win32' : 'win64';
  const made: string[] = [];
  for (const hive of PREFIX_HIVES) {
    const file = path.join(prefix, hive.file);
    const text = `WINE REGISTRY Version 2\n;; All keys relative to ${hiveHeaderPath(hive.path)}\n${arch ? `\n#arch=${arch}\n` : ''}`;
    try {
      // 'wx': a file that appeared meanwhile (another wine on the prefix) is left alone.
      fs.writeFileSync(file, text, { flag: 'wx', mode: 0o666 });
      made.push(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return made;
}

/** Reads a prefix's hive files and initialises the registry from them. */
export async function initRegistryFromPrefix(store: RegistryStore, prefix: string): Promise<InitResult> {
  const hives: HiveTexts = {};
  for (const hive of PREFIX_HIVES) {
    try {
      hives[hive.file] = fs.readFileSync(path.join(prefix, hive.file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return initRegistry(store, hives, process.env.WINEARCH);
}

function hiveKey(tx: RegistryTx, hivePath: string): number {
  let at = tx.rootId;
  for (const elem of hivePath.split('\\')) {
    at = tx.findSubkey(at, utf16(elem));
    if (!at) return 0;
  }
  return at;
}

/** The texts wineserver would save for the three hives now. */
export async function saveHives(store: RegistryStore): Promise<Record<string, Buffer>> {
  const arch = store.info().arch;
  return store.run('read', (tx) => {
    const out: Record<string, Buffer> = {};
    for (const hive of PREFIX_HIVES) {
      const id = hiveKey(tx, hive.path);
      if (id) out[hive.file] = saveRegFile(tx, id, arch);
    }
    return out;
  });
}

/**
 * Writes the hives into a prefix as wineserver's save_branch does: a
 * temporary file in the same directory renamed over the old one (or, when
 * the target is not a plain single-link file, written in place).
 *
 * `inPlace`: always write into the existing file (kept complete in a
 * temporary file beside it until then). The proxy does so while wineserver
 * runs with private copies of the hives bind-mounted over them in its mount
 * namespace (proxy/legacy-wineserver.ts shadowFiles): a rename over the
 * file would detach those mounts and let wineserver write its stale copy
 * over the prefix's.
 */
export async function saveHivesToPrefix(store: RegistryStore, prefix: string, options: { inPlace?: boolean } = {}): Promise<string[]> {
  const texts = await saveHives(store);
  const written: string[] = [];
  for (const [file, text] of Object.entries(texts)) {
    const target = path.join(prefix, file);
    let inPlace = false;
    try {
      const st = fs.lstatSync(target);
      inPlace = !st.isFile() || st.nlink > 1;
    } catch {
      inPlace = false;
    }
    const tmp = path.join(prefix, `reg${process.pid.toString(16)}${Date.now().toString(16)}.tmp`);
    if (inPlace) fs.writeFileSync(target, text);
    else if (options.inPlace && fs.existsSync(target)) {
      // A complete copy first: if the proxy dies while the target is half written, the copy remains.
      fs.writeFileSync(tmp, text, { mode: 0o666 });
      fs.writeFileSync(target, text);
      fs.unlinkSync(tmp);
    } else {
      fs.writeFileSync(tmp, text, { mode: 0o666 });
      fs.renameSync(tmp, target);
    }
    written.push(target);
  }
  return written;
}
