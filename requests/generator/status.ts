// Builds the table of status names that wineserver's trace prints after `=`
// in a reply line. wineserver knows a status by name only if its own sources
// use it: NTSTATUS codes (printed without their STATUS_ prefix), win32 errors
// it sets with set_win32_error(), and winsock errors it returns; the last two
// are reported as 0xc0010000 | code. Any other status prints in hex. So the
// table is derived from the server's sources, with values from Wine's headers.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StatusName {
  name: string;
  value: number;
}

function readDefines(file: string): Map<string, string> {
  const defines = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^#\s*define\s+(\w+)\s+(.+?)\s*(?:\/\*.*)?$/.exec(line);
    if (m && !defines.has(m[1])) defines.set(m[1], m[2]);
  }
  return defines;
}

function resolve(name: string, defines: Map<string, string>, depth = 0): number {
  const body = defines.get(name);
  if (body === undefined || depth > 8) throw new Error(`cannot resolve the value of ${name}`);
  const text = body.replace(/\(\s*(NTSTATUS|HRESULT|DWORD|LONG)\s*\)/g, '').replace(/[()]/g, '').replace(/[uUlL]+\b/g, '').trim();
  const sum = text.split('+').map((part) => {
    const p = part.trim();
    if (/^0x[0-9a-f]+$/i.test(p) || /^\d+$/.test(p)) return Number(p);
    if (/^\w+$/.test(p)) return resolve(p, defines, depth + 1);
    throw new Error(`cannot resolve the value of ${name}: '${body}'`);
  });
  return sum.reduce((a, b) => a + b, 0) >>> 0;
}

export function collectStatusNames(wineSource: string): StatusName[] {
  const serverDir = join(wineSource, 'server');
  const ntstatus = readDefines(join(wineSource, 'include', 'ntstatus.h'));
  const winerror = readDefines(join(wineSource, 'include', 'winerror.h'));
  const found = new Map<string, number>();
  for (const file of readdirSync(serverDir).sort()) {
    if (!file.endsWith('.c') || file === 'trace.c') continue;
    const text = readFileSync(join(serverDir, file), 'utf8');
    for (const m of text.matchAll(/\bSTATUS_(\w+)/g)) {
      if (m[1] === 'SUCCESS' || m[1] === 'WAIT_0' || found.has(m[1])) continue;
      found.set(m[1], resolve(`STATUS_${m[1]}`, ntstatus));
    }
    for (const m of text.matchAll(/\bset_win32_error\s*\(\s*(\w+)\s*\)/g)) {
      found.set(m[1], (0xc0010000 | resolve(m[1], winerror)) >>> 0);
    }
    for (const m of text.matchAll(/\breturn\s+(WSA\w+)/g)) {
      found.set(m[1], (0xc0010000 | resolve(m[1], winerror)) >>> 0);
    }
  }
  return [...found].map(([name, value]) => ({ name, value })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
