// Name parsing for the in-process backend.
//
// Names are byte strings. Internally a name is kept as a "key": a JS string
// with one char per byte (latin1). That makes Map lookups O(1) on bytes, keeps
// arbitrary (non-UTF-8) names exact, and makes the default string order the
// bytewise order the contract asks listings to use. ASCII names (the common
// case) are their own key, so no conversion happens on the hot path.
import {
  WK_EINVAL,
  WK_ENAMETOOLONG,
  WK_KERNID_MAX,
  WK_NAME_MAX,
  WK_NAMESPACE_MAX,
  type WkName,
} from '../primitives.js';

/** Converts a name to its key, or returns -EINVAL if a string holds a NUL. */
export function toKey(name: WkName): string | number {
  if (typeof name === 'string') {
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c === 0) return -WK_EINVAL;
      if (c > 0x7f) return Buffer.from(name, 'utf8').toString('latin1');
    }
    return name;
  }
  if (name instanceof Uint8Array) {
    return Buffer.from(name.buffer, name.byteOffset, name.byteLength).toString('latin1');
  }
  return -WK_EINVAL;
}

function isNamespaceChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x5f || // _
    c === 0x2e || // .
    c === 0x2d // -
  );
}

/**
 * Validates a full-name key. Returns the namespace length (the index of the
 * first ':'), -1 for a bare namespace (name to be assigned), or -errno.
 */
export function checkNameKey(key: string): number {
  const length = key.length;
  if (length > WK_NAME_MAX) return -WK_ENAMETOOLONG;
  let colon = -1;
  for (let i = 0; i < length; i++) {
    const c = key.charCodeAt(i);
    if (c === 0x3a) {
      colon = i;
      break;
    }
    if (!isNamespaceChar(c)) return -WK_EINVAL;
  }
  const namespaceLength = colon < 0 ? length : colon;
  // an over-long namespace makes the name malformed, not too long
  if (namespaceLength === 0 || namespaceLength > WK_NAMESPACE_MAX) return -WK_EINVAL;
  if (colon < 0) return -1;
  if (colon === length - 1) return -WK_EINVAL; // empty name after ':'
  for (let i = colon + 1; i < length; i++) {
    if (key.charCodeAt(i) === 0) return -WK_EINVAL;
  }
  return colon;
}

/** Validates a namespace key (for listing): 0 or -errno. */
export function checkNamespaceKey(key: string): number {
  if (key.length === 0 || key.length > WK_NAMESPACE_MAX) return -WK_EINVAL;
  for (let i = 0; i < key.length; i++) {
    if (!isNamespaceChar(key.charCodeAt(i))) return -WK_EINVAL;
  }
  return 0;
}

/** Validates an instance name key: 0 or -errno. */
export function checkKernidKey(key: string): number {
  if (key.length === 0 || key.length > WK_KERNID_MAX) return -WK_EINVAL;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c === 0 || c === 0x2f) return -WK_EINVAL;
  }
  return 0;
}

/** Eight lowercase hex digits: the assigned-name format. */
export function hex8(value: number): string {
  return value.toString(16).padStart(8, '0');
}
