// Locks: shared/exclusive, FIFO, nonblocking, timeouts, EDEADLK, abandonment.
import { describe, expect, test } from 'vitest';
import {
  WK_EAGAIN,
  WK_EBADF,
  WK_EDEADLK,
  WK_EINTR,
  WK_EINVAL,
  WK_EOWNERDEAD,
  WK_EPERM,
  WK_ETIMEDOUT,
  WK_LOCK_EXCLUSIVE as X,
  WK_LOCK_NONBLOCK,
  WK_LOCK_SHARED as S,
} from '../../backends/primitives.js';
import { freshInstance, settledWithin } from './harness.js';

async function lockSetup(handles = 4) {
  const inst = await freshInstance();
  const first = inst.s.create('mutex:m', null, 0);
  const hs = [first];
  for (let i = 1; i < handles; i++) hs.push(inst.s.open('mutex:m'));
  return { ...inst, hs };
}

describe('taking and releasing', () => {
  test('exclusive excludes everyone; shared admits shared', async () => {
    const { s, hs: [a, b, c] } = await lockSetup();
    expect(s.tryLock(a, X)).toBe(0);
    expect(s.tryLock(b, S)).toBe(-WK_EAGAIN);
    expect(s.tryLock(b, X)).toBe(-WK_EAGAIN);
    expect(s.unlock(a)).toBe(0);
    expect(s.tryLock(a, S)).toBe(0);
    expect(s.tryLock(b, S)).toBe(0);
    expect(s.tryLock(c, X)).toBe(-WK_EAGAIN);
    expect(s.unlock(a)).toBe(0);
    expect(s.unlock(b)).toBe(0);
    expect(s.tryLock(c, X)).toBe(0);
  });

  test('NONBLOCK and timeout 0 do not wait (-EAGAIN); a free lock is taken without a Promise', async () => {
    const { s, hs: [a, b] } = await lockSetup();
    const free = s.lock(a, X);
    expect(free).toBe(0); // synchronous result, not a Promise
    expect(s.lock(b, X | WK_LOCK_NONBLOCK)).toBe(-WK_EAGAIN);
    expect(s.lock(b, S, 0)).toBe(-WK_EAGAIN);
    expect(s.lock(b, S | WK_LOCK_NONBLOCK, 1e9)).toBe(-WK_EAGAIN);
  });

  test('-EDEADLK when the handle already holds a lock; another handle of the same session just conflicts', async () => {
    const { s, hs: [a, b] } = await lockSetup();
    expect(s.tryLock(a, S)).toBe(0);
    expect(s.tryLock(a, S)).toBe(-WK_EDEADLK);
    expect(await s.lock(a, X)).toBe(-WK_EDEADLK);
    expect(s.tryLock(b, X)).toBe(-WK_EAGAIN);
  });

  test('unlock without a lock is -EPERM; bad flags and timeouts are -EINVAL', async () => {
    const { s, hs: [a] } = await lockSetup();
    expect(s.unlock(a)).toBe(-WK_EPERM);
    expect(s.tryLock(a, 0)).toBe(-WK_EINVAL);
    expect(s.tryLock(a, S | X)).toBe(-WK_EINVAL);
    expect(s.tryLock(a, WK_LOCK_NONBLOCK)).toBe(-WK_EINVAL);
    expect(s.tryLock(a, X | 0x40)).toBe(-WK_EINVAL);
    expect(await s.lock(a, X, -2)).toBe(-WK_EINVAL);
    expect(s.tryLock(a, X)).toBe(0);
    expect(s.unlock(a)).toBe(0);
    expect(s.unlock(a)).toBe(-WK_EPERM);
  });
});

