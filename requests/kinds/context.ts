// contexts: one or more context_t (1720 bytes each: machine, flags, then
// register unions selected by the SERVER_CTX_* flags). The registers stay
// bytes (`regs`, everything after machine and flags); the trace decodes them
// per machine exactly as wineserver does.

import type { VarargKind } from './kind.ts';
import { copyBytes, put32, u32, u64 } from './bytes.ts';
import { formatUint128, formatUint64, hexPad } from './format.ts';

export const CONTEXT_SIZE = 1720;
const HEADER = 8;

export const IMAGE_FILE_MACHINE_I386 = 0x014c;
export const IMAGE_FILE_MACHINE_AMD64 = 0x8664;
export const IMAGE_FILE_MACHINE_ARMNT = 0x01c4;
export const IMAGE_FILE_MACHINE_ARM64 = 0xaa64;

export const SERVER_CTX_CONTROL = 0x01;
export const SERVER_CTX_INTEGER = 0x02;
export const SERVER_CTX_SEGMENTS = 0x04;
export const SERVER_CTX_FLOATING_POINT = 0x08;
export const SERVER_CTX_DEBUG_REGISTERS = 0x10;
export const SERVER_CTX_EXTENDED_REGISTERS = 0x20;
export const SERVER_CTX_YMM_REGISTERS = 0x40;

// Offsets of the register unions inside context_t.
const CTL = 8;
const INTEGER = 48;
const SEG = 296;
const FP = 312;
const DEBUG = 832;
const EXT = 952;
const YMM = 1464;

export interface Context {
  machine: number;
  flags: number;
  /** The bytes after machine and flags (1712 for a whole context_t; the last context may be cut short). */
  regs: Buffer;
}

export interface ContextList {
  contexts: Context[];
  /** A final fragment too short to hold machine and flags. */
  fragment: Buffer;
}

const x32 = (b: Buffer, o: number) => hexPad(u32(b, o), 8);
const x16 = (b: Buffer, o: number) => hexPad(u32(b, o), 4);
const x64 = (b: Buffer, o: number) => formatUint64(u64(b, o));
const x128 = (b: Buffer, o: number) => formatUint128(u64(b, o), u64(b, o + 8));

