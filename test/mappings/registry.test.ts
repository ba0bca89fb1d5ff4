// The registry translators on the in-process backend, driven as the proxy
// drives them: each request is encoded to wire bytes, decoded, translated,
// and the reply encoded, decoded and printed as wineserver's +server trace
// prints it. Expected lines follow Wine 8.0's server/registry.c (the
// comments say which rule each checks); registry-wine.test.ts checks the
// same translators against real wineserver traces.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { WK_CREATE_PERMANENT, WK_LOCK_EXCLUSIVE, type Session } from '../../backends/primitives.ts';
import { createMissingHives, initRegistry, initRegistryFromPrefix, saveHives } from '../../mappings/registry/init.ts';
import {
  closeKeyHandle,
  createKey,
  deleteKey,
  deleteKeyValue,
  enumKey,
  enumKeyValue,
  flushKey,
  getKeyValue,
  openKey,
  registryFor,
  REGISTRY_TRANSLATORS,
  renameKey,
  setKeyValue,
} from '../../mappings/registry/translators.ts';
import type { TranslationContext } from '../../mappings/translator.ts';
import { call, client, freshSession } from './registry-helpers.ts';

const T0 = 0x1d9a0000000000n;
let clock = T0;
const now = () => clock;
const HKCU = '\\Registry\\User\\S-1-5-21-0-0-0-1000';
const oa = (name: string, rootdir = 0, attributes = 0xc0) => ({ rootdir, attributes, sd: null, name });
const sz = (s: string) => Buffer.from(s + '\0', 'utf16le');

let session: Session;
let ctx: TranslationContext;
let env: ReturnType<typeof freshSession>;

async function open(name: string, parent = 0, access = 0x2000000, attributes = 0x40) {
  return call(ctx, openKey, { parent, access, attributes, name });
}
async function create(name: string, rootdir = 0, options = 0, klass = '', access = 0xf003f, attributes = 0xc0) {
  return call(ctx, createKey, { access, options, objattr: oa(name, rootdir, attributes), class: klass });
}
const hkey = (r: { reply: { body: Record<string, unknown> } }) => r.reply.body.hkey as number;
const set = (key: number, name: string, type: number, data: Buffer) => call(ctx, setKeyValue, { hkey: key, type, namelen: name.length * 2, name, data });

beforeEach(async () => {
  clock = T0;
  env = freshSession('registry');
  session = env.session;
  await initRegistry(registryFor(session, { now }), {});
  ctx = client(session);
});

/** HKCU\Software\Base, freshly created. */
async function base(): Promise<number> {
  const cu = hkey(await open(HKCU));
  await create('Software', cu);
  return hkey(await create('Software\\Base', cu));
}

