// Registry names as wineserver compares them: UTF-16 units folded one by one
// through Wine's case map (mappings/casemap.ts), compared over the shorter
// length and then by length. Subkeys and values are kept sorted in exactly
// this order, which is the order enum_key and enum_key_value report.

import { foldedNameBytes, wineCaseMap, type CaseMap } from '../casemap.ts';

/** wineserver's ordering of two UTF-16LE names (negative, 0, positive). */
export function compareNames(a: Buffer, b: Buffer, map: CaseMap = wineCaseMap()): number {
  const len = Math.min(a.length, b.length) & ~1;
  for (let i = 0; i < len; i += 2) {
    const x = a[i] | (a[i + 1] << 8);
    const y = b[i] | (b[i + 1] << 8);
    if (x === y) continue;
    const d = map.lower(x) - map.lower(y);
    if (d) return d;
  }
  return a.length - b.length;
}

/**
 * Binary search in a sorted list: the index of the entry named `name`, or
 * -(insertion point) - 1 when there is none.
 */
export function searchSorted<T>(list: readonly T[], name: Buffer, nameOf: (item: T) => Buffer, map: CaseMap = wineCaseMap()): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const res = compareNames(nameOf(list[mid]), name, map);
    if (res === 0) return mid;
    if (res > 0) hi = mid - 1;
    else lo = mid + 1;
  }
  return -lo - 1;
}

/**
 * The folded form of a name as bytes fit for a primitive object name: each
 * folded unit as in UTF-8 (lone surrogates as three bytes), U+0000 as C0 80
 * (names cannot hold NUL). A key name has at most 256 units, so at most 768
 * bytes. `prefix` (ASCII) is written first.
 */
export function foldedKey(name: Buffer, map: CaseMap = wineCaseMap(), prefix = ''): Buffer {
  return foldedNameBytes(name, map, prefix);
}

let foldUnits = new Uint16Array(256);
let foldBytes = Buffer.from(foldUnits.buffer);

/**
 * The folded form of a name (or of bytes `start` to `end` of it) as a string
 * of its folded units: a map key for names compared as wineserver does.
 * (Built in a scratch array and converted once: a flat string hashes faster
 * than one grown a character at a time.)
 */
export function foldedString(name: Buffer, map: CaseMap = wineCaseMap(), start = 0, end = name.length): string {
  const units = (end - start) >> 1;
  if (units > foldUnits.length) {
    foldUnits = new Uint16Array(units);
    foldBytes = Buffer.from(foldUnits.buffer);
  }
  for (let i = 0, at = start; i < units; i++, at += 2) foldUnits[i] = map.lower(name[at] | (name[at + 1] << 8));
  return foldBytes.toString('utf16le', 0, units * 2);
}

/** Whether two names are equal as wineserver compares them. */
export function sameName(a: Buffer, b: Buffer, map: CaseMap = wineCaseMap()): boolean {
  return a.length === b.length && compareNames(a, b, map) === 0;
}

export const utf16 = (s: string): Buffer => Buffer.from(s, 'utf16le');

/** The units of `name` (from byte `start` on) up to, not including, the first backslash, in bytes. */
export function pathElementLength(name: Buffer, start = 0): number {
  for (let i = start; i + 1 < name.length; i += 2) if (name[i] === 0x5c && name[i + 1] === 0) return i - start;
  return (name.length - start) & ~1;
}
