// binary-parser, tuned for decoding many small frames.
//
// binary-parser's top-level code always adds `$parent`/`$root` properties to
// the result object and deletes them before returning it. Deleting
// properties turns every result into a dictionary-mode object, which made
// decoding about five times slower than a hand-written DataView decoder
// (bench/protocol.ts). Our fixed-part parsers are flat and never use context
// variables, so the top-level code is replaced with one that builds a plain
// object. This relies on binary-parser's code generator (addRawCode,
// generate, resolveReferences), so the package version is pinned; the
// round-trip and cross-check tests exercise every generated parser.

import { Parser } from 'binary-parser';

interface CodeContext {
  pushCode(code: string): void;
}

interface ParserInternals {
  addRawCode(ctx: CodeContext): void;
  generate(ctx: CodeContext): void;
  resolveReferences(ctx: CodeContext): void;
}

function flatRawCode(this: ParserInternals, ctx: CodeContext): void {
  ctx.pushCode('var offset = 0;');
  ctx.pushCode('var vars = {};');
  this.generate(ctx);
  this.resolveReferences(ctx);
  ctx.pushCode('return vars;');
}

/** A little-endian binary-parser Parser whose results are plain, fast objects. */
export function frameParser(): Parser {
  const parser = new Parser().endianness('little');
  (parser as unknown as ParserInternals).addRawCode = flatRawCode;
  return parser;
}
