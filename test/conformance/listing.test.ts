// object_list: order, start, -ERANGE with bytesNeeded, namespaces.
import { describe, expect, test } from 'vitest';
import { WK_EINVAL, WK_ERANGE, WK_LIST_NAMESPACES, parseNameList, type Session } from '../../backends/primitives.js';
import { freshInstance } from './harness.js';

function listAll(s: Session, namespace: string, flags = 0, start = 0): string[] {
  const buf = Buffer.alloc(1 << 20);
  const result = s.list(namespace, buf, flags, start);
  expect(result.status).toBe(0);
  return parseNameList(buf, result.count).map((name) => name.toString('latin1'));
}

describe('listing', () => {
  test('names of a namespace, sorted bytewise, NUL-terminated', async () => {
    const { s } = await freshInstance();
    const names = ['b', 'a', 'B', '_x', '~', 'a\\b:c', 'aa', '0'];
    for (const name of names) expect(s.create(`ns:${name}`, null, 0)).toBeGreaterThan(0);
    expect(s.create(Buffer.from([0x6e, 0x73, 0x3a, 0xe9]), null, 0)).toBeGreaterThan(0);
    expect(s.create('other:zzz', null, 0)).toBeGreaterThan(0);
    const buf = Buffer.alloc(200, 0xee);
    const result = s.list('ns', buf, 0);
    const expected = [...names, '\xe9'].sort((x, y) => Buffer.compare(Buffer.from(x, 'latin1'), Buffer.from(y, 'latin1')));
    expect(result).toEqual({ status: 0, count: expected.length, bytesNeeded: expected.reduce((n, x) => n + x.length + 1, 0) });
    expect(buf.subarray(0, result.bytesNeeded)).toEqual(Buffer.from(expected.map((x) => `${x}\0`).join(''), 'latin1'));
    expect(listAll(s, 'ns')).toEqual(expected);
  });

  test('start skips the first names; past the end lists nothing', async () => {
    const { s } = await freshInstance();
    for (const name of ['d', 'c', 'b', 'a']) s.create(`ns:${name}`, null, 0);
    expect(listAll(s, 'ns', 0, 2)).toEqual(['c', 'd']);
    expect(listAll(s, 'ns', 0, 4)).toEqual([]);
    const buf = Buffer.alloc(8);
    expect(s.list('ns', buf, 0, 3)).toEqual({ status: 0, count: 1, bytesNeeded: 2 });
    expect(s.list('ns', buf, 0, 99)).toEqual({ status: 0, count: 0, bytesNeeded: 0 });
  });

  test('a buffer too small gets nothing partial: -ERANGE and bytesNeeded', async () => {
    const { s } = await freshInstance();
    for (const name of ['one', 'two', 'three']) s.create(`ns:${name}`, null, 0);
    const needed = 4 + 4 + 6;
    const small = Buffer.alloc(needed - 1, 0xee);
    expect(s.list('ns', small, 0)).toEqual({ status: -WK_ERANGE, count: 0, bytesNeeded: needed });
    expect(small.every((b) => b === 0xee)).toBe(true);
    expect(s.list('ns', Buffer.alloc(0), 0)).toEqual({ status: -WK_ERANGE, count: 0, bytesNeeded: needed });
    expect(s.list('ns', Buffer.alloc(needed), 0)).toEqual({ status: 0, count: 3, bytesNeeded: needed });
    expect(s.list('ns', Buffer.alloc(5), 0, 1)).toEqual({ status: -WK_ERANGE, count: 0, bytesNeeded: 10 });
  });

  test('an empty or unknown namespace lists nothing; malformed namespaces and flags are -EINVAL', async () => {
    const { s } = await freshInstance();
    expect(s.list('nothing', Buffer.alloc(4), 0)).toEqual({ status: 0, count: 0, bytesNeeded: 0 });
    expect(s.list('bad name', Buffer.alloc(4), 0).status).toBe(-WK_EINVAL);
    expect(s.list('', Buffer.alloc(4), 0).status).toBe(-WK_EINVAL);
    expect(s.list('ns:x', Buffer.alloc(4), 0).status).toBe(-WK_EINVAL);
    expect(s.list('x'.repeat(64), Buffer.alloc(4), 0).status).toBe(-WK_EINVAL);
    expect(s.list('ns', Buffer.alloc(4), 0x8).status).toBe(-WK_EINVAL);
  });

  test('namespaces holding at least one object, sorted', async () => {
    const { s } = await freshInstance();
    expect(listAll(s, '', WK_LIST_NAMESPACES)).toEqual([]);
    const keep = s.create('mutex:a', null, 0);
    const gone = s.create('event:b', null, 0);
    s.create('Zeta:c', null, 0);
    s.create('mutex:d', null, 0);
    expect(listAll(s, '', WK_LIST_NAMESPACES)).toEqual(['Zeta', 'event', 'mutex']);
    expect(listAll(s, '', WK_LIST_NAMESPACES, 1)).toEqual(['event', 'mutex']);
    expect(s.list('', Buffer.alloc(3), WK_LIST_NAMESPACES)).toEqual({ status: -WK_ERANGE, count: 0, bytesNeeded: 17 });
    expect(s.close(gone)).toBe(0);
    expect(listAll(s, '', WK_LIST_NAMESPACES)).toEqual(['Zeta', 'mutex']);
    expect(s.unlink(keep)).toBe(0);
    expect(listAll(s, 'mutex')).toEqual(['d']);
  });

  test('the listing follows creations and removals; 2000 names come back in order', async () => {
    const { s } = await freshInstance();
    const handles: number[] = [];
    const names: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const name = `n${((i * 7919) % 2000).toString().padStart(5, '0')}`;
      names.push(name);
      handles.push(s.create(`big:${name}`, null, 0));
    }
    expect(listAll(s, 'big')).toEqual([...names].sort());
    for (let i = 0; i < 2000; i += 2) expect(s.close(handles[i])).toBe(0);
    s.create('big:extra', null, 0);
    const left = names.filter((_, i) => i % 2 === 1).concat('extra').sort();
    expect(listAll(s, 'big')).toEqual(left);
    expect(listAll(s, 'big', 0, 500)).toEqual(left.slice(500));
  });
});