/** dump_varargs_context for one context_t given as (possibly short) bytes. */
export function traceContext(bytes: Buffer): string {
  const b = Buffer.alloc(CONTEXT_SIZE);
  bytes.copy(b, 0, 0, CONTEXT_SIZE);
  const machine = u32(b, 0);
  const flags = u32(b, 4);
  const has = (flag: number) => (flags & flag) !== 0;
  let out: string;
  switch (machine) {
    case IMAGE_FILE_MACHINE_I386:
      out = '{machine=i386';
      if (has(SERVER_CTX_CONTROL))
        out += `,eip=${x32(b, CTL)},esp=${x32(b, CTL + 8)},ebp=${x32(b, CTL + 4)},eflags=${x32(b, CTL + 12)},cs=${x16(b, CTL + 16)},ss=${x16(b, CTL + 20)}`;
      if (has(SERVER_CTX_SEGMENTS)) out += `,ds=${x16(b, SEG)},es=${x16(b, SEG + 4)},fs=${x16(b, SEG + 8)},gs=${x16(b, SEG + 12)}`;
      if (has(SERVER_CTX_INTEGER))
        out += ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi'].map((r, i) => `,${r}=${x32(b, INTEGER + 4 * i)}`).join('');
      if (has(SERVER_CTX_DEBUG_REGISTERS))
        out += ['dr0', 'dr1', 'dr2', 'dr3', 'dr6', 'dr7'].map((r, i) => `,${r}=${x32(b, DEBUG + 4 * i)}`).join('');
      if (has(SERVER_CTX_FLOATING_POINT)) {
        out += ['ctrl', 'status', 'tag', 'err_off', 'err_sel', 'data_off', 'data_sel', 'cr0npx'].map((r, i) => `,fp.${r}=${x32(b, FP + 4 * i)}`).join('');
        for (let i = 0; i < 8; i++) {
          const at = FP + 32 + 10 * i; // 80-bit x87 registers, packed
          out += `,fp.reg${i}=${formatUint128(u64(b, at), BigInt(b.readUInt16LE(at + 8)))}`;
        }
      }
      if (has(SERVER_CTX_EXTENDED_REGISTERS)) {
        const words: string[] = [];
        for (let i = 0; i < 128; i++) words.push(x32(b, EXT + 4 * i));
        out += `,extended={${words.join(',')}}`;
      }
      if (has(SERVER_CTX_YMM_REGISTERS)) for (let i = 0; i < 16; i++) out += `,ymm${i}=${x128(b, YMM + 16 * i)}`;
      break;
    case IMAGE_FILE_MACHINE_AMD64:
      out = '{machine=x86_64';
      if (has(SERVER_CTX_CONTROL))
        out += `,rip=${x64(b, CTL)},rbp=${x64(b, CTL + 8)},rsp=${x64(b, CTL + 16)},cs=${x16(b, CTL + 24)},ss=${x16(b, CTL + 28)},flags=${x32(b, CTL + 32)}`;
      if (has(SERVER_CTX_INTEGER))
        out += ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15']
          .map((r, i) => `,${r}=${x64(b, INTEGER + 8 * i)}`)
          .join('');
      if (has(SERVER_CTX_SEGMENTS)) out += `,ds=${x16(b, SEG)},es=${x16(b, SEG + 4)},fs=${x16(b, SEG + 8)},gs=${x16(b, SEG + 12)}`;
      if (has(SERVER_CTX_DEBUG_REGISTERS))
        out += ['dr0', 'dr1', 'dr2', 'dr3', 'dr6', 'dr7'].map((r, i) => `,${r}=${x64(b, DEBUG + 8 * i)}`).join('');
      if (has(SERVER_CTX_FLOATING_POINT)) for (let i = 0; i < 32; i++) out += `,fp${i}=${x128(b, FP + 16 * i)}`;
      if (has(SERVER_CTX_YMM_REGISTERS)) for (let i = 0; i < 16; i++) out += `,ymm${i}=${x128(b, YMM + 16 * i)}`;
      break;
    case IMAGE_FILE_MACHINE_ARMNT:
      out = '{machine=arm';
      if (has(SERVER_CTX_CONTROL)) out += `,sp=${x32(b, CTL)},lr=${x32(b, CTL + 4)},pc=${x32(b, CTL + 8)},cpsr=${x32(b, CTL + 12)}`;
      if (has(SERVER_CTX_INTEGER)) for (let i = 0; i < 13; i++) out += `,r${i}=${x32(b, INTEGER + 4 * i)}`;
      if (has(SERVER_CTX_DEBUG_REGISTERS)) {
        for (let i = 0; i < 8; i++) out += `,bcr${i}=${x32(b, DEBUG + 32 + 4 * i)},bvr${i}=${x32(b, DEBUG + 4 * i)}`;
        out += `,wcr0=${x32(b, DEBUG + 68)},wvr0=${x32(b, DEBUG + 64)}`;
      }
      if (has(SERVER_CTX_FLOATING_POINT)) {
        for (let i = 0; i < 32; i++) out += `,d${i}=${x64(b, FP + 8 * i)}`;
        out += `,fpscr=${x32(b, FP + 256)}`;
      }
      break;
    case IMAGE_FILE_MACHINE_ARM64:
      out = '{machine=arm64';
      if (has(SERVER_CTX_CONTROL)) out += `,sp=${x64(b, CTL)},pc=${x64(b, CTL + 8)},pstate=${x64(b, CTL + 16)}`;
      if (has(SERVER_CTX_INTEGER)) for (let i = 0; i < 31; i++) out += `,x${i}=${x64(b, INTEGER + 8 * i)}`;
      if (has(SERVER_CTX_DEBUG_REGISTERS)) {
        for (let i = 0; i < 8; i++) out += `,bcr${i}=${x32(b, DEBUG + 80 + 4 * i)},bvr${i}=${x64(b, DEBUG + 8 * i)}`;
        for (let i = 0; i < 2; i++) out += `,wcr${i}=${x32(b, DEBUG + 112 + 4 * i)},wvr${i}=${x64(b, DEBUG + 64 + 8 * i)}`;
      }
      if (has(SERVER_CTX_FLOATING_POINT)) {
        // Each q register prints high then low, each as dump_uint64 does.
        for (let i = 0; i < 32; i++) out += `,q${i}=${x64(b, FP + 16 * i + 8)}${x64(b, FP + 16 * i)}`;
        out += `,fpcr=${x32(b, FP + 512)},fpsr=${x32(b, FP + 516)}`;
      }
      break;
    default:
      out = `{machine=${hexPad(machine, 4)}`;
  }
  return out + '}';
}

