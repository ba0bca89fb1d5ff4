// Names, handles, create/open/close: docs/primitives.md "Names" and "Objects".
import { describe, expect, test } from 'vitest';
import {
  WK_CREATE_OPEN_EXISTING,
  WK_EBADF,
  WK_EEXIST,
  WK_EINVAL,
  WK_ENAMETOOLONG,
  WK_ENOENT,
  WK_ERANGE,
  readName,
  type CreateInfo,
} from '../../backends/primitives.js';
import { bytes, freshInstance, readAll } from './harness.js';

describe('names', () => {
  test('create then open by name; getname/namesize return the full name', async () => {
    const { s } = await freshInstance();
    const h = s.create('event:Global\\Some:Thing', bytes('x'), 0);
    expect(h).toBeGreaterThan(0);
    expect(s.namesize(h)).toBe('event:Global\\Some:Thing'.length);
    expect(readName(s, h)).toEqual(bytes('event:Global\\Some:Thing'));
    const again = s.open('event:Global\\Some:Thing');
    expect(again).toBeGreaterThan(0);
    expect(again).not.toBe(h);
    expect(readAll(s, again)).toEqual(bytes('x'));
  });

  test('names compare as bytes: case matters, UTF-8 strings and raw bytes name the same object', async () => {
    const { s } = await freshInstance();
    expect(s.create('ns:Name', null, 0)).toBeGreaterThan(0);
    expect(s.create('ns:name', null, 0)).toBeGreaterThan(0);
    const h = s.create('ns:grüße', null, 0);
    expect(s.namesize(h)).toBe(Buffer.byteLength('ns:grüße'));
    expect(s.open(Buffer.from('ns:grüße', 'utf8'))).toBeGreaterThan(0);
    // a name need not be UTF-8
    const raw = Buffer.from([0x6e, 0x73, 0x3a, 0xff, 0xfe, 0x01]);
    const r = s.create(raw, null, 0);
    expect(r).toBeGreaterThan(0);
    expect(readName(s, r)).toEqual(raw);
    expect(s.open(new Uint8Array(raw))).toBeGreaterThan(0);
  });

  test('limits: full name 1023 bytes, namespace 63 bytes of [A-Za-z0-9_.-]', async () => {
    const { s } = await freshInstance();
    const ns = 'N'.repeat(63);
    expect(s.create(`${ns}:x`, null, 0)).toBeGreaterThan(0);
    expect(s.create(`${'N'.repeat(64)}:x`, null, 0)).toBe(-WK_EINVAL);
    const longest = `ns:${'n'.repeat(1020)}`;
    expect(longest.length).toBe(1023);
    const h = s.create(longest, null, 0);
    expect(h).toBeGreaterThan(0);
    expect(s.namesize(h)).toBe(1023);
    expect(s.create(`ns:${'n'.repeat(1021)}`, null, 0)).toBe(-WK_ENAMETOOLONG);
    expect(s.open(`ns:${'n'.repeat(1021)}`)).toBe(-WK_ENAMETOOLONG);
    expect(s.create('A-z_0.9:ok', null, 0)).toBeGreaterThan(0);
  });

  test('malformed names are -EINVAL', async () => {
    const { s } = await freshInstance();
    for (const bad of [':x', 'n s:x', 'ns/x:y', 'nä:x', 'ns:', '', 'ns:a\0b', '\0']) {
      expect(s.create(bad, null, 0), JSON.stringify(bad)).toBe(-WK_EINVAL);
    }
    expect(s.open('ns')).toBe(-WK_EINVAL); // a bare namespace names nothing to open
    expect(s.open(':x')).toBe(-WK_EINVAL);
    expect(s.open('ns:missing')).toBe(-WK_ENOENT);
  });

  test('-EEXIST, OPEN_EXISTING and the created flag; unknown flags', async () => {
    const { s } = await freshInstance();
    const info: CreateInfo = { created: false };
    const h = s.create('ns:a', bytes('first'), WK_CREATE_OPEN_EXISTING, info);
    expect(h).toBeGreaterThan(0);
    expect(info.created).toBe(true);
    expect(s.create('ns:a', bytes('second'), 0)).toBe(-WK_EEXIST);
    const h2 = s.create('ns:a', bytes('second'), WK_CREATE_OPEN_EXISTING, info);
    expect(h2).toBeGreaterThan(0);
    expect(info.created).toBe(false);
    expect(readAll(s, h2)).toEqual(bytes('first')); // opened, not overwritten
    expect(s.create('ns:b', null, 0x100)).toBe(-WK_EINVAL);
  });

  test('assigned names: eight hex digits of a per-instance counter from 0x20, skipping names in use', async () => {
    const { s } = await freshInstance();
    const first = s.create('window', null, 0);
    expect(readName(s, first)?.toString()).toBe('window:00000020');
    expect(readName(s, s.create('window', null, 0))?.toString()).toBe('window:00000021');
    // the counter belongs to the instance, not to the namespace
    expect(readName(s, s.create('menu', null, 0))?.toString()).toBe('menu:00000022');
    // a name already taken is skipped
    expect(s.create('window:00000023', null, 0)).toBeGreaterThan(0);
    expect(s.create('window:00000024', null, 0)).toBeGreaterThan(0);
    expect(readName(s, s.create('window', null, 0))?.toString()).toBe('window:00000025');
    // closing frees the name but the counter moves on (no reuse)
    expect(s.close(first)).toBe(0);
    expect(readName(s, s.create('window', null, 0))?.toString()).toBe('window:00000026');
    expect(s.open('window:00000026')).toBeGreaterThan(0);
  });

  test('getname needs room for the NUL (-ERANGE)', async () => {
    const { s } = await freshInstance();
    const h = s.create('ns:abc', null, 0);
    expect(s.getname(h, Buffer.alloc(6))).toBe(-WK_ERANGE);
    expect(s.getname(h, Buffer.alloc(0))).toBe(-WK_ERANGE);
    const buf = Buffer.alloc(8, 0xaa);
    expect(s.getname(h, buf)).toBe(6);
    expect(buf.subarray(0, 7)).toEqual(Buffer.from('ns:abc\0', 'latin1'));
    expect(s.getname(h, new Uint8Array(7))).toBe(6);
  });
});

