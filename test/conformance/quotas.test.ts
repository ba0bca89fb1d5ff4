// Instance limits: each quota fails with its own errno and changes nothing.
import { describe, expect, test } from 'vitest';
import {
  WK_CREATE_OPEN_EXISTING,
  WK_EFBIG,
  WK_EMFILE,
  WK_ENOSPC,
  WK_SETDATA_TRUNCATE,
} from '../../backends/primitives.js';
import { bytes, freshInstance, readAll } from './harness.js';

describe('quotas', () => {
  test('max_objects: -ENOSPC, counted over live objects of the instance', async () => {
    const { s, join } = await freshInstance({ maxObjects: 3 });
    const other = await join();
    const a = s.create('ns:a', bytes('a'), 0);
    s.create('ns:b', null, 0);
    other.create('ns:c', null, 0);
    expect(s.create('ns:d', null, 0)).toBe(-WK_ENOSPC);
    expect(other.create('ns', null, 0)).toBe(-WK_ENOSPC);
    expect(s.open('ns:d')).toBeLessThan(0); // nothing half-created
    expect(readAll(s, a)).toEqual(bytes('a'));
    // opening existing objects is not creating
    const a2 = s.create('ns:a', null, WK_CREATE_OPEN_EXISTING);
    expect(a2).toBeGreaterThan(0);
    expect(s.unlink(a)).toBe(0);
    expect(s.create('ns:d', null, 0)).toBe(-WK_ENOSPC); // unlinked but alive still counts
    expect(s.close(a)).toBe(0);
    expect(s.create('ns:d', null, 0)).toBe(-WK_ENOSPC);
    expect(s.close(a2)).toBe(0);
    expect(s.create('ns:d', null, 0)).toBeGreaterThan(0);
  });

  test('max_bytes: -ENOSPC on create and on growth, data unchanged; shrinking gives bytes back', async () => {
    const { s } = await freshInstance({ maxBytes: 100 });
    const a = s.create('ns:a', Buffer.alloc(60, 1), 0);
    expect(s.create('ns:b', Buffer.alloc(41), 0)).toBe(-WK_ENOSPC);
    const b = s.create('ns:b', Buffer.alloc(40, 2), 0);
    expect(b).toBeGreaterThan(0);
    expect(s.setdata(b, bytes('x'), 40, 0)).toBe(-WK_ENOSPC);
    expect(s.setdata(a, Buffer.alloc(61), 0, 0)).toBe(-WK_ENOSPC);
    expect(readAll(s, a)).toEqual(Buffer.alloc(60, 1));
    expect(readAll(s, b)).toEqual(Buffer.alloc(40, 2));
    expect(s.setdata(a, bytes('y'), 59, 0)).toBe(60); // in place: no growth
    expect(s.setdata(a, bytes('z'), 9, WK_SETDATA_TRUNCATE)).toBe(10);
    expect(s.setdata(b, Buffer.alloc(50), 40, 0)).toBe(90);
    expect(s.close(b)).toBe(0); // destruction frees its bytes
    expect(s.create('ns:c', Buffer.alloc(90), 0)).toBeGreaterThan(0);
  });

  test('max_object_size: -EFBIG on create and setdata', async () => {
    const { s } = await freshInstance({ maxObjectSize: 16 });
    expect(s.create('ns:a', Buffer.alloc(17), 0)).toBe(-WK_EFBIG);
    const a = s.create('ns:a', Buffer.alloc(16, 7), 0);
    expect(s.setdata(a, Buffer.alloc(7), 10, 0)).toBe(-WK_EFBIG);
    expect(readAll(s, a)).toEqual(Buffer.alloc(16, 7));
  });

  test('max_handles_per_session: -EMFILE for this session only', async () => {
    const { s, join } = await freshInstance({ maxHandlesPerSession: 2 });
    const other = await join();
    const a = s.create('ns:a', null, 0);
    s.open('ns:a');
    expect(s.open('ns:a')).toBe(-WK_EMFILE);
    expect(s.create('ns:b', null, 0)).toBe(-WK_EMFILE);
    expect(s.create('ns:a', null, WK_CREATE_OPEN_EXISTING)).toBe(-WK_EMFILE);
    expect(other.open('ns:b')).toBeLessThan(0); // the refused create made nothing
    expect(other.open('ns:a')).toBeGreaterThan(0);
    expect(s.close(a)).toBe(0);
    expect(s.open('ns:a')).toBe(1);
  });
});
