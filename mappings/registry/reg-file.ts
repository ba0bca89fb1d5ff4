// wineserver's registry text format ("WINE REGISTRY Version 2"): the loader
// and the saver, so the translated registry can start from a prefix's
// system.reg / userdef.reg / user.reg and write them back for plain Wine.
// Facts from reading server/registry.c (load_keys, load_key, load_value,
// save_subkeys, dump_value) and server/unicode.c (parse_strW, dump_strW);
// the code is our own.
//
// The format, as wineserver writes it:
//   WINE REGISTRY Version 2
//   ;; All keys relative to REGISTRY\\Machine
//   <blank>
//   #arch=win64
//   <blank>
//   [Software\\Wine] 1700000000        seconds since 1970 of the last write
//   #time=1da0123456789ab               the same time, exactly (100 ns since 1601)
//   #class="..."                        only for keys with a class
//   #link                               only for symbolic-link keys
//   "Name"="text"                       REG_SZ, with its terminating NUL implied
//   @="text"                            the default value
//   "N"=str(2):"..." / str(7):"..."     REG_EXPAND_SZ / REG_MULTI_SZ (\0 between strings)
//   "N"=dword:0000002a                  a 4-byte REG_DWORD
//   "N"=hex:01,02,...                   REG_BINARY; hex(<type>): for other types and
//                                        strings that are not NUL-terminated; lines
//                                        break with "\" after about 76 columns
// Strings escape '\', the quote and non-ASCII (\x<hex>, 4 digits when a hex
// digit follows), control characters (\n, \t, ... or octal).
// A key is written when it has values, a class, is a link or has no
// subkeys; volatile keys and their subtrees are never written.

import { KEY_FLAG } from './record.ts';
import { compareNames, pathElementLength } from './names.ts';
import * as S from './status.ts';
import { OBJ_OPENIF, TICKS_1601_TO_1970, TICKS_PER_SEC, type Arch, type RegistryTx } from './store.ts';
import { WinekernelError } from '../../errors/winekernel-error.ts';

const HEADER = 'WINE REGISTRY Version 2';

export class RegFileError extends WinekernelError<'WK_REG_FILE'> {
  constructor(message: string) {
    super('WK_REG_FILE', message);
  }
}

const REG_SZ = 1;
const REG_EXPAND_SZ = 2;
const REG_BINARY = 3;
const REG_DWORD = 4;
const REG_MULTI_SZ = 7;

// ---------------------------------------------------------------------------
// Strings (parse_strW / dump_strW)

const UTF8_LENGTH = (ch: number): number => (ch < 0xc0 ? 0 : ch < 0xe0 ? 1 : ch < 0xf0 ? 2 : 3);
const UTF8_MASK = [0x7f, 0x1f, 0x0f, 0x07];
const UTF8_MIN = [0, 0x80, 0x800, 0x10000];
const isHex = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const hexValue = (c: number) => (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10);

/**
 * Parses an escaped string up to `end` (a byte) starting at `from`. Returns
 * the UTF-16 units and the index after the delimiter, or null when the
 * delimiter is missing (wineserver's -1).
 */
export function parseEscaped(line: Buffer, from: number, end: number): { units: number[]; next: number } | null {
  const units: number[] = [];
  let p = from;
  while (p < line.length && line[p] !== 0 && line[p] !== end) {
    if (line[p] === 0x5c) {
      p++;
      if (p >= line.length || line[p] === 0) break;
      const c = line[p];
      const simple: Record<number, number> = { 0x61: 7, 0x62: 8, 0x65: 27, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9, 0x76: 11 };
      if (c in simple) {
        units.push(simple[c]);
        p++;
        continue;
      }
      if (c === 0x78) {
        p++;
        if (p >= line.length || !isHex(line[p])) units.push(0x78);
        else {
          let v = hexValue(line[p++]);
          for (let i = 0; i < 3 && p < line.length && isHex(line[p]); i++) v = ((v * 16) + hexValue(line[p++])) & 0xffff;
          units.push(v);
        }
        continue;
      }
      if (c >= 0x30 && c <= 0x37) {
        let v = line[p++] - 0x30;
        for (let i = 0; i < 2 && p < line.length && line[p] >= 0x30 && line[p] <= 0x37; i++) v = v * 8 + (line[p++] - 0x30);
        units.push(v & 0xffff);
        continue;
      }
      // Unknown escape: the character itself.
    }
    const ch = line[p++];
    if (ch < 0x80) {
      units.push(ch);
      continue;
    }
    const len = UTF8_LENGTH(ch);
    let res = ch & UTF8_MASK[len];
    let ok = len > 0;
    for (let i = 0; i < len; i++) {
      const cont = (line[p] ?? 0) ^ 0x80;
      if (cont >= 0x40) {
        ok = false;
        break;
      }
      res = (res << 6) | cont;
      p++;
    }
    if (!ok || res < UTF8_MIN[len] || res > 0x10ffff) continue; // invalid sequences are dropped
    if (res <= 0xffff) units.push(res);
    else {
      res -= 0x10000;
      units.push(0xd800 | (res >> 10), 0xdc00 | (res & 0x3ff));
    }
  }
  if (p >= line.length || line[p] !== end) return null;
  return { units, next: p + 1 };
}

