// Routing a decoded request: translate, forward or refuse.

import { describe, expect, it } from 'vitest';
import { createInProcessBackend } from '../../backends/inprocess/index.ts';
import { WK_ATTACH_CREATE } from '../../backends/primitives.ts';
import { Catalog, CATALOG_ENTRIES } from '../../mappings/catalog/index.ts';
import { dispatch, splitDomains } from '../../mappings/dispatch.ts';
import { PROXY_HANDLE_TOP, ProxyHandleTable } from '../../mappings/handles.ts';
import { STATUS_NOT_SUPPORTED } from '../../mappings/ntstatus.ts';
import { TranslationError, type TranslatedEntry, type TranslationContext, type Translator } from '../../mappings/translator.ts';
import { loadProtocol } from '../../requests/protocol.ts';

const protocol = loadProtocol('wine-8.0');
const catalog = new Catalog(protocol.requests.map((r) => r.name));

function context(): TranslationContext {
  const session = createInProcessBackend().openSession();
  expect(session.attach('dispatch', WK_ATTACH_CREATE)).toBeGreaterThanOrEqual(0);
  return { session, pid: 0x20, tid: 0x24, handles: new ProxyHandleTable(), protocol };
}

const decoded = (name: string, body: Record<string, unknown>, replySize = 0) =>
  protocol.decodeRequest(protocol.encodeRequest({ code: protocol.codeOf(name), replySize, body }));

describe('dispatch', () => {
  it('reports the atom table as a split domain', () => {
    // (and the other domains whose requests are only partly translated: the object namespace, tokens, ...)
    expect([...splitDomains(catalog)]).toContain('global-atom-table');
  });

  it('translates atoms in replay mode and forwards them live while their domain is split', async () => {
    const ctx = context();
    const add = decoded('add_atom', { name: 'Foo' });
    expect(await dispatch(catalog, add, ctx, { mode: 'replay' })).toEqual({ action: 'reply', reply: { error: 0, body: { atom: 0xc000 } } });
    expect(await dispatch(catalog, add, ctx, { mode: 'live' })).toEqual({ action: 'forward', why: 'split-domain' });
  });

  it('forwards forwarded types and requests naming wineserver handles', async () => {
    const ctx = context();
    expect(await dispatch(catalog, decoded('close_handle', { handle: 0x10 }), ctx, { mode: 'live' })).toEqual({ action: 'forward', why: 'server-handles' });
    expect(await dispatch(catalog, decoded('get_startup_info', {}), ctx, { mode: 'live' })).toEqual({ action: 'forward', why: 'forwarded-type' });
  });

  it('refuses a mix of proxy and wineserver handles, and proxy handles nobody translates', async () => {
    const ctx = context();
    const mixed = decoded('dup_handle', { src_process: 0xffffffff, src_handle: PROXY_HANDLE_TOP, dst_process: 0x10, access: 0, attributes: 0, options: 0 });
    expect(await dispatch(catalog, mixed, ctx, { mode: 'live' })).toMatchObject({ action: 'refuse', status: STATUS_NOT_SUPPORTED });
    const orphan = decoded('close_handle', { handle: PROXY_HANDLE_TOP });
    expect(await dispatch(catalog, orphan, ctx, { mode: 'live' })).toMatchObject({ action: 'refuse', status: STATUS_NOT_SUPPORTED });
  });

  it('lets live entries that reach wineserver themselves take more than their handles say (liveRouting)', async () => {
    const ctx = context();
    const stub = (request: string, liveRouting: 'any' | 'mixed'): TranslatedEntry => ({
      request,
      family: 'sync objects',
      status: 'translated',
      domains: ['sync-objects'],
      primitives: ['lockobject'],
      liveRouting,
      translate: () => ({ error: 0, body: { stub: request } }),
    });
    const replaced: Record<string, Translator> = { create_mutex: stub('create_mutex', 'any'), select: stub('select', 'mixed') };
    const live = new Catalog(
      protocol.requests.map((r) => r.name),
      CATALOG_ENTRIES.map((e) => replaced[e.request] ?? e),
    );
    const reply = (request: string) => ({ action: 'reply', reply: { error: 0, body: { stub: request } } });
    // 'any': a named create under wineserver's \BaseNamedObjects handle, and an unnamed one despite the split domain.
    const named = decoded('create_mutex', { access: 0x1f0001, owned: 0, objattr: { rootdir: 0x10, attributes: 0x80, sd: null, name: 'M' } });
    expect(await dispatch(live, named, ctx, { mode: 'live' })).toEqual(reply('create_mutex'));
    expect(await dispatch(live, decoded('create_mutex', { access: 0x1f0001, owned: 0, objattr: null }), ctx, { mode: 'live' })).toEqual(reply('create_mutex'));
    // ... but only live: replay routes by the handles as ever.
    expect(await dispatch(live, named, ctx, { mode: 'replay' })).toEqual({ action: 'forward', why: 'server-handles' });
    // 'mixed': a wait on a proxy mutex and a wineserver event is the entry's; one on wineserver's objects only is not.
    const select = (handles: number[]) =>
      decoded('select', {
        flags: 2,
        cookie: 0x1000n,
        timeout: 0n,
        size: 4 + 4 * handles.length,
        prev_apc: 0,
        result: { type: 0, raw: Buffer.alloc(40) },
        data: { op: 2, handles },
        contexts: { contexts: [], fragment: Buffer.alloc(0) },
      });
    expect(await dispatch(live, select([0x18, PROXY_HANDLE_TOP]), ctx, { mode: 'live' })).toEqual(reply('select'));
    expect(await dispatch(live, select([PROXY_HANDLE_TOP]), ctx, { mode: 'live' })).toEqual(reply('select'));
    expect(await dispatch(live, select([0x18, 0x1c]), ctx, { mode: 'live' })).toEqual({ action: 'forward', why: 'server-handles' });
    expect(await dispatch(live, select([]), ctx, { mode: 'live' })).toEqual({ action: 'forward', why: 'split-domain' });
    expect(await dispatch(live, select([0x18, PROXY_HANDLE_TOP]), ctx, { mode: 'replay' })).toMatchObject({ action: 'refuse', status: STATUS_NOT_SUPPORTED });
  });

  it('wraps a failing translator in a typed error', async () => {
    const ctx = context();
    ctx.session.end();
    await expect(dispatch(catalog, decoded('find_atom', { name: 'x' }), ctx, { mode: 'replay' })).rejects.toMatchObject({
      code: 'WK_TRANSLATOR_FAILED',
    });
    await expect(dispatch(catalog, { ...decoded('find_atom', { name: 'x' }), name: 'nope' }, ctx, { mode: 'replay' })).rejects.toBeInstanceOf(TranslationError);
  });
});
