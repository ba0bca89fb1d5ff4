// Number and string printers with the exact shapes wineserver's trace uses
// (printf %08x, %x%08x for 64-bit values, NT timeouts relative to "now", and
// the escaping rules of its wide-string dumper). The generator imports
// formatUint64/formatTimeout for scalar fields; the kinds use the rest.

import type { TraceContext } from './kind.ts';

/** Kept for the kinds that spoke of the clock separately; TraceContext now carries it. */
export type TraceClock = TraceContext;

/**
 * Wine's get_status_name, with the name table of the protocol version being
 * traced (the Protocol puts it in the context); plain hex without one.
 */
export function statusName(status: number, ctx: TraceContext): string {
  const value = status >>> 0;
  if (ctx.statusName) return ctx.statusName(value);
  return value.toString(16);
}

const TICKS_PER_SEC = 10_000_000n;
const TIMEOUT_INFINITE = 0x7fffffffffffffffn;

/** printf("%x") of an unsigned 32-bit value. */
export function hex(v: number): string {
  return (v >>> 0).toString(16);
}

/** printf("%0Nx") of an unsigned 32-bit value. */
export function hexPad(v: number, width: number): string {
  return (v >>> 0).toString(16).padStart(width, '0');
}

/** printf("%04hx"): the value is truncated to 16 bits first. */
export function hex16(v: number): string {
  return (v & 0xffff).toString(16).padStart(4, '0');
}

/** printf("%d") of a 32-bit value. */
export function dec32(v: number): string {
  return String(v | 0);
}

/** printf("%u") of a 32-bit value. */
export function udec32(v: number): string {
  return String(v >>> 0);
}

/** Wine's dump_uint64: high part only when non-zero, low part always 8 hex digits. */
export function formatUint64(v: bigint): string {
  const u = BigInt.asUintN(64, v);
  const high = Number(u >> 32n);
  const low = Number(u & 0xffffffffn);
  return high ? hex(high) + hexPad(low, 8) : hexPad(low, 8);
}

/** Wine's dump_uint128 (low and high 64-bit halves). */
export function formatUint128(low: bigint, high: bigint): string {
  const lo = BigInt.asUintN(64, low);
  const hi = BigInt.asUintN(64, high);
  const part = (v: bigint, shift: bigint) => Number((v >> shift) & 0xffffffffn);
  if (hi >> 32n) return hex(part(hi, 32n)) + hexPad(part(hi, 0n), 8) + hexPad(part(lo, 32n), 8) + hexPad(part(lo, 0n), 8);
  if (hi) return hex(part(hi, 0n)) + hexPad(part(lo, 32n), 8) + hexPad(part(lo, 0n), 8);
  if (lo >> 32n) return hex(part(lo, 32n)) + hexPad(part(lo, 0n), 8);
  return hex(part(lo, 0n));
}

/** printf("%0Nld"): zero padding goes after the sign, like C. */
function cLongPad(v: bigint, width: number): string {
  if (v < 0n) return '-' + (-v).toString().padStart(width - 1, '0');
  return v.toString().padStart(width, '0');
}

/** C's 64-bit `long` arithmetic wraps; so do we. */
const wrap64 = (v: bigint): bigint => BigInt.asIntN(64, v);

/**
 * A timeout_t as wineserver prints it: "0", "infinite", "+secs.fraction" for
 * relative timeouts, and for absolute ones the raw value in hex followed by
 * the distance from now, e.g. "1d9b1c2a3b4c5d6 (+1.5000000)". Without a
 * known `now` the distance is left out.
 */