describe('waiting', () => {
  test('a waiting lock resolves when the holder unlocks', async () => {
    const { s, hs: [a, b] } = await lockSetup();
    expect(s.tryLock(a, X)).toBe(0);
    const waiting = s.lock(b, X);
    expect(waiting).toBeInstanceOf(Promise);
    expect(await settledWithin(waiting, 50)).toBe('pending');
    expect(s.unlock(a)).toBe(0);
    expect(await settledWithin(waiting, 2000)).toBe(0);
    expect(s.tryLock(a, S)).toBe(-WK_EAGAIN);
    expect(s.unlock(b)).toBe(0);
  });

  test('waiters are served in FIFO order', async () => {
    const { s, hs } = await lockSetup(6);
    const order: number[] = [];
    expect(s.tryLock(hs[0], X)).toBe(0);
    const waits = [1, 2, 3, 4].map((i) =>
      Promise.resolve(s.lock(hs[i], X)).then((result) => {
        order.push(i);
        return result;
      }),
    );
    for (let i = 0; i <= 4; i++) {
      expect(s.unlock(hs[i])).toBe(0);
      if (i < 4) expect(await settledWithin(waits[i], 2000)).toBe(0);
    }
    expect(order).toEqual([1, 2, 3, 4]);
  });

  test('a waiting exclusive taker holds back later shared takers; compatible heads go together', async () => {
    const { s, hs: [a, b, c, d] } = await lockSetup();
    expect(s.tryLock(a, S)).toBe(0);
    const exclusive = s.lock(b, X);
    expect(s.tryLock(c, S)).toBe(-WK_EAGAIN); // would overtake the queued exclusive
    const shared1 = s.lock(c, S);
    const shared2 = s.lock(d, S);
    expect(await settledWithin(exclusive, 30)).toBe('pending');
    expect(s.unlock(a)).toBe(0);
    expect(await settledWithin(exclusive, 2000)).toBe(0);
    expect(await settledWithin(shared1, 30)).toBe('pending');
    expect(s.unlock(b)).toBe(0);
    expect(await settledWithin(shared1, 2000)).toBe(0);
    expect(await settledWithin(shared2, 2000)).toBe(0);
  });

  test('a timeout ends the wait with -ETIMEDOUT and leaves the queue', async () => {
    const { s, hs: [a, b, c] } = await lockSetup();
    expect(s.tryLock(a, X)).toBe(0);
    const started = process.hrtime.bigint();
    expect(await s.lock(b, X, 80e6)).toBe(-WK_ETIMEDOUT);
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect(elapsedMs).toBeGreaterThanOrEqual(75);
    expect(elapsedMs).toBeLessThan(2000);
    // the timed-out waiter is gone: after unlock the lock is free for c
    expect(s.unlock(a)).toBe(0);
    expect(s.tryLock(c, X)).toBe(0);
    expect(s.unlock(c)).toBe(0);
    // b may wait again
    expect(s.tryLock(b, X)).toBe(0);
  });

  test('a timed-out exclusive at the head lets the shared waiters behind it in', async () => {
    const { s, hs: [a, b, c] } = await lockSetup();
    expect(s.tryLock(a, S)).toBe(0);
    const exclusive = s.lock(b, X, 60e6);
    const shared = s.lock(c, S);
    expect(await settledWithin(shared, 20)).toBe('pending');
    expect(await exclusive).toBe(-WK_ETIMEDOUT);
    expect(await settledWithin(shared, 2000)).toBe(0);
  });

  test('a timed wait that gets the lock in time returns 0', async () => {
    const { s, hs: [a, b] } = await lockSetup();
    expect(s.tryLock(a, X)).toBe(0);
    const waiting = s.lock(b, S, 5e9);
    setTimeout(() => s.unlock(a), 20);
    expect(await waiting).toBe(0);
  });

  test('closing the handle ends its wait with -EBADF, ending the session with -EINTR', async () => {
    const { s, join, hs: [a, b] } = await lockSetup();
    expect(s.tryLock(a, X)).toBe(0);
    const waiting = s.lock(b, X);
    expect(await settledWithin(waiting, 30)).toBe('pending');
    expect(s.close(b)).toBe(0);
    expect(await settledWithin(waiting, 2000)).toBe(-WK_EBADF);
    const other = await join();
    const o = other.open('mutex:m');
    const otherWaiting = other.lock(o, S);
    expect(await settledWithin(otherWaiting, 30)).toBe('pending');
    other.end();
    expect(await settledWithin(otherWaiting, 2000)).toBe(-WK_EINTR);
    // nothing of either waiter is left in the queue
    expect(s.unlock(a)).toBe(0);
    expect(s.tryLock(a, X)).toBe(0);
  });
});

describe('abandonment', () => {
  test('the next taker after a session ends holding the exclusive lock gets -EOWNERDEAD, once', async () => {
    const { s, join } = await lockSetup(1);
    const other = await join();
    const o = other.open('mutex:m');
    expect(other.tryLock(o, X)).toBe(0);
    other.end();
    const h = s.open('mutex:m');
    expect(s.tryLock(h, S)).toBe(-WK_EOWNERDEAD);
    expect(s.unlock(h)).toBe(0); // it was acquired
    expect(s.tryLock(h, X)).toBe(0);
  });

  test('closing the handle that holds the exclusive lock abandons it; a waiter gets -EOWNERDEAD', async () => {
    const { s, hs: [a, b, c] } = await lockSetup();
    expect(s.tryLock(a, X)).toBe(0);
    const waiting = s.lock(b, X);
    expect(s.close(a)).toBe(0);
    expect(await settledWithin(waiting, 2000)).toBe(-WK_EOWNERDEAD);
    expect(s.unlock(b)).toBe(0);
    expect(s.tryLock(c, X)).toBe(0);
  });

  test('a shared holder going away abandons nothing; a clean unlock abandons nothing', async () => {
    const { s, join, hs: [a, b] } = await lockSetup();
    const other = await join();
    const o = other.open('mutex:m');
    expect(other.tryLock(o, S)).toBe(0);
    other.end();
    expect(s.tryLock(a, X)).toBe(0);
    expect(s.unlock(a)).toBe(0);
    expect(s.tryLock(b, X)).toBe(0);
  });

  test('when several shared waiters are let in after an abandonment, only the first hears of it', async () => {
    const { s, join, hs: [a, b] } = await lockSetup();
    const other = await join();
    const o = other.open('mutex:m');
    expect(other.tryLock(o, X)).toBe(0);
    const w1 = s.lock(a, S);
    const w2 = s.lock(b, S);
    other.end();
    expect(await settledWithin(w1, 2000)).toBe(-WK_EOWNERDEAD);
    expect(await settledWithin(w2, 2000)).toBe(0);
  });
});