describe('handles', () => {
  test('handles are > 0, lowest free first, never reused while open', async () => {
    const { s } = await freshInstance();
    const a = s.create('ns:a', null, 0);
    const b = s.create('ns:b', null, 0);
    const c = s.create('ns:c', null, 0);
    expect([a, b, c]).toEqual([1, 2, 3]);
    expect(s.close(b)).toBe(0);
    expect(s.open('ns:a')).toBe(2);
    expect(s.open('ns:c')).toBe(4);
    expect(s.close(a)).toBe(0);
    expect(s.close(c)).toBe(0);
    expect(s.open('ns:c')).toBe(1);
    expect(s.open('ns:c')).toBe(3);
    expect(s.open('ns:c')).toBe(5);
  });

  test('bad handles are -EBADF everywhere', async () => {
    const { s } = await freshInstance();
    const h = s.create('ns:a', null, 0);
    expect(s.close(h)).toBe(0);
    const buf = Buffer.alloc(8);
    for (const bad of [h, 0, 999, 2 ** 32 - 1]) {
      expect(s.close(bad)).toBe(-WK_EBADF);
      expect(s.unlink(bad)).toBe(-WK_EBADF);
      expect(s.namesize(bad)).toBe(-WK_EBADF);
      expect(s.getname(bad, buf)).toBe(-WK_EBADF);
      expect(s.size(bad)).toBe(-WK_EBADF);
      expect(s.getdata(bad, buf, 0)).toBe(-WK_EBADF);
      expect(s.setdata(bad, buf, 0, 0)).toBe(-WK_EBADF);
      expect(s.tryLock(bad, 2)).toBe(-WK_EBADF);
      expect(s.unlock(bad)).toBe(-WK_EBADF);
      expect(s.setacl(bad, [])).toBe(-WK_EBADF);
      expect(s.getacl(bad)).toBe(-WK_EBADF);
      expect(s.attachNativeFile(bad, 0)).toBe(-WK_EBADF);
      expect(s.getNativeFile(bad)).toBe(-WK_EBADF);
    }
  });

  test('handles are private to their session', async () => {
    const { s, join } = await freshInstance();
    const other = await join();
    const h = s.create('ns:mine', null, 0);
    expect(other.size(h)).toBe(-WK_EBADF);
    expect(other.close(h)).toBe(-WK_EBADF);
    expect(s.size(h)).toBe(0);
  });
});
