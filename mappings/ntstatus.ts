// NTSTATUS values the translators answer with, and the mapping from the
// primitives' negative errno results to the status wineserver would give for
// the same situation. Values are the public NT definitions (the generated
// protocol's STATUS_NAMES table lists the same numbers; a test checks they
// agree).

import {
  WK_EACCES,
  WK_EBADF,
  WK_EEXIST,
  WK_EFBIG,
  WK_EINVAL,
  WK_EMFILE,
  WK_ENAMETOOLONG,
  WK_ENOENT,
  WK_ENOMEM,
  WK_ENOSPC,
} from '../backends/primitives.ts';

export const STATUS_SUCCESS = 0x00000000;
export const STATUS_WAS_LOCKED = 0x40000019;
export const STATUS_BUFFER_OVERFLOW = 0x80000005;
export const STATUS_NOT_IMPLEMENTED = 0xc0000002;
export const STATUS_INVALID_HANDLE = 0xc0000008;
export const STATUS_INVALID_PARAMETER = 0xc000000d;
export const STATUS_NO_MEMORY = 0xc0000017;
export const STATUS_ACCESS_DENIED = 0xc0000022;
export const STATUS_OBJECT_NAME_INVALID = 0xc0000033;
export const STATUS_OBJECT_NAME_NOT_FOUND = 0xc0000034;
export const STATUS_OBJECT_NAME_COLLISION = 0xc0000035;
export const STATUS_INSUFFICIENT_RESOURCES = 0xc000009a;
export const STATUS_NOT_SUPPORTED = 0xc00000bb;
export const STATUS_PROCESS_IS_TERMINATING = 0xc000010a;
export const STATUS_TOO_MANY_OPENED_FILES = 0xc000011f;
export const STATUS_HANDLE_NOT_CLOSABLE = 0xc0000235;


/**
 * The status a failed primitive call stands for when a translator has no
 * more specific answer. Quota errors map to what wineserver says when its own
 * allocations fail; anything unexpected becomes STATUS_NOT_SUPPORTED, so a
 * client never mistakes it for a real answer.
 */
export function statusFromErrno(result: number): number {
  switch (-result) {
    case WK_ENOENT:
      return STATUS_OBJECT_NAME_NOT_FOUND;
    case WK_EEXIST:
      return STATUS_OBJECT_NAME_COLLISION;
    case WK_EACCES:
      return STATUS_ACCESS_DENIED;
    case WK_EBADF:
      return STATUS_INVALID_HANDLE;
    case WK_EINVAL:
    case WK_ENAMETOOLONG:
      return STATUS_OBJECT_NAME_INVALID;
    case WK_ENOMEM:
    case WK_EFBIG:
    case WK_ENOSPC:
      return STATUS_NO_MEMORY;
    case WK_EMFILE:
      return STATUS_TOO_MANY_OPENED_FILES;
    default:
      return STATUS_NOT_SUPPORTED;
  }
}
