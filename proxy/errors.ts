// Errors the proxy and its commands report to people: each has a stable
// `code`, a message that says what to do, and never needs a stack trace.

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

export class ProxyError extends Error {
  constructor(
    readonly code: ProxyErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProxyError';
  }
}