const CONTROL_ESCAPES = '.......abtnvfr.............e....';

/** dump_strW: UTF-16LE `str` escaped, `quote` characters backslashed. */
export function dumpEscaped(str: Buffer, quote: string): string {
  let out = '';
  const n = str.length >> 1;
  for (let i = 0; i < n; i++) {
    const c = str.readUInt16LE(i * 2);
    const next = i + 1 < n ? str.readUInt16LE(i * 2 + 2) : -1;
    if (c > 127) {
      if (next >= 0 && next < 128 && isHex(next)) out += '\\x' + c.toString(16).padStart(4, '0');
      else out += '\\x' + c.toString(16);
      continue;
    }
    if (c < 32) {
      if (c === 0 && i === n - 1) continue;
      if (CONTROL_ESCAPES[c] !== '.') out += '\\' + CONTROL_ESCAPES[c];
      else if (next >= 0x30 && next <= 0x37) out += '\\' + c.toString(8).padStart(3, '0');
      else out += '\\' + c.toString(8);
      continue;
    }
    const ch = String.fromCharCode(c);
    if (ch === '\\' || quote.includes(ch)) out += '\\';
    out += ch;
  }
  return out;
}

const toUtf16 = (units: number[]): Buffer => {
  const b = Buffer.alloc(units.length * 2);
  units.forEach((u, i) => b.writeUInt16LE(u, i * 2));
  return b;
};

// ---------------------------------------------------------------------------
// Loading (load_keys)

export interface LoadResult {
  /** 0, or STATUS_NOT_REGISTRY_FILE when the header or #arch is wrong. */
  status: number;
  /** The #arch the file declared, if any. */
  arch?: Arch;
  /** Lines wineserver would complain about on stderr (and skip). */
  warnings: string[];
  keys: number;
}

/** C's strtoul(s, 16) prefix: leading spaces, optional 0x, hex digits. */
function strtoulHex(line: Buffer, at: number): { value: number; next: number } {
  let p = at;
  while (p < line.length && (line[p] === 0x20 || (line[p] >= 9 && line[p] <= 13))) p++;
  if (line[p] === 0x2b) p++;
  if (line[p] === 0x30 && (line[p + 1] | 0x20) === 0x78 && isHex(line[p + 2] ?? 0)) p += 2;
  const start = p;
  let v = 0n;
  while (p < line.length && isHex(line[p])) v = v * 16n + BigInt(hexValue(line[p++]));
  if (p === start) return { value: 0, next: at };
  return { value: Number(v > 0xffffffffffffffffn ? 0xffffffffn : v & 0xffffffffn), next: p };
}

const isSpace = (c: number | undefined) => c === 0x20 || (c !== undefined && c >= 9 && c <= 13);

/**
 * Loads a .reg text into the key `baseId` as wineserver's load_keys does.
 * `prefixLength` is how many leading path elements of each key line to
 * skip (0 for the prefix's own files), or -1 to guess it from the first
 * key line the way load_registry does for hives.
 */
