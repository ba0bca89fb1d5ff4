// Errors the proxy and its commands report to people: each has a stable
// `code`, a message that says what to do, and never needs a stack trace.

import { WinekernelError } from '../errors/winekernel-error.ts';

export type ProxyErrorCode =
  | 'WINE_NOT_INSTALLED'
  | 'PREFIX_MISSING'
  | 'PREFIX_INVALID'
  | 'SOCKET_PATH_TAKEN'
  | 'WINESERVER_REFUSED'
  | 'WINESERVER_START_FAILED'
  | 'NAMESPACE_UNAVAILABLE'
  | 'UPSTREAM_UNAVAILABLE'
  | 'USAGE';

export class ProxyError extends WinekernelError<ProxyErrorCode> {}
