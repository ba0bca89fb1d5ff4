// binary-parser 2.x ships typings but its package.json "exports" map does not
// point at them, so NodeNext resolution cannot find them. Re-export them.
declare module 'binary-parser' {
  export * from 'binary-parser/dist/binary_parser.js';
}
