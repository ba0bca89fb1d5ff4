// startup_info: the STARTUPINFO-like block new_process sends, a 92-byte
// header followed by eight UTF-16 strings whose lengths the header gives.

import type { VarargKind } from './kind.ts';
import { copyBytes, u32 } from './bytes.ts';
import { formatWideChars, hex, hexPad, udec32 } from './format.ts';
import { isMalformed, malformed, structuredOrMalformed, type Malformed } from './malformed.ts';
import { parseStruct, structParser, writeFields, type Layout } from './struct.ts';

const HEADER = 92;

export const STARTUP_STRINGS = ['curdir', 'dllpath', 'imagepath', 'cmdline', 'title', 'desktop', 'shellinfo', 'runtime'] as const;
type StartupString = (typeof STARTUP_STRINGS)[number];

const NUMERIC_FIELDS = [
  'debug_flags',
  'console_flags',
  'console',
  'hstdin',
  'hstdout',
  'hstderr',
  'x',
  'y',
  'xsize',
  'ysize',
  'xchars',
  'ychars',
  'attribute',
  'flags',
  'show',
] as const;

const LAYOUT: Layout = [
  ...NUMERIC_FIELDS.map((name, i) => [name, 4 * i, 'u32'] as const),
  ...STARTUP_STRINGS.map((name, i) => [`${name}_len`, 60 + 4 * i, 'u32'] as const),
];
const headerParser = structParser(LAYOUT, HEADER);

export type StartupInfo = Record<(typeof NUMERIC_FIELDS)[number], number> &
  Record<StartupString, string> & {
    /** Bytes after the last string. */
    trailing: Buffer;
  };

export type StartupInfoField = StartupInfo | Malformed;

export function encodeStartupInfo(value: StartupInfo): Buffer {
  const strings = STARTUP_STRINGS.map((name) => Buffer.from(value[name], 'utf16le'));
  const header = Buffer.alloc(HEADER);
  writeFields(header, 0, LAYOUT, {
    ...Object.fromEntries(NUMERIC_FIELDS.map((name) => [name, value[name]])),
    ...Object.fromEntries(STARTUP_STRINGS.map((name, i) => [`${name}_len`, strings[i].length])),
  });
  return Buffer.concat([header, ...strings, value.trailing]);
}

function parseStartupInfo(bytes: Buffer): StartupInfo | undefined {
  if (bytes.length < HEADER) return undefined;
  const header = parseStruct<Record<string, number>>(headerParser, bytes, 0, HEADER);
  const out: Record<string, unknown> = {};
  for (const name of NUMERIC_FIELDS) out[name] = header[name];
  let pos = HEADER;
  for (const name of STARTUP_STRINGS) {
    const len = header[`${name}_len`];
    if (len % 2 || len > bytes.length - pos) return undefined;
    out[name] = bytes.toString('utf16le', pos, pos + len);
    pos += len;
  }
  out.trailing = copyBytes(bytes, pos, bytes.length - pos);
  return out as StartupInfo;
}

/** dump_varargs_startup_info over the exact bytes (a short header reads as zeros). */
export function traceStartupInfo(b: Buffer): string {
  const size = b.length;
  const f = (i: number) => u32(b, 4 * i);
  let out =
    `{debug_flags=${hex(f(0))},console_flags=${hex(f(1))},console=${hexPad(f(2), 4)},hstdin=${hexPad(f(3), 4)},hstdout=${hexPad(f(4), 4)}` +
    `,hstderr=${hexPad(f(5), 4)},x=${udec32(f(6))},y=${udec32(f(7))},xsize=${udec32(f(8))},ysize=${udec32(f(9))},xchars=${udec32(f(10))}` +
    `,ychars=${udec32(f(11))},attribute=${hexPad(f(12), 2)},flags=${hex(f(13))},show=${udec32(f(14))}`;
  let pos = HEADER;
  STARTUP_STRINGS.forEach((name, i) => {
    out += `${i ? '",' : ','}${name}=L"`;
    if (pos >= size) return;
    const len = Math.min(u32(b, 60 + 4 * i), size - pos);
    out += formatWideChars(b, pos, len);
    pos += len & ~1;
  });
  return out + '"}';
}

const encodeField = (value: StartupInfoField): Buffer => (isMalformed(value) ? Buffer.from(value.bytes) : encodeStartupInfo(value));

const base: StartupInfo = {
  debug_flags: 0,
  console_flags: 0,
  console: 0,
  hstdin: 0,
  hstdout: 0,
  hstderr: 0,
  x: 0,
  y: 0,
  xsize: 0,
  ysize: 0,
  xchars: 0,
  ychars: 0,
  attribute: 0,
  flags: 0,
  show: 0,
  curdir: '',
  dllpath: '',
  imagepath: '',
  cmdline: '',
  title: '',
  desktop: '',
  shellinfo: '',
  runtime: '',
  trailing: Buffer.alloc(0),
};

export const startupInfoKind: VarargKind<StartupInfoField> = {
  kind: 'startup_info',
  decode(buf, offset, available) {
    const bytes = buf.subarray(offset, offset + available);
    return { value: structuredOrMalformed(bytes, parseStartupInfo, encodeStartupInfo), size: available };
  },
  encode: encodeField,
  format: (value) => traceStartupInfo(encodeField(value)),
  samples: () => [
    base,
    {
      ...base,
      debug_flags: 1,
      console_flags: 2,
      console: 0x1c,
      hstdin: 0x20,
      hstdout: 0x24,
      hstderr: 0xffffffff,
      x: 10,
      y: 20,
      xsize: 800,
      ysize: 600,
      xchars: 80,
      ychars: 25,
      attribute: 0x1f,
      flags: 0x101,
      show: 1,
      curdir: 'C:\\users\\wine\\',
      dllpath: 'C:\\windows\\system32',
      imagepath: 'C:\\windows\\system32\\notepad.exe',
      cmdline: 'notepad "a b.txt"',
      title: 'T\u00e9st',
      desktop: 'WinSta0\\Default',
      shellinfo: '',
      runtime: '\0\0\0\0',
      trailing: Buffer.from([0, 0]),
    },
    malformed(Buffer.alloc(0)),
    malformed(Buffer.alloc(40, 7)),
    malformed(Buffer.concat([Buffer.from([1, 0, 0, 0]), Buffer.alloc(56), Buffer.from([3, 0, 0, 0]), Buffer.alloc(28), Buffer.from('abc')])),
  ],
};
