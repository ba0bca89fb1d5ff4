// The shared error base: every typed error keeps its stable code, its own
// class name and every instanceof check its callers make.

import { describe, expect, it } from 'vitest';
import { WinekernelError } from '../../errors/winekernel-error.ts';
import { ProxyError } from '../../proxy/errors.ts';
import { ServerFdError } from '../../proxy/translate/server-channel.ts';
import { RecordingFormatError } from '../../proxy/recording/reader.ts';
import { HiveRequestError } from '../../mappings/registry/hive-requests.ts';
import { NotificationError } from '../../mappings/registry/notifications.ts';
import { MutexStoreError } from '../../mappings/sync/mutex-state.ts';
import { AtomStoreError } from '../../mappings/atoms.ts';
import { CatalogError, TranslationError } from '../../mappings/translator.ts';
import { ServerCallFailed } from '../../mappings/server-calls.ts';
import { WkError, WkSessionClosedError } from '../../backends/primitives.ts';
import { ProtocolError } from '../../requests/errors.ts';
import { LayoutError } from '../../requests/generator/layout.ts';
import { ServerCallError } from '../../proxy/relay/thread-relay.ts';
import { TranslationRouterError } from '../../proxy/translate/router.ts';
import { NamespaceStoreError } from '../../mappings/namespace/store.ts';

describe('WinekernelError', () => {
  it('each subclass has its name, its code, its message and its own extra fields', () => {
    const cases: Array<[WinekernelError, string, string]> = [
      [new ServerFdError('no fd'), 'ServerFdError', 'WK_SERVER_FD_MISSING'],
      [new HiveRequestError('save_registry'), 'HiveRequestError', 'WK_HIVE_NO_SERVER'],
      [new NotificationError(), 'NotificationError', 'WK_NOTIFY_NO_SERVER'],
      [new MutexStoreError('broken'), 'MutexStoreError', 'WK_MUTEX_STORE'],
      [new AtomStoreError('broken'), 'AtomStoreError', 'WK_ATOM_STORE'],
      [new ProxyError('USAGE', 'bad flag'), 'ProxyError', 'USAGE'],
      [new ProtocolError('WK_BAD_FRAME', 'short'), 'ProtocolError', 'WK_BAD_FRAME'],
      [new TranslationError('WK_TRANSLATOR_FAILED', 'threw'), 'TranslationError', 'WK_TRANSLATOR_FAILED'],
      [new RecordingFormatError('/x.wkrec', 'bad magic'), 'RecordingFormatError', 'RECORDING_INVALID'],
      [new WkSessionClosedError(), 'WkSessionClosedError', 'WK_SESSION_CLOSED'],
      [new ServerCallError('WK_SERVER_CALL_NOT_HELD', 'not held'), 'ServerCallError', 'WK_SERVER_CALL_NOT_HELD'],
      [new TranslationRouterError('WK_ROUTER_ATTACH', 'cannot attach'), 'TranslationRouterError', 'WK_ROUTER_ATTACH'],
      [new NamespaceStoreError('broken'), 'NamespaceStoreError', 'WK_NAMESPACE_STORE'],
    ];
    for (const [error, name, code] of cases) {
      expect(error).toBeInstanceOf(WinekernelError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(name);
      expect(error.code).toBe(code);
      expect(String(error)).toMatch(new RegExp(`^${name}: `));
    }
    expect(new WkSessionClosedError()).toBeInstanceOf(WkError);
    expect(new ServerCallFailed('open_token', 0xc0000022).status).toBe(0xc0000022);
    expect(new CatalogError(['a', 'b']).problems).toEqual(['a', 'b']);
    expect(new LayoutError('bad', 12).message).toBe('protocol.def:12: bad');
  });

  it('keeps a cause', () => {
    const cause = new Error('underneath');
    expect(new ProxyError('WINESERVER_START_FAILED', 'no', { cause }).cause).toBe(cause);
  });
});