export function loadRegFile(tx: RegistryTx, baseId: number, text: Buffer, prefixLength = 0, knownArch: Arch = 'unknown'): LoadResult {
  const warnings: string[] = [];
  const lines: Buffer[] = [];
  for (let at = 0; at < text.length; ) {
    let end = text.indexOf(0x0a, at);
    const hasNewline = end >= 0;
    if (!hasNewline) end = text.length;
    let line = text.subarray(at, end);
    if (hasNewline && line.length && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    lines.push(line);
    at = end + 1;
  }
  const result: LoadResult = { status: 0, warnings, keys: 0 };
  if (!lines.length || lines[0].toString('latin1') !== HEADER) return { ...result, status: S.STATUS_NOT_REGISTRY_FILE };
  let arch = knownArch;
  let current = 0;
  let modif = tx.now;
  let prefix = prefixLength;
  const warn = (msg: string, index: number) => warnings.push(`<file>:${index + 1}: ${msg} '${lines[index].toString('latin1')}'`);

  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    let p = 0;
    while (p < line.length && isSpace(line[p])) p++;
    const c = line[p];
    if (c === 0x5b) {
      if (current) updateKeyTime(tx, current, modif);
      if (prefix === -1) prefix = guessPrefixLength(tx, baseId, line, p + 1);
      const loaded = loadKeyLine(tx, baseId, line, p + 1, prefix);
      if (loaded.error) warn(loaded.error, i);
      current = loaded.id;
      if (loaded.modif !== undefined) modif = loaded.modif;
      if (current) result.keys++;
      else warn('Error creating key', i);
    } else if (c === 0x40 || c === 0x22) {
      if (!current) warn('Value without key', i);
      else i = loadValueLine(tx, current, lines, i, p, warn);
    } else if (c === 0x23) {
      if (current) loadKeyOption(tx, current, line.subarray(p));
      else {
        const option = line.subarray(p).toString('latin1');
        if (option.startsWith('#arch=')) {
          const value = option.slice(6);
          const declared: Arch | undefined = value === 'win32' ? 'win32' : value === 'win64' ? 'win64' : undefined;
          if (!declared) {
            warn('Unknown architecture', i);
            result.status = S.STATUS_NOT_REGISTRY_FILE;
            break;
          }
          if (arch === 'unknown') arch = declared;
          else if (arch !== declared) {
            warn('Mismatched architecture', i);
            result.status = S.STATUS_NOT_REGISTRY_FILE;
            break;
          }
          result.arch = declared;
        }
      }
    } else if (c === 0x3b || c === undefined || c === 0) {
      // comment or empty line
    } else warn('Unrecognized input', i);
  }
  if (current) updateKeyTime(tx, current, modif);
  return result;
}

/** update_key_time: gives keys created without a time (0) this one, up to the first key that has one. */
function updateKeyTime(tx: RegistryTx, id: number, modif: bigint): void {
  for (let at = id; at; ) {
    const header = tx.header(at);
    if (header.modif) return;
    tx.setModif(at, modif);
    at = header.parent;
  }
}

function loadKeyLine(tx: RegistryTx, baseId: number, line: Buffer, from: number, prefix: number): { id: number; modif?: bigint; error?: string } {
  const parsed = parseEscaped(line, from, 0x5d);
  if (!parsed) return { id: 0, error: 'Malformed key' };
  let modif: bigint = tx.now;
  const m = /^\s*(\d+)/.exec(line.subarray(parsed.next).toString('latin1'));
  if (m) modif = (BigInt(m[1]) & 0xffffffffn) * TICKS_PER_SEC + TICKS_1601_TO_1970;
  let units = parsed.units;
  let skip = prefix;
  let k = 0;
  while (skip && k < units.length) if (units[k++] === 0x5c) skip--;
  units = units.slice(k);
  if (!units.length) {
    if (skip > 1) return { id: 0, modif, error: 'Malformed key' };
    return { id: baseId, modif };
  }
  return { id: createKeyRecursive(tx, baseId, toUtf16(units), 0n), modif };
}

/** create_key_recursive: opens or creates each element of `path` under `baseId` (0 when it fails). */
export function createKeyRecursive(tx: RegistryTx, baseId: number, path: Buffer, modif: bigint): number {
  let parent = baseId;
  let rest = path;
  while (rest.length) {
    const elemLength = pathElementLength(rest);
    const elem = rest.subarray(0, elemLength);
    if (elem.length) {
      const found = tx.resolve(tx.header(parent), elem, OBJ_OPENIF);
      if (found.status || !found.key) return 0;
      if (found.left!.length) {
        if (tx.header(found.key.id).flags & KEY_FLAG.VOLATILE) return 0;
        parent = tx.createSubkey(found.key.id, found.left!, 0, modif).id;
      } else parent = found.key.id;
    }
    if (elemLength >= rest.length) break;
    rest = rest.subarray(elemLength + 2);
  }
  return parent;
}

