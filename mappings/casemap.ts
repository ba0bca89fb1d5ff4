// Wine's case folding for object names. wineserver compares names (atoms,
// object directory entries, registry keys) one UTF-16 unit at a time through
// the lowercase table of Wine's l_intl.nls; to answer exactly as it does, the
// translators fold with the same table, read from the installed Wine.
//
// l_intl.nls is an array of little-endian u16 words: word 0 is the offset (in
// words) of the uppercase table's length word; after the uppercase table
// comes the lowercase table's length word (counting itself), then the table.
// The table is a three-level trie: level 1 indexed by the high byte, level 2
// by the next nibble, level 3 by the low nibble, giving a delta added (mod
// 2^16) to the code unit.

import { readFileSync } from 'node:fs';
import { WinekernelError } from '../errors/winekernel-error.ts';

export class CaseMapError extends WinekernelError<'WK_CASEMAP_UNAVAILABLE'> {
  constructor(message: string) {
    super('WK_CASEMAP_UNAVAILABLE', message);
  }
}

/** Where Debian's and upstream's Wine keep their NLS files. */
export const NLS_SEARCH_PATH = ['/usr/share/wine/nls', '/usr/local/share/wine/nls', '/opt/wine/share/wine/nls'];

export interface CaseMap {
  /** Where the table came from. */
  readonly source: string;
  /** Lowercases one UTF-16 code unit. */
  lower(unit: number): number;
}

function parseLowercaseTable(file: Buffer, source: string): Uint16Array {
  const words = file.length >> 1;
  const word = (index: number): number => {
    if (index < 0 || index >= words) throw new CaseMapError(`${source}: truncated (word ${index} of ${words})`);
    return file.readUInt16LE(index * 2);
  };
  let offset = word(0);
  if (!offset) throw new CaseMapError(`${source}: no table offset`);
  const upperLength = word(offset);
  if (!upperLength) throw new CaseMapError(`${source}: empty uppercase table`);
  offset += upperLength;
  const lowerLength = word(offset);
  if (lowerLength < 2) throw new CaseMapError(`${source}: empty lowercase table`);
  const start = offset + 1;
  const count = lowerLength - 1;
  if (start + count > words) throw new CaseMapError(`${source}: lowercase table runs past the end`);
  const table = new Uint16Array(count);
  for (let i = 0; i < count; i++) table[i] = file.readUInt16LE((start + i) * 2);
  return table;
}

/** Reads the lowercase table from an l_intl.nls file. */
export function loadCaseMapFile(path: string): CaseMap {
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch (error) {
    throw new CaseMapError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const table = parseLowercaseTable(file, path);
  const at = (index: number): number => {
    const value = table[index];
    if (value === undefined) throw new CaseMapError(`${path}: index ${index} outside the lowercase table`);
    return value;
  };
  // Fold every unit once up front: lookups are then one array read, and a
  // malformed table fails here rather than in the middle of a request.
  const folded = new Uint16Array(0x10000);
  for (let unit = 0; unit < 0x10000; unit++) {
    const level2 = at(unit >> 8) + ((unit >> 4) & 0xf);
    const delta = at(at(level2) + (unit & 0xf));
    folded[unit] = (unit + delta) & 0xffff;
  }
  return { source: path, lower: (unit) => folded[unit & 0xffff] };
}

let cached: CaseMap | undefined;

/**
 * Wine's case map, from the first l_intl.nls on NLS_SEARCH_PATH (or
 * $WINEKERNEL_NLS_DIR). Throws CaseMapError when none is installed: folding
 * with another table would give answers wineserver does not give.
 */
export function wineCaseMap(): CaseMap {
  if (cached) return cached;
  const dirs = process.env.WINEKERNEL_NLS_DIR ? [process.env.WINEKERNEL_NLS_DIR, ...NLS_SEARCH_PATH] : NLS_SEARCH_PATH;
  const problems: string[] = [];
  for (const dir of dirs) {
    try {
      cached = loadCaseMapFile(`${dir}/l_intl.nls`);
      return cached;
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  throw new CaseMapError(`Wine's l_intl.nls was not found (install wine): ${problems.join('; ')}`);
}

/** Lowercases a UTF-16 string unit by unit, as wineserver compares names. */
export function foldName(name: string, map: CaseMap = wineCaseMap()): string {
  let out = '';
  for (let i = 0; i < name.length; i++) out += String.fromCharCode(map.lower(name.charCodeAt(i)));
  return out;
}

/**
 * UTF-16 code units (optionally case-folded) as name bytes for the
 * primitives: each unit in modified UTF-8 (a NUL unit as 0xc0 0x80, since
 * primitive names cannot hold NUL; lone surrogates encoded as they are), so
 * distinct unit sequences give distinct names and byte order follows unit
 * order. `prefix` (ASCII, e.g. `atom:`) is written first.
 */
export function unitsToNameBytes(unitCount: number, unitAt: (i: number) => number, prefix = ''): Buffer {
  const out = Buffer.allocUnsafe(prefix.length + unitCount * 3);
  let at = out.write(prefix, 0, 'latin1');
  for (let i = 0; i < unitCount; i++) {
    const unit = unitAt(i);
    if (unit === 0) {
      out[at++] = 0xc0;
      out[at++] = 0x80;
    } else if (unit < 0x80) {
      out[at++] = unit;
    } else if (unit < 0x800) {
      out[at++] = 0xc0 | (unit >> 6);
      out[at++] = 0x80 | (unit & 0x3f);
    } else {
      out[at++] = 0xe0 | (unit >> 12);
      out[at++] = 0x80 | ((unit >> 6) & 0x3f);
      out[at++] = 0x80 | (unit & 0x3f);
    }
  }
  return out.subarray(0, at);
}

/** A UTF-16LE name, case-folded as wineserver compares names, as name bytes (see unitsToNameBytes). */
export function foldedNameBytes(name: Buffer, map: CaseMap = wineCaseMap(), prefix = ''): Buffer {
  return unitsToNameBytes(name.length >> 1, (i) => map.lower(name.readUInt16LE(i * 2)), prefix);
}
