// The registry cache (mappings/registry/cache.ts): decoded keys kept between
// operations, one cache for all stores of an instance in this process, and
// dropped whenever the tree's generation says someone else wrote (another
// cache, a failed operation, a process that died under the lock). Driven
// through the translators on the in-process backend, as registry.test.ts.

import { beforeEach, describe, expect, it } from 'vitest';
import { WK_CREATE_PERMANENT, WK_LOCK_EXCLUSIVE, type Session } from '../../backends/primitives.ts';
import { initRegistry } from '../../mappings/registry/init.ts';
import { RegistryStore, type RegistryTx } from '../../mappings/registry/store.ts';
import { utf16 } from '../../mappings/registry/names.ts';
import {
  createKey,
  deleteKey,
  deleteKeyValue,
  enumKey,
  enumKeyValue,
  getKeyValue,
  openKey,
  openKeyPath,
  registryFor,
  renameKey,
  setKeyValue,
  setValue,
} from '../../mappings/registry/translators.ts';
import type { TranslationContext } from '../../mappings/translator.ts';
import { call, client, freshSession } from './registry-helpers.ts';

const HKCU = '\\Registry\\User\\S-1-5-21-0-0-0-1000';
const T0 = 0x1d9a0000000000n;
const now = () => T0;
const oa = (name: string, rootdir = 0, attributes = 0xc0) => ({ rootdir, attributes, sd: null, name });
const hkey = (r: { reply: { body: Record<string, unknown> } }) => r.reply.body.hkey as number;

let env: ReturnType<typeof freshSession>;

/** Another client process: its own session on the same instance. */
function otherProcess(pid: number): { session: Session; ctx: TranslationContext } {
  const session = env.backend.openSession({ pid });
  expect(session.attach(env.kernid, 0)).toBeGreaterThanOrEqual(0);
  return { session, ctx: client(session, pid) };
}

/** The session with the names it open()s recorded (a real session: every call goes through). */
function recordingOpens(session: Session): { session: Session; opened: string[] } {
  const opened: string[] = [];
  const wrapped = new Proxy(session, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (prop === 'open') {
        return (name: string | Buffer) => {
          opened.push(Buffer.from(name).toString('latin1'));
          return target.open(name);
        };
      }
      return value.bind(target);
    },
  });
  return { session: wrapped, opened };
}

/** The key data objects (records, subkey lists, index entries) among opened names, by namespace. */
const keyObjects = (names: string[]) => names.map((n) => n.slice(0, n.indexOf(':'))).filter((ns) => ns === 'regkey' || ns === 'regsub' || ns === 'regname');

async function valueOf(ctx: TranslationContext, key: number, name: string): Promise<string> {
  return (await call(ctx, getKeyValue, { hkey: key, name }, 64)).trace;
}

beforeEach(async () => {
  env = freshSession('regcache');
  await initRegistry(registryFor(env.session, { now }), {});
});

