// Cleanup after a process dies. On the device a real child process is
// SIGKILLed while holding a lock and owning objects; in process, ending a
// session is what process death is (the backend cannot outlive its process).
import { describe, expect, test } from 'vitest';
import {
  WK_EOWNERDEAD,
  WK_LOCK_EXCLUSIVE,
  WK_LOCK_SHARED,
  readName,
  type ServerEvent,
} from '../../backends/primitives.js';
import { PEER_TEST_TIMEOUT, bytes, freshInstance, onDevice, readAll, settledWithin, startPeer } from './harness.js';

describe('cleanup after a crash', () => {
  if (onDevice) {
    test('a SIGKILLed process: its lock is abandoned (-EOWNERDEAD), its objects go to the server', async () => {
      const { s, kernid, join } = await freshInstance();
      await join({ uid: 41001, gid: 41001, groups: [] }); // opens the instance ACL
      expect(s.registerServer()).toBe(0);
      const h = s.create('mutex:crash', bytes('before'), 0);
      const peer = await startPeer();
      expect(await peer.call('attach', kernid, 0)).toBe(0);
      const ph = (await peer.call('open', 'mutex:crash')) as number;
      expect(await peer.call('tryLock', ph, WK_LOCK_EXCLUSIVE)).toBe(0);
      const own = (await peer.call('create', 'ns:left-behind', bytes('orphan'), 0)) as number;
      expect(own).toBeGreaterThan(0);
      // a waiter queued behind the doomed holder
      const waiting = s.lock(h, WK_LOCK_SHARED, 10e9);
      expect(await settledWithin(waiting, 50)).toBe('pending');
      peer.child.kill('SIGKILL');
      expect((await peer.exited).signal).toBe('SIGKILL');
      expect(await settledWithin(waiting, 5000)).toBe(-WK_EOWNERDEAD);
      // the server got what the dead process created
      const fired = new Promise<void>((resolve) => s.onEvents(resolve));
      expect(await settledWithin(fired, 5000)).toBeUndefined();
      const events = s.readEvents() as ServerEvent[];
      expect(events).toHaveLength(1);
      expect(events[0].fromPid).toBe(peer.pid);
      expect(readName(s, events[0].handle)).toEqual(bytes('ns:left-behind'));
      expect(readAll(s, events[0].handle)).toEqual(bytes('orphan'));
    }, PEER_TEST_TIMEOUT);

    test('a SIGKILLed process blocked in a lock wait leaves nothing behind', async () => {
      const { s, kernid } = await freshInstance();
      const h = s.create('mutex:busy', null, 0);
      expect(s.tryLock(h, WK_LOCK_EXCLUSIVE)).toBe(0);
      const peer = await startPeer();
      expect(await peer.call('attach', kernid, 0)).toBe(0);
      const ph = (await peer.call('open', 'mutex:busy')) as number;
      void peer.call('lock', ph, WK_LOCK_EXCLUSIVE).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
      peer.child.kill('SIGKILL');
      await peer.exited;
      expect(s.unlock(h)).toBe(0);
      // no ghost waiter: the lock is free, and not abandoned
      expect(s.tryLock(h, WK_LOCK_EXCLUSIVE)).toBe(0);
    }, PEER_TEST_TIMEOUT);
  } else {
    test('an ended session: its lock is abandoned (-EOWNERDEAD), its objects go to the server', async () => {
      const { s, join } = await freshInstance();
      expect(s.registerServer()).toBe(0);
      const h = s.create('mutex:crash', bytes('before'), 0);
      const doomed = await join();
      const dh = doomed.open('mutex:crash');
      expect(doomed.tryLock(dh, WK_LOCK_EXCLUSIVE)).toBe(0);
      expect(doomed.create('ns:left-behind', bytes('orphan'), 0)).toBeGreaterThan(0);
      const waiting = s.lock(h, WK_LOCK_SHARED, 10e9);
      expect(await settledWithin(waiting, 50)).toBe('pending');
      const pid = doomed.pid;
      doomed.end();
      expect(await settledWithin(waiting, 5000)).toBe(-WK_EOWNERDEAD);
      const events = s.readEvents() as ServerEvent[];
      expect(events).toHaveLength(1);
      expect(events[0].fromPid).toBe(pid);
      expect(readName(s, events[0].handle)).toEqual(bytes('ns:left-behind'));
      expect(readAll(s, events[0].handle)).toEqual(bytes('orphan'));
    });
  }
});