/** get_prefix_len: how many elements of the first key line name the load target and its parents. */
function guessPrefixLength(tx: RegistryTx, baseId: number, line: Buffer, from: number): number {
  const parsed = parseEscaped(line, from, 0x5d);
  if (!parsed) return 0;
  let n = parsed.units.indexOf(0x5c);
  if (n < 0) n = parsed.units.length;
  const first = toUtf16(parsed.units.slice(0, n));
  let res = 1;
  for (let at = baseId; at !== tx.rootId; res++) {
    const record = tx.record(at);
    if (record.name.length === first.length && compareNames(record.name, first, tx.map) === 0) return res;
    at = record.parent;
  }
  return 0;
}

function loadKeyOption(tx: RegistryTx, id: number, option: Buffer): void {
  const text = option.toString('latin1');
  if (text.startsWith('#time=')) {
    let v = 0n;
    for (let p = 6; p < option.length && isHex(option[p]); p++) v = ((v << 4n) | BigInt(hexValue(option[p]))) & 0xffffffffffffffffn;
    updateKeyTime(tx, id, BigInt.asIntN(64, v));
  }
  if (text.startsWith('#class=')) {
    if (option[7] !== 0x22) return;
    const parsed = parseEscaped(option, 8, 0x22);
    if (!parsed) return;
    tx.setClass(id, toUtf16(parsed.units));
  }
  if (text.startsWith('#link')) tx.setFlags(id, tx.header(id).flags | KEY_FLAG.SYMLINK);
}

/** load_value; returns the index of the last line it consumed (hex data continues over lines). */
function loadValueLine(tx: RegistryTx, id: number, lines: Buffer[], index: number, from: number, warn: (msg: string, i: number) => void): number {
  const line = lines[index];
  let name: Buffer;
  let p: number;
  if (line[from] === 0x40) {
    name = Buffer.alloc(0);
    p = from + 1;
  } else {
    const parsed = parseEscaped(line, from + 1, 0x22);
    if (!parsed) {
      warn('Malformed value name', index);
      return index;
    }
    name = toUtf16(parsed.units);
    p = parsed.next;
  }
  while (isSpace(line[p])) p++;
  if (line[p] !== 0x3d) {
    warn('Malformed value name', index);
    return index;
  }
  p++;
  while (isSpace(line[p])) p++;
  const record = tx.touchRecord(id);
  let at = tx.findValue(id, name);
  if (at < 0) {
    if (name.length > 16383 * 2) {
      warn('Malformed value name', index);
      return index;
    }
    record.values.splice(-at - 1, 0, { name, type: 0, data: Buffer.alloc(0) });
    at = -at - 1;
  }
  const value = record.values[at];
  const fail = (i: number) => {
    warn('Malformed value', i);
    value.type = 0;
    value.data = Buffer.alloc(0);
    return i;
  };
  const rest = line.subarray(p).toString('latin1');
  let type: number;
  let parseAs: 'sz' | 'dword' | 'hex';
  let skip: number;
  if (rest.startsWith('"')) [type, parseAs, skip] = [REG_SZ, 'sz', 1];
  else if (rest.startsWith('str:"')) [type, parseAs, skip] = [REG_SZ, 'sz', 5];
  else if (rest.startsWith('str(2):"')) [type, parseAs, skip] = [REG_EXPAND_SZ, 'sz', 8];
  else if (rest.startsWith('str(7):"')) [type, parseAs, skip] = [REG_MULTI_SZ, 'sz', 8];
  else if (rest.startsWith('hex:')) [type, parseAs, skip] = [REG_BINARY, 'hex', 4];
  else if (rest.startsWith('dword:')) [type, parseAs, skip] = [REG_DWORD, 'dword', 6];
  else if (rest.startsWith('hex(')) {
    const m = /^hex\(([0-9a-fA-F]*)\):/.exec(rest);
    if (!m) return fail(index);
    const t = strtoulHex(Buffer.from(m[1], 'latin1'), 0);
    [type, parseAs, skip] = [t.value, 'hex', m[0].length];
  } else return fail(index);
  p += skip;
  let data: Buffer;
  let last = index;
  if (parseAs === 'sz') {
    const parsed = parseEscaped(line, p, 0x22);
    if (!parsed) return fail(index);
    data = toUtf16([...parsed.units, 0]);
  } else if (parseAs === 'dword') {
    data = Buffer.alloc(4);
    data.writeUInt32LE(strtoulHex(line, p).value >>> 0, 0);
  } else {
    const bytes: number[] = [];
    let cur = line;
    for (;;) {
      while (p < cur.length && isHex(cur[p])) {
        const t = strtoulHex(cur, p);
        if (t.value > 0xff) return fail(last);
        bytes.push(t.value);
        p = t.next;
        while (isSpace(cur[p])) p++;
        if (cur[p] === 0x2c) p++;
        while (isSpace(cur[p])) p++;
      }
      while (isSpace(cur[p])) p++;
      if (p >= cur.length || cur[p] === 0) break;
      if (cur[p] !== 0x5c) return fail(last);
      if (last + 1 >= lines.length) return fail(last);
      cur = lines[++last];
      p = 0;
      while (isSpace(cur[p])) p++;
    }
    data = Buffer.from(bytes);
  }
  value.type = type >>> 0;
  value.data = data;
  return last;
}