export function formatTimeout(v: bigint, ctx: TraceContext): string {
  const timeout = wrap64(v);
  if (timeout === 0n) return '0';
  if (timeout === TIMEOUT_INFINITE) return 'infinite';
  if (timeout < 0n) {
    // Written as -(t / T) rather than (-t) / T so INT64_MIN prints as gcc -O2
    // builds of wineserver print its overflowing negation.
    const secs = -(timeout / TICKS_PER_SEC);
    const nsecs = -(timeout % TICKS_PER_SEC);
    return `+${secs}.${cLongPad(nsecs, 7)}`;
  }
  const u = BigInt.asUintN(64, timeout);
  const raw = hex(Number(u >> 32n)) + hexPad(Number(u & 0xffffffffn), 8);
  if (ctx.now === undefined) return raw;
  const delta = wrap64(timeout - ctx.now);
  let secs = delta / TICKS_PER_SEC;
  let nsecs = delta % TICKS_PER_SEC;
  if (nsecs < 0n) {
    nsecs += TICKS_PER_SEC;
    secs--;
  }
  if (secs >= 0n) return `${raw} (+${secs}.${cLongPad(nsecs, 7)})`;
  // Wine prints a whole negative second as "-(n-1).10000000"; we keep that quirk.
  return `${raw} (-${-(secs + 1n)}.${cLongPad(TICKS_PER_SEC - nsecs, 7)})`;
}

/**
 * An abstime_t: positive values are absolute system times; negative ones are
 * deadlines on the monotonic clock, which wineserver converts to a relative
 * timeout (or 0 when already past) before printing. Without `monotonicNow`
 * a negative value is printed as if it were relative already.
 */
export function formatAbstime(v: bigint, ctx: TraceClock): string {
  const abstime = wrap64(v);
  if (abstime > 0n) return formatTimeout(abstime, ctx);
  if (ctx.monotonicNow === undefined) return formatTimeout(abstime, ctx);
  const timeout = wrap64(-abstime) < ctx.monotonicNow ? 0n : wrap64(abstime + ctx.monotonicNow);
  return formatTimeout(timeout, ctx);
}

// C escapes wineserver uses for control characters; '.' means "use octal".
const CONTROL_ESCAPES = '.......abtnvfr.............e....';
const isHexDigit = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

/**
 * The body of a wide string as wineserver's dump_strW prints it (without the
 * surrounding L"..."), from `length` bytes of UTF-16LE at buf[offset]. An odd
 * trailing byte is ignored, a final NUL is dropped, code units above 127 are
 * printed as \xNNNN (4 digits only when the next character is a hex digit),
 * control characters as C or octal escapes, and `"` and `\` are backslashed.
 */
export function formatWideChars(buf: Buffer, offset: number, length: number): string {
  let count = Math.floor(length / 2);
  let out = '';
  let pos = offset;
  for (; count > 0; pos += 2, count--) {
    const c = u16at(buf, pos);
    const next = count > 1 ? u16at(buf, pos + 2) : -1;
    if (c > 127) {
      out += next >= 0 && next < 128 && isHexDigit(next) ? `\\x${c.toString(16).padStart(4, '0')}` : `\\x${c.toString(16)}`;
      continue;
    }
    if (c < 32) {
      if (c === 0 && count === 1) continue;
      const escape = CONTROL_ESCAPES[c];
      if (escape !== '.') out += `\\${escape}`;
      else if (next >= 0x30 && next <= 0x37) out += `\\${c.toString(8).padStart(3, '0')}`;
      else out += `\\${c.toString(8)}`;
      continue;
    }
    if (c === 0x5c || c === 0x22) out += '\\';
    out += String.fromCharCode(c);
  }
  return out;
}

function u16at(buf: Buffer, pos: number): number {
  return pos + 2 <= buf.length ? buf.readUInt16LE(pos) : 0;
}

/**
 * printf("%.*s") of raw bytes: stops at the first NUL. Bytes are mapped 1:1
 * to code points (latin1) so writing the trace as latin1 reproduces Wine's
 * bytes exactly.
 */
export function formatNarrowChars(buf: Buffer, offset: number, length: number): string {
  const end = Math.min(offset + length, buf.length);
  let stop = buf.indexOf(0, offset);
  if (stop < 0 || stop > end) stop = end;
  return buf.toString('latin1', offset, stop);
}

/** "{a,b,c}" */
export function braces(items: readonly string[]): string {
  return `{${items.join(',')}}`;
}
