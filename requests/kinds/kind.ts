// The two extension points of the protocol layer. Everything protocol.def
// names but does not spell out (a variable part such as
// VARARG(sd,security_descriptor), or a fixed field of a structured type such
// as apc_call_t) is a "kind": a small pure decoder, an encoder and a
// formatter that prints it the way wineserver's +server trace does.
//
// Invariants every kind keeps (the tests check them for all kinds):
//  - decode never throws on any input: bytes that do not make sense as the
//    kind decode to a value that still says what was there (typically
//    `{ malformed: true, bytes }`), so a hostile client cannot crash us;
//  - encode(decode(b)) reproduces exactly the bytes decode consumed;
//  - format prints what Wine's own trace prints for the same bytes.

export interface TraceContext {
  /**
   * The server's "now" in 100 ns units since 1601 (what wineserver calls
   * current_time), used to print absolute timeouts relative to now.
   * Undefined when unknown: absolute times then print without the relative part.
   */
  readonly now?: bigint;
  /**
   * wineserver's monotonic_time (100 ns units since boot), used to resolve
   * negative (monotonic) abstime_t values. Undefined when unknown.
   */
  readonly monotonicNow?: bigint;
  /** Names statuses as the traced protocol version's wineserver does (set by Protocol). */
  readonly statusName?: (status: number) => string;
}

/** A variable-part kind: VARARG(name, KIND[, size]). */
export interface VarargKind<T = unknown> {
  readonly kind: string;
  /**
   * Decodes from buf[offset, offset + available). Returns the value and how
   * many bytes it took (0 <= size <= available). Most kinds take all of
   * `available`; self-sized ones (object_attributes, ...) take their own size
   * and leave the rest to the next vararg, as wineserver's dumpers do.
   */
  decode(buf: Buffer, offset: number, available: number): { value: T; size: number };
  /** The exact bytes of `value`. */
  encode(value: T): Buffer;
  /**
   * The trace text, without the `name=` prefix; `null` when wineserver prints
   * nothing at all for it, not even the prefix (apc_result shorter than its
   * struct, for instance).
   */
  format(value: T, ctx: TraceContext): string | null;
  /** Values to exercise the encoder in tests, including edge cases (empty, odd sizes, maximum counts). */
  samples(): T[];
}

/** A fixed-size structured field type (apc_call_t, rectangle_t, struct luid, ...). */
export interface FixedKind<T = unknown> {
  /** The C type name as written in protocol.def. */
  readonly type: string;
  readonly size: number;
  readonly align: number;
  decode(buf: Buffer, offset: number): T;
  /** Writes `value` at `offset`; bytes the value does not describe are left zero. */
  encode(value: T, buf: Buffer, offset: number): void;
  /** The trace text; `null` when wineserver prints nothing for it, not even the prefix. */
  format(value: T, ctx: TraceContext): string | null;
  samples(): T[];
}