// ---------------------------------------------------------------------------
// Saving (save_all_subkeys)

/** The path of `id` relative to `base` as dump_path writes it (elements joined by an escaped backslash). */
function dumpPath(tx: RegistryTx, id: number, base: number): string {
  const parts: string[] = [];
  for (let at = id; ; ) {
    const record = tx.record(at);
    parts.unshift(dumpEscaped(record.name, '[]'));
    if (!record.parent || record.parent === base) break;
    at = record.parent;
  }
  return parts.join('\\\\');
}

function dumpValue(name: Buffer, type: number, data: Buffer): string {
  let out: string;
  let count: number;
  if (name.length) {
    const dumped = dumpEscaped(name, '""');
    out = `"${dumped}"=`;
    count = 1 + dumped.length + 2;
  } else {
    out = '@=';
    count = 2;
  }
  if ((type === REG_SZ || type === REG_EXPAND_SZ || type === REG_MULTI_SZ) && data.length >= 2 && !(data.length % 2) && data.readUInt16LE(data.length - 2) === 0) {
    return `${out}${type !== REG_SZ ? `str(${type.toString(16)}):` : ''}"${dumpEscaped(data, '""')}"\n`;
  }
  if (type === REG_DWORD && data.length === 4) return `${out}dword:${data.readUInt32LE(0).toString(16).padStart(8, '0')}\n`;
  const tag = type === REG_BINARY ? 'hex:' : `hex(${type.toString(16)}):`;
  out += tag;
  count += tag.length;
  for (let i = 0; i < data.length; i++) {
    out += data[i].toString(16).padStart(2, '0');
    count += 2;
    if (i < data.length - 1) {
      out += ',';
      if (++count > 76) {
        out += '\\\n  ';
        count = 2;
      }
    }
  }
  return out + '\n';
}

const u32 = (v: bigint) => Number(BigInt.asUintN(32, v));

function saveSubkeys(tx: RegistryTx, id: number, base: number, out: string[]): void {
  const record = tx.record(id);
  if (record.flags & KEY_FLAG.VOLATILE) return;
  const subkeys = tx.subkeys(id);
  if (record.values.length || !subkeys.length || record.klass || record.flags & KEY_FLAG.SYMLINK) {
    const seconds = u32((record.modif - TICKS_1601_TO_1970) / TICKS_PER_SEC);
    let text = `\n[${id !== base ? dumpPath(tx, id, base) : ''}] ${seconds}\n`;
    text += `#time=${u32(record.modif >> 32n).toString(16)}${u32(record.modif).toString(16).padStart(8, '0')}\n`;
    if (record.klass) text += `#class="${dumpEscaped(record.klass, '""')}"\n`;
    if (record.flags & KEY_FLAG.SYMLINK) text += '#link\n';
    for (const v of record.values) text += dumpValue(v.name, v.type, v.data);
    out.push(text);
  }
  for (const s of subkeys) saveSubkeys(tx, s.id, base, out);
}

/** The .reg text wineserver would save for the branch at `baseId`. */
export function saveRegFile(tx: RegistryTx, baseId: number, arch: Arch): Buffer {
  const out: string[] = [`${HEADER}\n;; All keys relative to ${dumpPath(tx, baseId, 0)}\n`];
  if (arch === 'win32') out.push('\n#arch=win32\n');
  else if (arch === 'win64') out.push('\n#arch=win64\n');
  saveSubkeys(tx, baseId, baseId, out);
  return Buffer.from(out.join(''), 'latin1');
}
