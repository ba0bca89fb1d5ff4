// Byte and string varargs: bytes, message_data, string, unicode_str.

import type { VarargKind } from './kind.ts';
import { copyBytes } from './bytes.ts';
import { formatNarrowChars, formatWideChars } from './format.ts';

/** Wine prints at most this many bytes of a byte vararg, then the total. */
const MAX_DUMPED_BYTES = 1024;

export function formatByteDump(bytes: Buffer): string {
  const shown = bytes.subarray(0, MAX_DUMPED_BYTES);
  let out = '{';
  for (let i = 0; i < shown.length; i++) out += (i ? ',' : '') + shown[i].toString(16).padStart(2, '0');
  if (bytes.length > MAX_DUMPED_BYTES) out += `...(total ${bytes.length})`;
  return out + '}';
}

const byteSamples = (): Buffer[] => [
  Buffer.alloc(0),
  Buffer.from([0]),
  Buffer.from([0xff, 0x00, 0x7f, 0x80]),
  Buffer.from('hello\n', 'latin1'),
  Buffer.alloc(1024, 0xab),
  Buffer.alloc(1025, 0x01),
  Buffer.alloc(70000, 0x42),
];

function byteKind(kind: string): VarargKind<Buffer> {
  return {
    kind,
    decode: (buf, offset, available) => ({ value: copyBytes(buf, offset, available), size: available }),
    encode: (value) => Buffer.from(value),
    format: (value) => formatByteDump(value),
    samples: byteSamples,
  };
}

/** Opaque data. */
export const bytesKind = byteKind('bytes');

/**
 * Message payloads. Their layout depends on the message (hardware, callback,
 * winevent, or the packed parameters of a sent message), and Wine's trace
 * shows them as bytes, so they stay bytes here.
 */
export const messageDataKind = byteKind('message_data');

/**
 * A narrow string (a Unix file name or a plain char string), without
 * terminator. Kept as bytes: Unix names need not be valid UTF-8.
 */
export const stringKind: VarargKind<Buffer> = {
  kind: 'string',
  decode: (buf, offset, available) => ({ value: copyBytes(buf, offset, available), size: available }),
  encode: (value) => Buffer.from(value),
  // printf("%.*s") stops at an embedded NUL.
  format: (value) => `"${formatNarrowChars(value, 0, value.length)}"`,
  samples: () => [
    Buffer.alloc(0),
    Buffer.from('/tmp/.wine-0/server-803-1234/socket'),
    Buffer.from('a\0b'),
    Buffer.from([0xc3, 0xa9, 0xff, 0x22, 0x5c]),
    Buffer.alloc(4096, 0x61),
  ],
};

/** An odd number of bytes cannot be UTF-16; such a value keeps its bytes. */
export interface MalformedUnicode {
  malformed: true;
  bytes: Buffer;
}

/**
 * UTF-16LE text without terminator. Any even-length input decodes to a JS
 * string (JS strings hold lone surrogates too, so the round trip is exact).
 */
export type UnicodeStr = string | MalformedUnicode;

export function decodeUnicode(buf: Buffer, offset: number, length: number): UnicodeStr {
  if (length % 2) return { malformed: true, bytes: copyBytes(buf, offset, length) };
  return buf.toString('utf16le', offset, offset + length);
}

export function encodeUnicode(value: UnicodeStr): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf16le') : Buffer.from(value.bytes);
}

/** The body of Wine's L"..." for `value` (no quotes). */
export function formatUnicodeBody(value: UnicodeStr): string {
  const bytes = encodeUnicode(value);
  return formatWideChars(bytes, 0, bytes.length);
}

export const unicodeStrKind: VarargKind<UnicodeStr> = {
  kind: 'unicode_str',
  decode: (buf, offset, available) => ({ value: decodeUnicode(buf, offset, available), size: available }),
  encode: encodeUnicode,
  format: (value) => `L"${formatUnicodeBody(value)}"`,
  samples: () => [
    '',
    'foo',
    '\\??\\C:\\windows\\system32\\kernel32.dll',
    'tab\there\nnew "quoted" \\ back',
    '\0',
    'a\0b\0',
    '\x01\x07\x1b\x7f0\x010',
    'h\u00e9llo \u4e2d\u6587 \u00e9a \u00e9g',
    '\ud800\udc00 lone \ud800 \udfff',
    'x'.repeat(32767),
    { malformed: true, bytes: Buffer.from([0x41]) },
    { malformed: true, bytes: Buffer.from([0x41, 0x00, 0x42]) },
  ],
};