describe('registry translators (Wine 8.0 server/registry.c)', () => {
  it('declares the translated registry requests', () => {
    expect(REGISTRY_TRANSLATORS.map((t) => t.request)).toEqual([
      'create_key',
      'open_key',
      'delete_key',
      'flush_key',
      'enum_key',
      'set_key_value',
      'get_key_value',
      'enum_key_value',
      'delete_key_value',
      'rename_key',
    ]);
    for (const t of REGISTRY_TRANSLATORS) expect(t.domains).toEqual(['registry']);
  });

  it('opens absolute paths case-insensitively, skipping runs of backslashes between elements', async () => {
    expect((await open('\\REGISTRY\\machine')).trace).toBe('0024: open_key() = 0 { hkey=3fff0000 }');
    expect((await open('\\Registry\\User\\s-1-5-21-0-0-0-1000\\\\')).trace).toBe('0024: open_key() = 0 { hkey=3ffefffc }');
    // The first element is looked up in the object root directory: case-sensitive without OBJ_CASE_INSENSITIVE.
    expect((await open('\\registry\\Machine', 0, 0x2000000, 0)).trace).toBe('0024: open_key() = NOT_SUPPORTED { hkey=0000 }');
    expect((await open('\\REGISTRY\\Machine', 0, 0x2000000, 0)).trace).toBe('0024: open_key() = 0 { hkey=3ffefff8 }');
    // A missing element with more path after it, and a missing last element.
    expect((await open('\\Registry\\Nope\\Deeper')).trace).toBe('0024: open_key() = OBJECT_NAME_NOT_FOUND { hkey=0000 }');
    expect((await open('\\Registry\\Nope')).trace).toBe('0024: open_key() = OBJECT_NAME_NOT_FOUND { hkey=0000 }');
    // One backslash after \Registry is consumed by the directory; a second makes an empty element.
    expect((await open('\\Registry\\\\Machine')).trace).toBe('0024: open_key() = OBJECT_NAME_NOT_FOUND { hkey=0000 }');
  });

  it('answers the object-lookup syntax errors as wineserver does', async () => {
    expect((await open('Registry\\Machine')).trace).toBe('0024: open_key() = OBJECT_PATH_SYNTAX_BAD { hkey=0000 }');
    expect((await open('')).trace).toBe('0024: open_key() = OBJECT_PATH_SYNTAX_BAD { hkey=0000 }');
    // "\" alone is the root directory: not a key.
    expect((await open('\\')).trace).toBe('0024: open_key() = OBJECT_TYPE_MISMATCH { hkey=0000 }');
    expect((await create('\\')).trace).toBe('0024: create_key() = OBJECT_TYPE_MISMATCH { hkey=0000 }');
    const machine = hkey(await open('\\Registry\\Machine'));
    expect((await open('\\Software', machine)).trace).toBe('0024: open_key() = OBJECT_PATH_SYNTAX_BAD { hkey=0000 }');
    // An empty name relative to a key opens that key.
    expect((await open('', machine)).trace).toBe('0024: open_key() = 0 { hkey=3ffefffc }');
    expect((await open('x', 0x3ff00000)).trace).toBe('0024: open_key() = INVALID_HANDLE { hkey=0000 }');
    expect((await open('x', 0xffffffff)).trace).toBe('0024: open_key() = OBJECT_TYPE_MISMATCH { hkey=0000 }');
    expect((await open('A'.repeat(257), machine)).trace).toBe('0024: open_key() = INVALID_PARAMETER { hkey=0000 }');
  });

  it('creates the last element only, reports existing keys with OBJECT_NAME_EXISTS and keeps the first spelling', async () => {
    const cu = hkey(await open(HKCU));
    expect((await create('Software\\Deep\\Er', cu)).trace).toBe('0024: create_key() = OBJECT_NAME_NOT_FOUND { hkey=0000 }');
    expect((await create('Software', cu)).trace).toBe('0024: create_key() = 0 { hkey=3ffefffc }');
    expect((await create('SOFTWARE\\', cu)).trace).toBe('0024: create_key() = OBJECT_NAME_EXISTS { hkey=3ffefff8 }');
    // Without OBJ_OPENIF an existing key is a collision.
    expect((await create('software', cu, 0, '', 0xf003f, 0x40)).trace).toBe('0024: create_key() = OBJECT_NAME_COLLISION { hkey=0000 }');
    const { reply } = await call(ctx, enumKey, { hkey: cu, index: 0, info_class: 0 }, 100);
    expect(reply.body.name).toBe('Software');
  });

  it('refuses non-volatile children of volatile keys', async () => {
    const b = await base();
    const vol = hkey(await create('Vol', b, 1));
    expect((await create('Child', vol)).trace).toBe('0024: create_key() = CHILD_MUST_BE_VOLATILE { hkey=0000 }');
    expect((await create('Child', vol, 1)).trace).toMatch(/^0024: create_key\(\) = 0 \{ hkey=3ffe/);
  });

  it('stores, truncates and reports values like get_value', async () => {
    const b = await base();
    expect((await set(b, 'Text', 1, sz('hello'))).trace).toBe('0024: set_key_value() = 0');
    expect((await call(ctx, getKeyValue, { hkey: b, name: 'TEXT' }, 100)).trace).toBe(
      '0024: get_key_value() = 0 { type=1, total=12, data={68,00,65,00,6c,00,6c,00,6f,00,00,00} }',
    );
    // The client's reply size cuts the data; total stays the full length.
    expect((await call(ctx, getKeyValue, { hkey: b, name: 'text' }, 3)).trace).toBe('0024: get_key_value() = 0 { type=1, total=12, data={68,00,65} }');
    expect((await call(ctx, getKeyValue, { hkey: b, name: 'text' }, 0)).trace).toBe('0024: get_key_value() = 0 { type=1, total=12, data={} }');
    expect((await call(ctx, getKeyValue, { hkey: b, name: 'missing' }, 10)).trace).toBe('0024: get_key_value() = OBJECT_NAME_NOT_FOUND { type=-1, total=0, data={} }');
    // Overwrite with another type; the first spelling of the name stays.
    await set(b, 'TEXT', 4, Buffer.from([1, 0, 0, 0]));
    expect((await call(ctx, enumKeyValue, { hkey: b, index: 0, info_class: 0 }, 100)).trace).toBe(
      '0024: enum_key_value() = 0 { type=4, total=8, namelen=8, name=L"Text", data={} }',
    );
    expect((await call(ctx, deleteKeyValue, { hkey: b, name: 'tExT' })).trace).toBe('0024: delete_key_value() = 0');
    expect((await call(ctx, deleteKeyValue, { hkey: b, name: 'tExT' })).trace).toBe('0024: delete_key_value() = OBJECT_NAME_NOT_FOUND');
    // namelen beyond the data is INVALID_PARAMETER.
    expect((await call(ctx, setKeyValue, { hkey: b, type: 1, namelen: 40, name: 'ab', data: Buffer.alloc(0) })).trace).toBe('0024: set_key_value() = INVALID_PARAMETER');
  });

  it('enumerates values sorted case-insensitively, with the three information classes and their truncation', async () => {
    const b = await base();
    await set(b, 'zeta', 3, Buffer.from([1, 2, 3]));
    await set(b, 'Alpha', 1, sz('a'));
    await set(b, '', 1, sz('default'));
    await set(b, 'beta', 4, Buffer.from([7, 0, 0, 0]));
    const names: string[] = [];
    for (let i = 0; ; i++) {
      const r = await call(ctx, enumKeyValue, { hkey: b, index: i, info_class: 0 }, 200);
      if (r.reply.error) {
        expect(r.trace).toBe('0024: enum_key_value() = NO_MORE_ENTRIES { type=0, total=0, namelen=0, name=L"", data={} }');
        break;
      }
      names.push(r.reply.body.name as string);
    }
    expect(names).toEqual(['', 'Alpha', 'beta', 'zeta']);
    // Full: name then data; partial: data only; the reply size cuts across both.
    expect((await call(ctx, enumKeyValue, { hkey: b, index: 1, info_class: 1 }, 200)).trace).toBe(
      '0024: enum_key_value() = 0 { type=1, total=14, namelen=10, name=L"Alpha", data={61,00,00,00} }',
    );
    expect((await call(ctx, enumKeyValue, { hkey: b, index: 1, info_class: 1 }, 12)).trace).toBe(
      '0024: enum_key_value() = 0 { type=1, total=14, namelen=10, name=L"Alpha", data={61,00} }',
    );
    expect((await call(ctx, enumKeyValue, { hkey: b, index: 1, info_class: 1 }, 4)).trace).toBe(
      '0024: enum_key_value() = 0 { type=1, total=14, namelen=4, name=L"Al", data={} }',
    );
    expect((await call(ctx, enumKeyValue, { hkey: b, index: 3, info_class: 2 }, 200)).trace).toBe(
      '0024: enum_key_value() = 0 { type=3, total=3, namelen=0, name=L"", data={01,02,03} }',
    );
    // An unknown class fails after the type is set.
    expect((await call(ctx, enumKeyValue, { hkey: b, index: 3, info_class: 9 }, 200)).trace).toBe(
      '0024: enum_key_value() = INVALID_PARAMETER { type=3, total=0, namelen=0, name=L"", data={} }',
    );
  });

  it('answers enum_key for every information class as enum_key does', async () => {
    const b = await base();
    clock = T0 + 100n;
    await create('Mike', b);
    await create('alpha', b, 0, 'Klass');
    await create('Bravo', b);
    clock = T0 + 200n;
    await set(b, 'LongValueName', 3, Buffer.alloc(33));
    const order: string[] = [];
    for (let i = 0; i < 3; i++) order.push((await call(ctx, enumKey, { hkey: b, index: i, info_class: 0 }, 100)).reply.body.name as string);
    expect(order).toEqual(['alpha', 'Bravo', 'Mike']);
    expect((await call(ctx, enumKey, { hkey: b, index: 3, info_class: 0 }, 100)).trace).toMatch(/^0024: enum_key\(\) = NO_MORE_ENTRIES /);
    // KeyFullInformation: maxima over subkeys and values; the class is returned and namelen reads 0.
    expect((await call(ctx, enumKey, { hkey: b, index: -1, info_class: 2 }, 100)).trace).toBe(
      '0024: enum_key() = 0 { subkeys=3, max_subkey=10, max_class=10, values=1, max_value=26, max_data=33, modif=1d9a00000000c8, total=0, namelen=8, name=L"", class=L"" }',
    );
    const alpha = hkey(await open('alpha', b));
    expect((await call(ctx, enumKey, { hkey: alpha, index: -1, info_class: 2 }, 100)).trace).toBe(
      '0024: enum_key() = 0 { subkeys=0, max_subkey=0, max_class=0, values=0, max_value=0, max_data=0, modif=1d9a0000000064, total=10, namelen=0, name=L"", class=L"Klass" }',
    );
    // Node: name and class; Basic: the name only; cut by the reply size.
    expect((await call(ctx, enumKey, { hkey: b, index: 0, info_class: 1 }, 100)).trace).toBe(
      '0024: enum_key() = 0 { subkeys=0, max_subkey=0, max_class=0, values=0, max_value=0, max_data=0, modif=1d9a0000000064, total=20, namelen=10, name=L"alpha", class=L"Klass" }',
    );
    expect((await call(ctx, enumKey, { hkey: b, index: 0, info_class: 1 }, 4)).trace).toBe(
      '0024: enum_key() = 0 { subkeys=0, max_subkey=0, max_class=0, values=0, max_value=0, max_data=0, modif=1d9a0000000064, total=20, namelen=4, name=L"al", class=L"" }',
    );
    expect((await call(ctx, enumKey, { hkey: b, index: 0, info_class: 0 }, 100)).trace).toBe(
      '0024: enum_key() = 0 { subkeys=0, max_subkey=0, max_class=0, values=0, max_value=0, max_data=0, modif=1d9a0000000064, total=10, namelen=10, name=L"alpha", class=L"" }',
    );
    // KeyNameInformation: the full name, from \REGISTRY.
    expect((await call(ctx, enumKey, { hkey: alpha, index: -1, info_class: 3 }, 300)).reply.body.name).toBe(`\\REGISTRY\\User\\S-1-5-21-0-0-0-1000\\Software\\Base\\alpha`);
    expect((await call(ctx, enumKey, { hkey: b, index: -1, info_class: 7 }, 100)).trace).toMatch(/^0024: enum_key\(\) = INVALID_PARAMETER \{ subkeys=0,/);
  });

  it('keeps a key time when an identical value is written again', async () => {
    const b = await base();
    clock = T0 + 5n;
    await set(b, 'v', 1, sz('x'));
    clock = T0 + 9n;
    await set(b, 'v', 1, sz('x'));
    const { reply } = await call(ctx, enumKey, { hkey: b, index: -1, info_class: 2 }, 0);
    expect(reply.body.modif).toBe(T0 + 5n);
  });

  it('deletes only leaf keys; handles of a deleted key answer KEY_DELETED', async () => {
    const b = await base();
    const child = hkey(await create('Child', b));
    expect((await call(ctx, deleteKey, { hkey: b })).trace).toBe('0024: delete_key() = ACCESS_DENIED');
    expect((await call(ctx, deleteKey, { hkey: child })).trace).toBe('0024: delete_key() = 0');
    expect((await call(ctx, deleteKey, { hkey: child })).trace).toBe('0024: delete_key() = 0');
    expect((await set(child, 'x', 1, sz('x'))).trace).toBe('0024: set_key_value() = KEY_DELETED');
    expect((await call(ctx, enumKey, { hkey: child, index: -1, info_class: 0 }, 10)).trace).toMatch(/^0024: enum_key\(\) = KEY_DELETED /);
    expect((await open('Child', b)).trace).toBe('0024: open_key() = OBJECT_NAME_NOT_FOUND { hkey=0000 }');
    // The name can be used again at once.
    expect((await create('child', b)).trace).toMatch(/^0024: create_key\(\) = 0 /);
    // \REGISTRY has no parent key.
    const root = hkey(await open('\\Registry'));
    expect((await call(ctx, deleteKey, { hkey: root })).trace).toBe('0024: delete_key() = ACCESS_DENIED');
    expect(closeKeyHandle(session, ctx.handles, child)).toBe(true);
    expect((await call(ctx, deleteKey, { hkey: child })).trace).toBe('0024: delete_key() = INVALID_HANDLE');
  });

  it('checks the handle access each request needs', async () => {
    const b = await base();
    const reader = hkey(await open('\\Registry\\User\\S-1-5-21-0-0-0-1000\\Software\\Base', 0, 0x20019));
    expect((await set(reader, 'x', 1, sz('x'))).trace).toBe('0024: set_key_value() = ACCESS_DENIED');
    expect((await call(ctx, deleteKey, { hkey: reader })).trace).toBe('0024: delete_key() = ACCESS_DENIED');
    expect((await call(ctx, renameKey, { hkey: reader, name: 'New' })).trace).toBe('0024: rename_key() = ACCESS_DENIED');
    const valueOnly = hkey(await open('\\Registry\\User\\S-1-5-21-0-0-0-1000\\Software\\Base', 0, 0x1));
    expect((await call(ctx, getKeyValue, { hkey: valueOnly, name: 'x' }, 10)).trace).toBe('0024: get_key_value() = OBJECT_NAME_NOT_FOUND { type=-1, total=0, data={} }');
    // Subkeys need KEY_ENUMERATE_SUB_KEYS, the key's own information nothing.
    expect((await call(ctx, enumKey, { hkey: valueOnly, index: 0, info_class: 0 }, 10)).trace).toMatch(/^0024: enum_key\(\) = ACCESS_DENIED /);
    expect((await call(ctx, enumKey, { hkey: valueOnly, index: -1, info_class: 0 }, 10)).trace).toMatch(/^0024: enum_key\(\) = 0 /);
    expect((await call(ctx, flushKey, { hkey: valueOnly })).trace).toBe('0024: flush_key() = 0');
    expect(ctx.handles.get(b)?.access).toBe(0xf003f);
    // GENERIC_READ maps to KEY_READ.
    expect(ctx.handles.get(hkey(await open('\\Registry', 0, 0x80000000)))?.access).toBe(0x20019);
  });

  it('follows symbolic-link keys, and opens the link itself with OBJ_OPENLINK', async () => {
    const b = await base();
    const target = hkey(await create('Target', b));
    await create('Inner', target);
    await set(target, 'Marker', 1, sz('t'));
    const link = hkey(await create('Link', b, 2));
    const path = `${HKCU}\\Software\\Base\\Target`;
    expect((await set(link, 'Other', 1, sz('x'))).trace).toBe('0024: set_key_value() = ACCESS_DENIED');
    expect((await set(link, 'symboliclinkvalue', 6, Buffer.from(path, 'utf16le'))).trace).toBe('0024: set_key_value() = 0');
    const through = hkey(await open('Link', b));
    expect((await call(ctx, getKeyValue, { hkey: through, name: 'Marker' }, 10)).trace).toBe('0024: get_key_value() = 0 { type=1, total=4, data={74,00,00,00} }');
    expect((await open('Link\\Inner', b)).trace).toMatch(/^0024: open_key\(\) = 0 /);
    const itself = hkey(await open('Link', b, 0xf003f, 0x140));
    expect((await call(ctx, getKeyValue, { hkey: itself, name: 'SymbolicLinkValue' }, 0)).trace).toBe(`0024: get_key_value() = 0 { type=6, total=${path.length * 2}, data={} }`);
    // Creating a link over an existing name collides.
    expect((await create('Link', b, 2)).trace).toBe('0024: create_key() = OBJECT_NAME_COLLISION { hkey=0000 }');
    // A link that points at itself fails after 32 nested lookups.
    const loop = hkey(await create('Loop', b, 2));
    await set(loop, 'SymbolicLinkValue', 6, Buffer.from(`${HKCU}\\Software\\Base\\Loop`, 'utf16le'));
    expect((await open('Loop', b)).trace).toBe('0024: open_key() = INVALID_PARAMETER { hkey=0000 }');
  });

  it('renames keys among their siblings (sorted), refusing paths and taken names', async () => {
    const b = await base();
    for (const n of ['alpha', 'Bravo', 'charlie', 'Mike']) await create(n, b);
    const bravo = hkey(await open('Bravo', b));
    await create('Inner', bravo);
    expect((await call(ctx, renameKey, { hkey: bravo, name: 'Renamed' })).trace).toBe('0024: rename_key() = 0');
    const names: string[] = [];
    for (let i = 0; i < 4; i++) names.push((await call(ctx, enumKey, { hkey: b, index: i, info_class: 0 }, 100)).reply.body.name as string);
    expect(names).toEqual(['alpha', 'charlie', 'Mike', 'Renamed']);
    expect((await open('renamed\\inner', b)).trace).toMatch(/^0024: open_key\(\) = 0 /);
    expect((await open('Bravo', b)).trace).toBe('0024: open_key() = OBJECT_NAME_NOT_FOUND { hkey=0000 }');
    expect((await call(ctx, renameKey, { hkey: bravo, name: 'ALPHA' })).trace).toBe('0024: rename_key() = CANNOT_DELETE');
    expect((await call(ctx, renameKey, { hkey: bravo, name: 'a\\b' })).trace).toBe('0024: rename_key() = INVALID_PARAMETER');
    expect((await call(ctx, renameKey, { hkey: bravo, name: '' })).trace).toBe('0024: rename_key() = INVALID_PARAMETER');
    expect((await call(ctx, renameKey, { hkey: bravo, name: 'Wow6432Node' })).trace).toBe('0024: rename_key() = INVALID_PARAMETER');
  });

  it('marks Perflib\\009 predefined as init_registry does', async () => {
    const r = await open('\\Registry\\Machine\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Perflib\\009');
    expect(r.trace).toBe('0024: open_key() = PREDEFINED_HANDLE { hkey=3fff0000 }');
    expect((await call(ctx, getKeyValue, { hkey: hkey(r), name: 'Counter' }, 10)).trace).toBe('0024: get_key_value() = INVALID_HANDLE { type=0, total=0, data={} }');
    expect((await call(ctx, enumKey, { hkey: hkey(r), index: -1, info_class: 0 }, 10)).trace).toMatch(/^0024: enum_key\(\) = INVALID_HANDLE /);
  });

  it('makes the hive files a prefix lacks, loaded as missing ones are', async () => {
    const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'wk-hives-'));
    try {
      // A fresh prefix: all three, with the architecture wineserver takes when system.reg is missing.
      expect(createMissingHives(prefix, undefined).map((f) => path.basename(f))).toEqual(['system.reg', 'userdef.reg', 'user.reg']);
      expect(fs.readFileSync(path.join(prefix, 'system.reg'), 'latin1')).toBe('WINE REGISTRY Version 2\n;; All keys relative to REGISTRY\\\\Machine\n\n#arch=win64\n');
      expect(fs.readFileSync(path.join(prefix, 'user.reg'), 'latin1')).toBe('WINE REGISTRY Version 2\n;; All keys relative to REGISTRY\\\\User\\\\S-1-5-21-0-0-0-1000\n\n#arch=win64\n');
      expect(createMissingHives(prefix, undefined)).toEqual([]); // nothing is overwritten
      // Loaded exactly as missing files are: the same architecture and keys, so the same files saved.
      const fromMade = freshSession('registry-made-hives');
      const fromNothing = freshSession('registry-no-hives');
      expect((await initRegistryFromPrefix(registryFor(fromMade.session, { now }), prefix)).arch).toBe('win64');
      expect((await initRegistry(registryFor(fromNothing.session, { now }), {}, undefined)).arch).toBe('win64');
      expect(await saveHives(registryFor(fromMade.session))).toEqual(await saveHives(registryFor(fromNothing.session)));
      fromMade.session.end();
      fromNothing.session.end();

      // A 32-bit prefix lacking user.reg gets system.reg's architecture; WINEARCH=win32 without system.reg too.
      fs.rmSync(path.join(prefix, 'user.reg'));
      fs.writeFileSync(path.join(prefix, 'system.reg'), 'WINE REGISTRY Version 2\n;; All keys relative to REGISTRY\\\\Machine\n\n#arch=win32\n');
      expect(createMissingHives(prefix, 'win64').map((f) => path.basename(f))).toEqual(['user.reg']);
      expect(fs.readFileSync(path.join(prefix, 'user.reg'), 'latin1')).toContain('\n#arch=win32\n');
      fs.rmSync(path.join(prefix, 'system.reg'));
      createMissingHives(prefix, 'win32');
      expect(fs.readFileSync(path.join(prefix, 'system.reg'), 'latin1')).toContain('\n#arch=win32\n');
    } finally {
      fs.rmSync(prefix, { recursive: true, force: true });
    }
  });

  it('is one tree for every process of the instance', async () => {
    const b = await base();
    await set(b, 'shared', 4, Buffer.from([5, 0, 0, 0]));
    const other = env.backend.openSession({ pid: 0x30 });
    expect(other.attach(env.kernid, 0)).toBeGreaterThanOrEqual(0);
    const ctx2 = client(other, 0x30);
    const r = await call(ctx2, openKey, { parent: 0, access: 0xf003f, attributes: 0x40, name: `${HKCU}\\Software\\Base` });
    expect((await call(ctx2, getKeyValue, { hkey: hkey(r), name: 'SHARED' }, 10)).trace).toBe('0024: get_key_value() = 0 { type=4, total=4, data={05,00,00,00} }');
    // A handle value of one process means nothing in another.
    expect((await call(ctx2, getKeyValue, { hkey: b, name: 'shared' }, 10)).trace).toBe('0024: get_key_value() = INVALID_HANDLE { type=0, total=0, data={} }');
  });

  it('repairs the tree when a process dies holding the lock mid-update', async () => {
    const b = await base();
    await create('Kept', b);
    // A dying process: it takes the tree lock, leaves a stray index entry and an unwritten key object, and dies.
    const dying = env.backend.openSession({ pid: 0x40 });
    expect(dying.attach(env.kernid, 0)).toBeGreaterThanOrEqual(0);
    const tree = dying.open('registry:tree');
    expect(await dying.lock(tree, WK_LOCK_EXCLUSIVE)).toBe(0);
    dying.close(dying.create('regkey', Buffer.alloc(0), WK_CREATE_PERMANENT));
    const strayIndex = dying.create('regname:00000001\\ghost', Buffer.from([0xff, 0xff, 0, 0]), WK_CREATE_PERMANENT);
    dying.close(strayIndex);
    dying.end();
    // The next operation repairs, then answers normally.
    expect((await open('Kept', b)).trace).toMatch(/^0024: open_key\(\) = 0 /);
    expect(session.open('regname:00000001\\ghost')).toBeLessThan(0);
    const names: string[] = [];
    for (let i = 0; ; i++) {
      const r = await call(ctx, enumKey, { hkey: b, index: i, info_class: 0 }, 100);
      if (r.reply.error) break;
      names.push(r.reply.body.name as string);
    }
    expect(names).toEqual(['Kept']);
  });
});