export function encodeContext(ctx: Context): Buffer {
  const header = Buffer.alloc(HEADER);
  put32(header, 0, ctx.machine);
  put32(header, 4, ctx.flags);
  return Buffer.concat([header, ctx.regs]);
}

const encodeList = (value: ContextList): Buffer => Buffer.concat([...value.contexts.map(encodeContext), value.fragment]);

/** dump_varargs_contexts: consecutive contexts, the last one possibly short. */
export function traceContexts(bytes: Buffer): string {
  if (!bytes.length) return '{}';
  const parts: string[] = [];
  for (let pos = 0; pos < bytes.length; pos += CONTEXT_SIZE) parts.push(traceContext(bytes.subarray(pos, pos + CONTEXT_SIZE)));
  return `{${parts.join(',')}}`;
}

/** A whole context_t with the given registers written at their context_t offsets. */
export function makeContext(machine: number, flags: number, fill: (b: Buffer) => void = () => {}): Context {
  const b = Buffer.alloc(CONTEXT_SIZE);
  fill(b);
  return { machine, flags, regs: b.subarray(HEADER) };
}

const patterned = (b: Buffer) => {
  for (let i = HEADER; i < b.length; i++) b[i] = (i * 7 + 3) & 0xff;
};

export const contextsKind: VarargKind<ContextList> = {
  kind: 'contexts',
  decode(buf, offset, available) {
    const contexts: Context[] = [];
    let pos = 0;
    while (available - pos >= HEADER) {
      const len = Math.min(CONTEXT_SIZE, available - pos);
      contexts.push({ machine: u32(buf, offset + pos), flags: u32(buf, offset + pos + 4), regs: copyBytes(buf, offset + pos + HEADER, len - HEADER) });
      pos += len;
    }
    return { value: { contexts, fragment: copyBytes(buf, offset + pos, available - pos) }, size: available };
  },
  encode: encodeList,
  format: (value) => traceContexts(encodeList(value)),
  samples: () => {
    const all = 0x7f;
    return [
      { contexts: [], fragment: Buffer.alloc(0) },
      { contexts: [makeContext(IMAGE_FILE_MACHINE_AMD64, 0)], fragment: Buffer.alloc(0) },
      {
        contexts: [IMAGE_FILE_MACHINE_I386, IMAGE_FILE_MACHINE_AMD64, IMAGE_FILE_MACHINE_ARMNT, IMAGE_FILE_MACHINE_ARM64, 0x1234].map((m) => makeContext(m, all, patterned)),
        fragment: Buffer.alloc(0),
      },
      { contexts: [makeContext(IMAGE_FILE_MACHINE_AMD64, 3, patterned), { machine: IMAGE_FILE_MACHINE_I386, flags: 1, regs: Buffer.alloc(20, 0x11) }], fragment: Buffer.alloc(0) },
      { contexts: [], fragment: Buffer.from([0x4c, 0x01, 0, 0, 1]) },
    ];
  },
};
