// Differential check: compares every kind's trace text with the output of
// wineserver's own dumpers (wine-trace-harness.c, built by wine-harness.ts
// from the Wine sources) on samples, mutated samples and random bytes.
// test/kinds/wine-diff.test.ts runs it; by hand:
//
//   npx tsx requests/kinds/tools/wine-diff.ts [harness binary]
//
// The harness reads lines "<kind> <now> <monotonic> <hex bytes>" and prints
// what dump_varargs_<kind> (or dump_<fixed type>) prints, then "<<END>>".

import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { fixedKinds, varargKinds } from '../index.ts';
import type { FixedKind, VarargKind } from '../kind.ts';
import { buildWineTraceHarness } from './wine-harness.ts';
import { loadProtocol } from '../../protocol.ts';

const NOW = 133_500_000_000_000_000n;
const MONO = 90_000_000_000n;
const protocol = loadProtocol('wine-8.0');
const ctx = { now: NOW, monotonicNow: MONO, statusName: (status: number) => protocol.statusName(status) };

export interface DiffResult {
  cases: number;
  different: number;
  /** Per-kind counts and the first mismatches, for humans. */
  report: string[];
}

/** Inputs on which wineserver's dumpers run away (undefined behaviour), which we do not imitate. */
function wineMisbehaves(kind: string, b: Buffer): boolean {
  if (kind === 'process_info') return b.length % 8 !== 0;
  if (kind === 'debug_event') {
    const code = b.length >= 4 ? b.readInt32LE(0) : 0;
    return code >= 6 && code <= 8 && b.length >= 36 && b.readInt32LE(32) < 0;
  }
  return false;
}

function aclReadsOutside(b: Buffer, offset: number, size: number): boolean {
  // An ACE shorter than its header makes wineserver read a sid from past the ACE.
  if (size < 8 || offset + 8 > b.length) return false;
  let remaining = size - 8;
  let ace = offset + 8;
  const count = b.readUInt16LE(offset + 4);
  for (let i = 0; i < count; i++) {
    if (remaining < 8 || ace + 4 > b.length) return false;
    const aceSize = b.readUInt16LE(ace + 2);
    if (remaining < aceSize) return false;
    if (aceSize < 8) return true;
    remaining -= aceSize;
    ace += aceSize;
  }
  return false;
}

function sdReadsOutside(b: Buffer, offset: number, size: number): boolean {
  if (size < 20 || offset + 20 > b.length) return false;
  let pos = offset + 20;
  const lens = [4, 8, 12, 16].map((o) => b.readUInt32LE(offset + o));
  pos += lens[0] + lens[1];
  if (pos > offset + size) return false;
  if (aclReadsOutside(b, pos, Math.min(lens[2], offset + size - pos))) return true;
  pos += lens[2];
  if (pos > offset + size) return false;
  return aclReadsOutside(b, pos, Math.min(lens[3], offset + size - pos));
}

/** Whether wineserver's own dumper for `kind` reads out of bounds or runs away on `b` (we do not imitate that). */
export function wineMisbehavesOn(kind: string, b: Buffer): boolean {
  if (kind === 'acl') return aclReadsOutside(b, 0, b.length);
  if (kind === 'security_descriptor') return sdReadsOutside(b, 0, b.length);
  if (kind === 'object_attributes') return b.length >= 16 && sdReadsOutside(b, 16, Math.min(b.readUInt32LE(8), b.length - 16));
  return wineMisbehaves(kind, b);
}

export function compareWithWine(harness: string): DiffResult {
let seed = 12345;
const next = () => {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed;
};
const randomBytes = (n: number, style: number) =>
  Buffer.from(Array.from({ length: n }, () => {
    const r = next();
    return style === 0 ? r & 0xff : r % 5 === 0 ? r & 0xff : r % 3 === 0 ? 0 : r & 0x0f;
  }));

interface Case {
  kind: string;
  harnessName: string;
  bytes: Buffer;
  /** Our text; null (the field is left out) must match an empty Wine output. */
  mine: string;
}
const cases: Case[] = [];


for (const [name, kind] of Object.entries(varargKinds) as [string, VarargKind<unknown>][]) {
  const inputs: Buffer[] = [];
  for (const s of kind.samples()) {
    const b = kind.encode(s);
    inputs.push(b);
    for (let i = 0; i < 15; i++) {
      const m = Buffer.from(b);
      if (m.length) m[next() % m.length] = next() & 0xff;
      inputs.push(m, b.subarray(0, next() % (b.length + 1)));
    }
  }
  for (let i = 0; i < 400; i++) inputs.push(randomBytes(i < 50 ? i : next() % (i % 20 === 0 ? 4000 : 200), i % 2));
  for (const bytes of inputs) {
    if (bytes.length > 60000 || wineMisbehavesOn(name, bytes)) continue;
    const { value } = kind.decode(bytes, 0, bytes.length);
    cases.push({ kind: name, harnessName: bytes.length ? name : 'EMPTY_' + name, bytes, mine: kind.format(value, ctx) ?? '' });
  }
}

const fixedHarnessName: Record<string, string> = { 'struct luid': 'struct_luid' };
for (const [name, kind] of Object.entries(fixedKinds) as [string, FixedKind<unknown>][]) {
  const inputs: Buffer[] = [];
  for (const s of kind.samples()) {
    const b = Buffer.alloc(kind.size);
    kind.encode(s, b, 0);
    inputs.push(b);
  }
  for (let i = 0; i < 400; i++) {
    const b = randomBytes(kind.size, i % 2);
    if (i % 3 === 0) b.writeUInt32LE(next() % 16, 0);
    inputs.push(b);
  }
  for (const bytes of inputs) {
    cases.push({ kind: name, harnessName: fixedHarnessName[name] ?? name, bytes, mine: kind.format(kind.decode(bytes, 0), ctx) ?? '' });
  }
}

const input = cases
  .map((c) => (c.harnessName.startsWith('EMPTY_') ? `${c.harnessName.slice(6)} ${NOW} ${MONO} ` : `${c.harnessName} ${NOW} ${MONO} ${c.bytes.toString('hex')}`))
  .join('\n');
const run = spawnSync(harness, [], { input: input + '\n', maxBuffer: 1 << 30, encoding: 'latin1' });
if (run.status !== 0) throw new Error(`trace harness failed: status ${run.status} ${run.error ?? ''}`);
const report: string[] = [];
const outputs = run.stderr.split('\n<<END>>\n');
let failures = 0;
const perKind = new Map<string, { ok: number; bad: number }>();
cases.forEach((c, i) => {
  const stat = perKind.get(c.kind) ?? { ok: 0, bad: 0 };
  perKind.set(c.kind, stat);
  if (outputs[i] === c.mine) stat.ok++;
  else {
    stat.bad++;
    if (failures++ < 15) report.push(`MISMATCH ${c.kind} bytes=${c.bytes.toString('hex').slice(0, 200)}\n  wine: ${outputs[i]?.slice(0, 400)}\n  ours: ${c.mine.slice(0, 400)}`);
  }
});
for (const [kind, s] of perKind) report.push(`${kind.padEnd(22)} ${s.ok} same, ${s.bad} different`);
report.push(`${cases.length} cases, ${failures} different`);
return { cases: cases.length, different: failures, report };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = compareWithWine(process.argv[2] ?? buildWineTraceHarness());
  console.log(result.report.join('\n'));
  process.exitCode = result.different ? 1 : 0;
}