describe('registry cache', () => {
  it('decodes a key once: opening it again reads no index entry or record, only opens the handle', async () => {
    const recorded = recordingOpens(env.session);
    const ctx = client(recorded.session);
    const cu = hkey(await call(ctx, openKey, { parent: 0, access: 0x2000000, attributes: 0x40, name: HKCU }));
    await call(ctx, createKey, { access: 0xf003f, options: 0, objattr: oa('Software', cu), class: '' });
    for (const spelling of ['SOFTWARE', 'software']) {
      recorded.opened.length = 0;
      const opened = await call(ctx, openKey, { parent: cu, access: 0x20019, attributes: 0x40, name: spelling });
      expect(opened.trace).toMatch(/^0024: open_key\(\) = 0 /);
      // The new handle's own primitive handle, nothing read to find the key.
      expect(keyObjects(recorded.opened)).toEqual(['regkey']);
    }
    expect(registryFor(recorded.session).cacheStats?.incoherent).toBe(0);
  });

  it('is one cache for the processes of an instance: a change by one is seen by the other and keeps the cache', async () => {
    const a = client(env.session);
    const b = otherProcess(0x30);
    const keyA = hkey(await call(a, createKey, { access: 0xf003f, options: 0, objattr: oa(`${HKCU}\\Shared`), class: '' }));
    const keyB = hkey(await call(b.ctx, openKey, { parent: 0, access: 0xf003f, attributes: 0x40, name: `${HKCU}\\Shared` }));
    expect(await valueOf(b.ctx, keyB, 'v')).toBe('0024: get_key_value() = OBJECT_NAME_NOT_FOUND { type=-1, total=0, data={} }');
    const stats = registryFor(b.session).cacheStats!;
    expect(registryFor(env.session).cacheStats).toBe(stats);
    const dropped = stats.dropped;
    await call(a, setKeyValue, { hkey: keyA, type: 4, namelen: 2, name: 'v', data: Buffer.from([7, 0, 0, 0]) });
    expect(await valueOf(b.ctx, keyB, 'V')).toBe('0024: get_key_value() = 0 { type=4, total=4, data={07,00,00,00} }');
    await call(b.ctx, deleteKeyValue, { hkey: keyB, name: 'v' });
    expect(await valueOf(a, keyA, 'v')).toBe('0024: get_key_value() = OBJECT_NAME_NOT_FOUND { type=-1, total=0, data={} }');
    expect(stats.dropped).toBe(dropped);
    expect(stats.incoherent).toBe(0);
  });

  it('drops what it knew when another writer (a store with a cache of its own) changed the tree', async () => {
    const a = client(env.session);
    const key = hkey(await call(a, createKey, { access: 0xf003f, options: 0, objattr: oa(`${HKCU}\\Elsewhere`), class: '' }));
    await call(a, setKeyValue, { hkey: key, type: 4, namelen: 2, name: 'v', data: Buffer.from([1, 0, 0, 0]) });
    expect(await valueOf(a, key, 'v')).toBe('0024: get_key_value() = 0 { type=4, total=4, data={01,00,00,00} }');
    const stats = registryFor(env.session).cacheStats!;
    const dropped = stats.dropped;
    // Another proxy on a shared device instance: same objects, its own memory.
    const foreign = new RegistryStore(otherProcess(0x40).session, { now, cacheLimit: 1000 });
    const before = foreign.info().generation;
    await foreign.run('write', (tx) => {
      const opened = openKeyPath(tx, null, utf16(`${HKCU}\\Elsewhere`), 0x40);
      return setValue(tx, opened.key!, utf16('v'), 4, Buffer.from([2, 0, 0, 0]));
    });
    expect(foreign.info().generation).toBe(before + 1);
    expect(await valueOf(a, key, 'v')).toBe('0024: get_key_value() = 0 { type=4, total=4, data={02,00,00,00} }');
    expect(stats.dropped).toBe(dropped + 1);
    // The key's time changed behind the cache too: enum_key reports the new one.
    expect((await call(a, enumKey, { hkey: key, index: -1, info_class: 2 }, 0)).reply.body.values).toBe(1);
    expect(stats.incoherent).toBe(0);
  });

  it('moves the generation on when an operation fails after writing, and forgets what it had changed', async () => {
    const store = registryFor(env.session);
    const before = store.info().generation;
    await expect(
      store.run('write', (tx: RegistryTx) => {
        const cu = openKeyPath(tx, null, utf16(HKCU), 0x40).key!;
        tx.createSubkey(cu.id, utf16('HalfMade'), 0, tx.now);
        tx.touchRecord(cu.id).values.push({ name: utf16('never'), type: 4, data: Buffer.alloc(4) });
        throw new Error('broken in the middle');
      }),
    ).rejects.toThrow('broken in the middle');
    expect(store.info().generation).toBe(before + 1);
    // The uncommitted value is not served from memory.
    const ctx = client(env.session);
    const cu = hkey(await call(ctx, openKey, { parent: 0, access: 0x2000000, attributes: 0x40, name: HKCU }));
    expect(await valueOf(ctx, cu, 'never')).toBe('0024: get_key_value() = OBJECT_NAME_NOT_FOUND { type=-1, total=0, data={} }');
  });

  it('moves the generation on when the tree is repaired after a process died holding its lock', async () => {
    const ctx = client(env.session);
    const cu = hkey(await call(ctx, openKey, { parent: 0, access: 0x2000000, attributes: 0x40, name: HKCU }));
    await call(ctx, createKey, { access: 0xf003f, options: 0, objattr: oa('Kept', cu), class: '' });
    const store = registryFor(env.session);
    const before = store.info().generation;
    const dying = otherProcess(0x50).session;
    const tree = dying.open('registry:tree');
    expect(await dying.lock(tree, WK_LOCK_EXCLUSIVE)).toBe(0);
    dying.close(dying.create('regkey', Buffer.alloc(0), WK_CREATE_PERMANENT));
    dying.end();
    expect((await call(ctx, openKey, { parent: cu, access: 0x2000000, attributes: 0x40, name: 'kept' })).trace).toMatch(/^0024: open_key\(\) = 0 /);
    expect(store.info().generation).toBeGreaterThan(before);
  });

  it('answers exactly as without a cache, also when it overflows its limit', async () => {
    const sequence = async (ctx: TranslationContext): Promise<string[]> => {
      const lines: string[] = [];
      const run = async (...args: Parameters<typeof call>) => {
        const r = await call(...args);
        lines.push(r.trace);
        return r;
      };
      const cu = hkey(await run(ctx, openKey, { parent: 0, access: 0x2000000, attributes: 0x40, name: HKCU }));
      const base = hkey(await run(ctx, createKey, { access: 0xf003f, options: 0, objattr: oa('Base', cu), class: 'cls' }));
      for (const name of ['delta', 'Alpha', 'charlie', 'Bravo']) {
        const k = hkey(await run(ctx, createKey, { access: 0xf003f, options: 0, objattr: oa(name, base), class: '' }));
        await run(ctx, setKeyValue, { hkey: k, type: 1, namelen: 2, name: 'x', data: Buffer.from(name, 'utf16le') });
        await run(ctx, setKeyValue, { hkey: base, type: 4, namelen: name.length * 2, name, data: Buffer.from([name.length, 0, 0, 0]) });
      }
      for (let i = 0; i < 5; i++) await run(ctx, enumKey, { hkey: base, index: i, info_class: 2 }, 200);
      for (let i = 0; i < 5; i++) await run(ctx, enumKeyValue, { hkey: base, index: i, info_class: 1 }, 200);
      const charlie = hkey(await run(ctx, openKey, { parent: base, access: 0xf003f, attributes: 0x40, name: 'CHARLIE' }));
      await run(ctx, renameKey, { hkey: charlie, name: 'Echo' });
      await run(ctx, openKey, { parent: base, access: 0xf003f, attributes: 0x40, name: 'charlie' });
      await run(ctx, openKey, { parent: base, access: 0xf003f, attributes: 0x40, name: 'echo' });
      const delta = hkey(await run(ctx, openKey, { parent: base, access: 0xf003f, attributes: 0x40, name: 'Delta' }));
      await run(ctx, deleteKey, { hkey: delta });
      await run(ctx, getKeyValue, { hkey: delta, name: 'x' }, 10);
      await run(ctx, openKey, { parent: base, access: 0xf003f, attributes: 0x40, name: 'delta' });
      for (let i = 0; i < 5; i++) await run(ctx, enumKey, { hkey: base, index: i, info_class: 0 }, 200);
      await run(ctx, enumKey, { hkey: charlie, index: -1, info_class: 3 }, 200);
      return lines;
    };
    const withCache = await sequence(client(env.session));
    for (const cacheLimit of [0, 3]) {
      const other = freshSession('regcache-limit');
      await initRegistry(registryFor(other.session, { now, cacheLimit }), {});
      expect(await sequence(client(other.session))).toEqual(withCache);
    }
    expect(registryFor(env.session).cacheStats?.incoherent).toBe(0);
  });
});
