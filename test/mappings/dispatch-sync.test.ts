// The synchronous fast path of translation (docs/translation.md, "Routing
// translated requests"): a decision reached without waiting is a plain value,
// a translator that waits gives a promise, and a failure is always a rejected
// promise, never a throw out of dispatch.

import { describe, expect, it } from 'vitest';
import { Catalog, CATALOG_ENTRIES } from '../../mappings/catalog/index.ts';
import { dispatch } from '../../mappings/dispatch.ts';
import { PROXY_HANDLE_TOP } from '../../mappings/handles.ts';
import { createKey, enumKey, getKeyValue, openKey, registryFor } from '../../mappings/registry/translators.ts';
import { STATUS_INVALID_HANDLE, STATUS_NOT_SUPPORTED } from '../../mappings/ntstatus.ts';
import { closeProxyHandleEntry, liveFamilies } from '../../proxy/translate/live/index.ts';
import { TranslationError, type Awaitable, type TranslatedEntry, type TranslatedReply, type Translator } from '../../mappings/translator.ts';
import { call, client, freshSession, protocol } from './registry-helpers.ts';

const decoded = (name: string, body: Record<string, unknown>, replySize = 0) =>
  protocol.decodeRequest(protocol.encodeRequest({ code: protocol.codeOf(name), replySize, body }));

/** The base catalog with `entry` in place of its request's entry. */
function catalogWith(entry: Translator): Catalog {
  return new Catalog(
    protocol.requests.map((r) => r.name),
    CATALOG_ENTRIES.map((e) => (e.request === entry.request ? entry : e)),
  );
}

/** A translated add_atom whose translate is `translate` (atoms are translated in replay mode). */
function addAtomEntry(translate: TranslatedEntry['translate']): TranslatedEntry {
  return { request: 'add_atom', family: 'atoms', status: 'translated', domains: ['global-atom-table'], primitives: ['object_create'], translate };
}

describe('dispatch without waiting', () => {
  it('gives forwards, refusals and at-once replies as plain values', () => {
    const { session } = freshSession('sync');
    const ctx = client(session);
    const catalog = catalogWith(addAtomEntry(() => ({ error: 0, body: { atom: 0xc001 } })));
    const forward = dispatch(catalog, decoded('close_handle', { handle: 0x10 }), ctx, { mode: 'live' });
    expect(forward).not.toBeInstanceOf(Promise);
    expect(forward).toEqual({ action: 'forward', why: 'server-handles' });
    const refuse = dispatch(catalog, decoded('close_handle', { handle: PROXY_HANDLE_TOP }), ctx, { mode: 'live' });
    expect(refuse).not.toBeInstanceOf(Promise);
    expect(refuse).toMatchObject({ action: 'refuse', status: STATUS_NOT_SUPPORTED });
    const reply = dispatch(catalog, decoded('add_atom', { name: 'Now' }), ctx, { mode: 'replay' });
    expect(reply).not.toBeInstanceOf(Promise);
    expect(reply).toEqual({ action: 'reply', reply: { error: 0, body: { atom: 0xc001 } } });
  });

  it('gives a promise when the translator waits, and a rejected promise (typed) when it fails either way', async () => {
    const { session } = freshSession('sync');
    const ctx = client(session);
    const later: TranslatedReply = { error: 0, body: { atom: 0xc002 } };
    const waiting = dispatch(catalogWith(addAtomEntry(async () => later)), decoded('add_atom', { name: 'Later' }), ctx, { mode: 'replay' });
    expect(waiting).toBeInstanceOf(Promise);
    expect(await waiting).toEqual({ action: 'reply', reply: later });

    const broken = new Error('store broken');
    const throwing = addAtomEntry(() => {
      throw broken;
    });
    let thrown: unknown = null;
    let result: unknown;
    try {
      result = dispatch(catalogWith(throwing), decoded('add_atom', { name: 'Throws' }), ctx, { mode: 'replay' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeNull();
    expect(result).toBeInstanceOf(Promise);
    await expect(result).rejects.toMatchObject({ code: 'WK_TRANSLATOR_FAILED', cause: broken });

    const rejecting = addAtomEntry(() => Promise.reject(broken));
    await expect(dispatch(catalogWith(rejecting), decoded('add_atom', { name: 'Rejects' }), ctx, { mode: 'replay' })).rejects.toBeInstanceOf(TranslationError);

    // No catalog entry for the name: also a rejection, not a throw.
    const unknown = dispatch(catalogWith(throwing), { ...decoded('add_atom', { name: 'x' }), name: 'nope' }, ctx, { mode: 'replay' });
    expect(unknown).toBeInstanceOf(Promise);
    await expect(unknown).rejects.toMatchObject({ code: 'WK_NO_TRANSLATOR' });
  });
});

/** The value a translator gave, which must not be a promise. */
function now<T>(value: Awaitable<T>): T {
  expect(value).not.toBeInstanceOf(Promise);
  return value as T;
}

describe('registry translators without waiting', () => {
  it('answer reads and writes as plain values once the tree exists, as they answer through a promise', async () => {
    const { session } = freshSession('sync-reg');
    const ctx = client(session);
    // The first operation creates the tree: that one may wait.
    await registryFor(session).run('write', () => undefined);
    const objattr = (name: string) => ({ rootdir: 0, attributes: 0x40, sd: null, name });
    const create = (name: string) => now(createKey.translate(decoded('create_key', { access: 0x20019, options: 0, objattr: objattr(name), class: '' }) as never, ctx));
    expect(create('\\Registry\\Machine').error).toBe(0);
    expect(create('\\Registry\\Machine\\Software').error).toBe(0);

    const opened = now(openKey.translate(decoded('open_key', { parent: 0, access: 0x20019, attributes: 0x40, name: '\\Registry\\Machine' }) as never, ctx));
    expect(opened.error).toBe(0);
    const hkey = opened.body.hkey;
    const sub = now(openKey.translate(decoded('open_key', { parent: hkey, access: 0x20019, attributes: 0x40, name: 'Software' }) as never, ctx));
    expect(sub.error).toBe(0);

    const info = now(enumKey.translate(decoded('enum_key', { hkey, index: -1, info_class: 2 }, 256) as never, ctx));
    expect(info).toMatchObject({ error: 0, body: { subkeys: 1 } });

    const missing = now(getKeyValue.translate(decoded('get_key_value', { hkey, name: 'NoSuchValue' }, 256) as never, ctx));
    expect(missing.error).not.toBe(0);
    expect((await call(ctx, getKeyValue, { hkey, name: 'NoSuchValue' }, 256)).reply.error).toBe(missing.error);

    // A handle that is not open: a status, answered at once too.
    const bad = now(openKey.translate(decoded('open_key', { parent: PROXY_HANDLE_TOP - 4000, access: 0x20019, attributes: 0x40, name: 'Software' }) as never, ctx));
    expect(bad.error).not.toBe(0);

    // close_handle of a key with no notification armed (the live families' close entry): plain, and the value is gone.
    const close = closeProxyHandleEntry(liveFamilies());
    const closeRequest = (handle: number) => decoded('close_handle', { handle }) as never;
    expect(now(close.translate(closeRequest(sub.body.hkey), ctx))).toEqual({ error: 0, body: {} });
    expect(ctx.handles.get(sub.body.hkey)).toBeUndefined();
    expect(now(close.translate(closeRequest(sub.body.hkey), ctx)).error).toBe(STATUS_INVALID_HANDLE);
  });
});
