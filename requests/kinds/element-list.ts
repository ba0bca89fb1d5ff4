// Shared machinery for varargs that are plain arrays of one fixed-size
// element (uints, rectangles, handle_infos, ...). binary-parser decodes the
// whole elements; bytes after the last whole element are kept verbatim in
// `trailing` so a round trip is exact and the trace can show what Wine shows.

import { Parser } from 'binary-parser';
import type { TraceContext, VarargKind } from './kind.ts';
import { copyBytes } from './bytes.ts';

export interface ElementList<T> {
  items: T[];
  /** Bytes after the last whole element (0 <= length < element size). */
  trailing: Buffer;
}

export interface ElementListSpec<T> {
  kind: string;
  elementSize: number;
  /** A binary-parser element type: a primitive name such as 'uint32le' or a Parser for a struct. */
  element: string | Parser;
  write(buf: Buffer, offset: number, item: T): void;
  formatItem(item: T, ctx: TraceContext): string;
  /**
   * Some of Wine's dumpers loop "while whole elements remain" and print a
   * separator whenever bytes are left, so a partial tail shows as a dangling
   * comma; the others print whole elements only.
   */
  commaBeforePartialTail?: boolean;
  sampleItems: T[][];
}

export function elementListKind<T>(spec: ElementListSpec<T>): VarargKind<ElementList<T>> {
  const listParser = new Parser().array('items', { type: spec.element, readUntil: 'eof' });
  return {
    kind: spec.kind,
    decode(buf, offset, available) {
      const whole = Math.floor(available / spec.elementSize) * spec.elementSize;
      const items = whole ? (listParser.parse(buf.subarray(offset, offset + whole)) as { items: T[] }).items : [];
      return { value: { items, trailing: copyBytes(buf, offset + whole, available - whole) }, size: available };
    },
    encode(value) {
      const out = Buffer.alloc(value.items.length * spec.elementSize + value.trailing.length);
      value.items.forEach((item, i) => spec.write(out, i * spec.elementSize, item));
      value.trailing.copy(out, value.items.length * spec.elementSize);
      return out;
    },
    format(value, ctx) {
      const body = value.items.map((item) => spec.formatItem(item, ctx)).join(',');
      const dangling = spec.commaBeforePartialTail && value.items.length > 0 && value.trailing.length > 0;
      return `{${body}${dangling ? ',' : ''}}`;
    },
    samples() {
      const lists = spec.sampleItems.map((items) => ({ items, trailing: Buffer.alloc(0) }));
      const first = spec.sampleItems.find((items) => items.length > 0) ?? [];
      // A partial element after whole ones, and a partial element alone.
      for (let n = 1; n < spec.elementSize; n += Math.max(1, spec.elementSize >> 2)) {
        lists.push({ items: first, trailing: Buffer.alloc(n, 0xa5) });
      }
      lists.push({ items: [], trailing: Buffer.alloc(spec.elementSize - 1, 0x5a) });
      return lists;
    },
  };
}
