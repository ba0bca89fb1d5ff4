// The common shape for bytes that do not parse as the kind they claim to be.
// They are kept verbatim so they re-encode exactly and still trace the way
// wineserver traces them.

export interface Malformed {
  malformed: true;
  bytes: Buffer;
}

export const malformed = (bytes: Buffer): Malformed => ({ malformed: true, bytes: Buffer.from(bytes) });

export function isMalformed(value: unknown): value is Malformed {
  return typeof value === 'object' && value !== null && (value as { malformed?: unknown }).malformed === true;
}

/**
 * What a kind's `format` returns when wineserver prints nothing at all for the
 * field, not even its `name=` prefix (an empty sid, a short apc_result).
 */
export const OMITTED = null;

/**
 * Decodes `bytes` with `parse` and keeps the result only if it re-encodes to
 * exactly the same bytes; anything else (including a parser exception) is
 * kept as Malformed. This is what makes every round trip exact.
 */
export function structuredOrMalformed<T>(bytes: Buffer, parse: (b: Buffer) => T | undefined, encode: (v: T) => Buffer): T | Malformed {
  let value: T | undefined;
  try {
    value = parse(bytes);
    if (value !== undefined && encode(value).equals(bytes)) return value;
  } catch {
    // fall through: not this kind's canonical layout
  }
  return malformed(bytes);
}
