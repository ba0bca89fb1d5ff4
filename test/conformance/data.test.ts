// Object data: size, getdata, setdata (growth, gaps, truncation, limits).
import { describe, expect, test } from 'vitest';
import { WK_EFBIG, WK_EINVAL, WK_SETDATA_TRUNCATE } from '../../backends/primitives.js';
import { PEER_TEST_TIMEOUT, bytes, freshInstance, onDevice, readAll, sleep, startPeer } from './harness.js';

describe('data', () => {
  test('initial data, size, reads from an offset, short buffers, reads past the end', async () => {
    const { s } = await freshInstance();
    const h = s.create('ns:d', bytes('hello world'), 0);
    expect(s.size(h)).toBe(11);
    const buf = Buffer.alloc(5);
    expect(s.getdata(h, buf, 0)).toBe(5);
    expect(buf.toString()).toBe('hello');
    expect(s.getdata(h, buf, 6)).toBe(5);
    expect(buf.toString()).toBe('world');
    expect(s.getdata(h, buf, 9)).toBe(2);
    expect(buf.subarray(0, 2).toString()).toBe('ld');
    expect(s.getdata(h, buf, 11)).toBe(0);
    expect(s.getdata(h, buf, 1_000_000)).toBe(0);
    expect(s.getdata(h, Buffer.alloc(0), 0)).toBe(0);
    expect(s.getdata(h, buf, -1)).toBe(-WK_EINVAL);
    const empty = s.create('ns:empty', null, 0);
    expect(s.size(empty)).toBe(0);
    expect(s.getdata(empty, buf, 0)).toBe(0);
  });

  test('setdata overwrites in place, grows, and zero-fills gaps', async () => {
    const { s } = await freshInstance();
    const h = s.create('ns:d', bytes('abcdef'), 0);
    expect(s.setdata(h, bytes('XY'), 2, 0)).toBe(6);
    expect(readAll(s, h)).toEqual(bytes('abXYef'));
    expect(s.setdata(h, bytes('123'), 5, 0)).toBe(8);
    expect(readAll(s, h)).toEqual(bytes('abXYe123'));
    expect(s.setdata(h, bytes('Z'), 12, 0)).toBe(13);
    expect(readAll(s, h)).toEqual(Buffer.concat([bytes('abXYe123'), Buffer.alloc(4), bytes('Z')]));
    expect(s.setdata(h, Buffer.alloc(0), 20, 0)).toBe(20); // an empty write at 20 still grows to 20
    expect(s.size(h)).toBe(20);
  });

  test('TRUNCATE sets the size to offset + length, and truncated bytes never come back', async () => {
    const { s } = await freshInstance();
    const h = s.create('ns:d', Buffer.alloc(1000, 0x55), 0);
    expect(s.setdata(h, bytes('ab'), 0, WK_SETDATA_TRUNCATE)).toBe(2);
    expect(readAll(s, h)).toEqual(bytes('ab'));
    expect(s.setdata(h, bytes('c'), 10, 0)).toBe(11);
    expect(readAll(s, h)).toEqual(Buffer.concat([bytes('ab'), Buffer.alloc(8), bytes('c')]));
    expect(s.setdata(h, Buffer.alloc(0), 0, WK_SETDATA_TRUNCATE)).toBe(0);
    expect(s.size(h)).toBe(0);
    expect(s.setdata(h, Buffer.alloc(0), 500, WK_SETDATA_TRUNCATE)).toBe(500);
    expect(readAll(s, h)).toEqual(Buffer.alloc(500));
    expect(s.setdata(h, bytes('xyz'), 1, WK_SETDATA_TRUNCATE)).toBe(4);
    expect(readAll(s, h)).toEqual(Buffer.from([0, 0x78, 0x79, 0x7a]));
  });

  test('unknown flags and bad offsets are -EINVAL; the per-object limit is -EFBIG', async () => {
    const { s } = await freshInstance({ maxObjectSize: 64 });
    const h = s.create('ns:d', Buffer.alloc(64), 0);
    expect(h).toBeGreaterThan(0);
    expect(s.create('ns:big', Buffer.alloc(65), 0)).toBe(-WK_EFBIG);
    expect(s.setdata(h, bytes('x'), 0, 0x10)).toBe(-WK_EINVAL);
    expect(s.setdata(h, bytes('x'), -5, 0)).toBe(-WK_EINVAL);
    expect(s.setdata(h, bytes('x'), 64, 0)).toBe(-WK_EFBIG);
    expect(s.setdata(h, Buffer.alloc(65), 0, WK_SETDATA_TRUNCATE)).toBe(-WK_EFBIG);
    expect(s.size(h)).toBe(64);
    expect(s.setdata(h, bytes('x'), 63, 0)).toBe(64);
  });

  test('large data round-trips', async () => {
    const { s } = await freshInstance();
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    const h = s.create('ns:big', big, 0);
    // Buffer.equals: deep equality of megabytes through expect() is slow
    expect((readAll(s, h) as Buffer).equals(big)).toBe(true);
    expect(s.setdata(h, big, big.length, 0)).toBe(2 * big.length);
    const tail = Buffer.alloc(big.length);
    expect(s.getdata(h, tail, big.length)).toBe(big.length);
    expect(tail.equals(big)).toBe(true);
  });

  test('data is shared by every handle and session on the object', async () => {
    const { s, join } = await freshInstance();
    const other = await join();
    const h = s.create('ns:shared', bytes('v1'), 0);
    const o = other.open('ns:shared');
    expect(readAll(other, o)).toEqual(bytes('v1'));
    expect(other.setdata(o, bytes('v2!'), 0, 0)).toBe(3);
    expect(readAll(s, h)).toEqual(bytes('v2!'));
  });

  test('a read never sees part of a concurrent setdata', async () => {
    const { s, kernid } = await freshInstance();
    const size = 256 * 1024;
    const h = s.create('ns:torn', Buffer.alloc(size), 0);
    const buf = Buffer.alloc(size);
    let reads = 0;
    const checkRead = () => {
      expect(s.getdata(h, buf, 0)).toBe(size);
      const first = buf[0];
      // every byte of one read comes from the same write
      expect(buf.equals(Buffer.alloc(size, first))).toBe(true);
      reads++;
    };
    if (onDevice) {
      // a writer in another process rewrites the whole object as fast as it can
      const peer = await startPeer();
      expect(await peer.call('attach', kernid, 0)).toBe(0);
      const ph = (await peer.call('open', 'ns:torn')) as number;
      expect(ph).toBeGreaterThan(0);
      // Reads go on for as long as the writer writes (each read yields, so the
      // end of the writer is seen): on a slow guest (TCG, a loaded machine) a
      // fixed reading window may hold only a few reads of 256 KiB.
      let writerDone = false;
      const writing = peer.run('hammer', { handle: ph, size, durationMs: 3000 }).finally(() => (writerDone = true));
      await sleep(100);
      while (!writerDone) {
        checkRead();
        await sleep(0);
      }
      expect(await writing).toBeGreaterThan(10);
    } else {
      // in process, writes and reads interleave on the event loop
      let round = 0;
      const writer = setInterval(() => {
        s.setdata(h, Buffer.alloc(size, ++round & 0xff), 0, 0);
      }, 0);
      const deadline = Date.now() + 300;
      while (Date.now() < deadline) {
        checkRead();
        await sleep(0);
      }
      clearInterval(writer);
      expect(round).toBeGreaterThan(5);
    }
    expect(reads).toBeGreaterThan(10);
  }, PEER_TEST_TIMEOUT);
});
