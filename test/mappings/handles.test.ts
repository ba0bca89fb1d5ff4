// The split handle space: proxy-minted handles never collide with wineserver's,
// and requests are routed by the handles they name.

import { describe, expect, it } from 'vitest';
import {
  handleOwner,
  handlesNamedBy,
  HandleTableError,
  PROXY_HANDLE_BOTTOM,
  PROXY_HANDLE_CAPACITY,
  PROXY_HANDLE_TOP,
  ProxyHandleTable,
  routeByHandles,
  SERVER_LOCAL_HANDLE_MAX,
} from '../../mappings/handles.ts';
import { STATUS_NOT_SUPPORTED } from '../../mappings/ntstatus.ts';
import { loadProtocol } from '../../requests/protocol.ts';

const protocol = loadProtocol('wine-8.0');
const entry = (primitive: number) => ({ primitive, type: 'Key', access: 0x20019, flags: 0 });

describe('handle spaces', () => {
  it('keeps the proxy range clear of wineserver local, global and pseudo handles', () => {
    expect(SERVER_LOCAL_HANDLE_MAX).toBe(0x3fffffc);
    expect(PROXY_HANDLE_BOTTOM).toBeGreaterThan(SERVER_LOCAL_HANDLE_MAX);
    // Global handles: a local value XOR 0x544a4def.
    for (const local of [4, 8, 0x1000, SERVER_LOCAL_HANDLE_MAX]) {
      const global = (local ^ 0x544a4def) >>> 0;
      expect(handleOwner(global)).toBe('server');
      expect(global < PROXY_HANDLE_BOTTOM || global > PROXY_HANDLE_TOP + 3).toBe(true);
    }
    expect(handleOwner(0)).toBe('none');
    expect(handleOwner(4)).toBe('server');
    expect(handleOwner(SERVER_LOCAL_HANDLE_MAX)).toBe('server');
    for (const pseudo of [0xffffffff, 0xfffffffe, 0xfffffffd, 0xfffffffc, 0xfffffffb, 0xfffffffa, -1, -6]) expect(handleOwner(pseudo)).toBe('pseudo');
    expect(handleOwner(PROXY_HANDLE_TOP)).toBe('proxy');
    expect(handleOwner(PROXY_HANDLE_TOP | 3)).toBe('proxy'); // tag bits are ignored, as by wineserver
    expect(handleOwner(PROXY_HANDLE_BOTTOM)).toBe('proxy');
    expect(handleOwner(PROXY_HANDLE_BOTTOM - 4)).toBe('server');
    expect(PROXY_HANDLE_CAPACITY).toBe(0xffc001);
  });

  it('mints multiples of 4 counting down from the top and reuses closed values', () => {
    const table = new ProxyHandleTable();
    const a = table.mint(entry(1));
    const b = table.mint(entry(2));
    expect(a).toBe(PROXY_HANDLE_TOP);
    expect(b).toBe(PROXY_HANDLE_TOP - 4);
    expect(a % 4).toBe(0);
    expect(table.get(b | 1)?.primitive).toBe(2);
    expect(table.release(a)?.primitive).toBe(1);
    expect(table.get(a)).toBeUndefined();
    expect(table.release(a)).toBeUndefined();
    expect(table.mint(entry(3))).toBe(a);
    expect(table.size).toBe(2);
    expect([...table].map(([h]) => h).sort()).toEqual([b, a].sort());
  });

  it('moves a handle to a chosen value (inheritance) and keeps minting every value exactly once', () => {
    const table = new ProxyHandleTable();
    const first = table.mint(entry(1));
    expect(first).toBe(PROXY_HANDLE_TOP);
    // Below everything minted so far: the values skipped become free.
    const deep = PROXY_HANDLE_TOP - 4 * 5;
    const moved = table.mint(entry(2));
    expect(table.move(moved, deep)).toBe(true);
    expect(table.get(deep)?.primitive).toBe(2);
    expect(table.get(moved)).toBeUndefined();
    // Taken, out of range, or not open: refused, nothing changes.
    expect(table.move(first, deep)).toBe(false);
    expect(table.move(first, 0x10)).toBe(false);
    expect(table.move(PROXY_HANDLE_TOP - 400, PROXY_HANDLE_TOP - 404)).toBe(false);
    // The low bits are ignored, as for lookups.
    expect(table.move(first | 1, PROXY_HANDLE_TOP - 4 * 7 + 2)).toBe(true);
    expect(table.get(PROXY_HANDLE_TOP - 4 * 7)?.primitive).toBe(1);
    // Every value above the lowest is handed out once, then the range goes on below.
    const minted = new Set<number>();
    for (let i = 0; i < 8; i++) minted.add(table.mint(entry(10 + i)));
    expect(minted.size).toBe(8);
    expect(minted.has(deep)).toBe(false);
    expect(minted.has(PROXY_HANDLE_TOP - 4 * 7)).toBe(false);
    expect([...minted].every((v) => v % 4 === 0 && v <= PROXY_HANDLE_TOP && v >= PROXY_HANDLE_BOTTOM)).toBe(true);
    expect(table.size).toBe(10);
    // A value handed out and closed can be moved onto, and is then no longer free.
    const closed = table.mint(entry(30));
    table.release(closed);
    const other = table.mint(entry(31));
    expect(other).toBe(closed);
    table.release(other);
    const again = table.mint(entry(32));
    expect(table.move(again, PROXY_HANDLE_TOP - 4 * 100)).toBe(true);
    expect(table.mint(entry(33))).toBe(closed);
    expect(table.mint(entry(34))).not.toBe(closed);
  });

  it('fails with a typed error when a process exhausts the range', () => {
    const table = new ProxyHandleTable();
    (table as unknown as { next: number }).next = PROXY_HANDLE_BOTTOM;
    expect(table.mint(entry(1))).toBe(PROXY_HANDLE_BOTTOM);
    try {
      table.mint(entry(2));
      throw new Error('minted past the range');
    } catch (error) {
      expect(error).toBeInstanceOf(HandleTableError);
      expect((error as HandleTableError).code).toBe('WK_PROXY_HANDLES_EXHAUSTED');
    }
  });

  it('routes by the handles a request names and refuses a mix', () => {
    expect(routeByHandles([])).toMatchObject({ to: 'either' });
    expect(routeByHandles([0xffffffff])).toMatchObject({ to: 'either' });
    expect(routeByHandles([0x10, 0xffffffff])).toMatchObject({ to: 'server' });
    expect(routeByHandles([PROXY_HANDLE_TOP, 0xfffffffe])).toMatchObject({ to: 'proxy' });
    expect(routeByHandles([PROXY_HANDLE_TOP, 0x10])).toMatchObject({ to: 'refuse', status: STATUS_NOT_SUPPORTED });
  });

  it('finds the handles in decoded requests: fixed fields, object attributes and select operations', () => {
    const dup = protocol.byName.get('dup_handle')!;
    expect(handlesNamedBy(dup, { src_process: 0xffffffff, src_handle: PROXY_HANDLE_TOP, dst_process: 0x24, access: 0, attributes: 0, options: 0 })).toEqual([
      0xffffffff,
      PROXY_HANDLE_TOP,
      0x24,
    ]);
    const createKey = protocol.byName.get('create_key')!;
    expect(handlesNamedBy(createKey, { access: 0, options: 0, objattr: { rootdir: PROXY_HANDLE_TOP, attributes: 0, sd: null, name: 'x' }, class: '' })).toEqual([
      PROXY_HANDLE_TOP,
    ]);
    const select = protocol.byName.get('select')!;
    const route = routeByHandles(
      handlesNamedBy(select, { flags: 0, cookie: 0n, timeout: 0n, size: 12, prev_apc: 0, result: null, data: { op: 1, handles: [0x10, PROXY_HANDLE_TOP] }, contexts: null }),
    );
    expect(route.to).toBe('refuse');
  });
});
