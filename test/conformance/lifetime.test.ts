// Object lifetime (handles, permanence, unlink) and the server hand-off.
import { describe, expect, test } from 'vitest';
import {
  WK_CREATE_PERMANENT,
  WK_EBUSY,
  WK_EINVAL,
  WK_ENOENT,
  WK_EOWNERDEAD,
  WK_LOCK_EXCLUSIVE,
  readName,
  type ServerEvent,
} from '../../backends/primitives.js';
import { bytes, freshInstance, readAll, settledWithin } from './harness.js';

describe('lifetime', () => {
  test('an object lives while a handle to it is open, in any session', async () => {
    const { s, join } = await freshInstance();
    const other = await join();
    const h = s.create('ns:o', bytes('v'), 0);
    const o = other.open('ns:o');
    expect(s.close(h)).toBe(0);
    expect(readAll(other, o)).toEqual(bytes('v'));
    expect(s.open('ns:o')).toBeGreaterThan(0);
    other.end();
    s.end();
    // (both ended: nothing refers to it any more)
    const { s: s2 } = await freshInstance();
    expect(s2.open('ns:o')).toBe(-WK_ENOENT);
  });

  test('closing the last handle destroys the object and frees its name', async () => {
    const { s } = await freshInstance();
    const h = s.create('ns:o', bytes('old'), 0);
    expect(s.close(h)).toBe(0);
    expect(s.open('ns:o')).toBe(-WK_ENOENT);
    const again = s.create('ns:o', bytes('new'), 0);
    expect(readAll(s, again)).toEqual(bytes('new'));
  });

  test('a permanent object outlives its handles and its session', async () => {
    const { s, join } = await freshInstance();
    const other = await join();
    const h = other.create('ns:perm', bytes('kept'), WK_CREATE_PERMANENT);
    expect(other.close(h)).toBe(0);
    other.end();
    const again = s.open('ns:perm');
    expect(readAll(s, again)).toEqual(bytes('kept'));
    expect(s.unlink(again)).toBe(0); // loses permanence
    expect(s.open('ns:perm')).toBe(-WK_ENOENT);
    expect(readAll(s, again)).toEqual(bytes('kept')); // still alive through the handle
    expect(s.close(again)).toBe(0);
  });

  test('unlink removes the name only; the object lives on while handles are open', async () => {
    const { s, join } = await freshInstance();
    const other = await join();
    const h = s.create('ns:u', bytes('first'), 0);
    const o = other.open('ns:u');
    expect(s.unlink(h)).toBe(0);
    expect(s.unlink(h)).toBe(0); // already unlinked: nothing to do
    expect(s.open('ns:u')).toBe(-WK_ENOENT);
    expect(other.setdata(o, bytes('F'), 0, 0)).toBe(5);
    expect(readAll(s, h)).toEqual(bytes('First'));
    expect(readName(s, h)).toEqual(bytes('ns:u')); // the name it had
    const fresh = s.create('ns:u', bytes('second'), 0);
    expect(readAll(s, fresh)).toEqual(bytes('second'));
    expect(readAll(other, o)).toEqual(bytes('First'));
  });
});

describe('server', () => {
  test('one server per instance (-EBUSY); the seat frees when the server ends', async () => {
    const { s, join } = await freshInstance();
    const other = await join();
    expect(s.registerServer()).toBe(0);
    expect(other.registerServer()).toBe(-WK_EBUSY);
    s.end();
    expect(other.registerServer()).toBe(0);
  });

  test('objects a session created and that are still alive are handed to the server with an event', async () => {
    const { s: server, join } = await freshInstance();
    expect(server.registerServer()).toBe(0);
    let notifications = 0;
    let notify: () => void = () => {};
    const notified = new Promise<void>((resolve) => (notify = resolve));
    const unsubscribe = server.onEvents(() => {
      notifications++;
      notify();
    });
    const client = await join();
    const bystander = await join();

    const kept = client.create('ns:kept-open', bytes('A'), 0);
    const perm = client.create('ns:permanent', bytes('B'), WK_CREATE_PERMANENT);
    expect(client.close(perm)).toBe(0);
    const gone = client.create('ns:gone', null, 0);
    expect(client.close(gone)).toBe(0);
    const anonymous = client.create('ns:shared-unlinked', bytes('C'), 0);
    expect(bystander.open('ns:shared-unlinked')).toBeGreaterThan(0);
    expect(client.unlink(anonymous)).toBe(0);
    const notMine = bystander.create('ns:bystanders', null, 0);
    expect(client.open('ns:bystanders')).toBeGreaterThan(0);
    expect(kept).toBeGreaterThan(0);
    expect(notMine).toBeGreaterThan(0);

    expect(server.readEvents()).toEqual([]);
    const clientId = client.sessionId;
    const clientPid = client.pid;
    client.end();
    expect(await settledWithin(notified, 2000)).toBeUndefined();
    expect(notifications).toBe(1); // coalesced: one wake-up for the three events
    unsubscribe();

    const events = server.readEvents() as ServerEvent[];
    expect(events).toHaveLength(3);
    const byName = new Map(events.map((e) => [readName(server, e.handle)!.toString(), e]));
    expect([...byName.keys()].sort()).toEqual(['ns:kept-open', 'ns:permanent', 'ns:shared-unlinked']);
    for (const event of events) {
      expect(event.fromSession).toBe(clientId);
      expect(event.fromPid).toBe(clientPid);
    }
    // the server's handles keep the objects alive and can read them
    expect(readAll(server, byName.get('ns:kept-open')!.handle)).toEqual(bytes('A'));
    expect(readAll(server, byName.get('ns:permanent')!.handle)).toEqual(bytes('B'));
    expect(readAll(server, byName.get('ns:shared-unlinked')!.handle)).toEqual(bytes('C'));
    expect(server.open('ns:kept-open')).toBeGreaterThan(0);
    expect(server.readEvents()).toEqual([]);
  });

  test('locks held by the ended session are abandoned before the hand-off', async () => {
    const { s: server, join } = await freshInstance();
    expect(server.registerServer()).toBe(0);
    const client = await join();
    const h = client.create('mutex:held', null, 0);
    expect(client.tryLock(h, WK_LOCK_EXCLUSIVE)).toBe(0);
    client.end();
    const [event] = server.readEvents() as ServerEvent[];
    expect(server.tryLock(event.handle, WK_LOCK_EXCLUSIVE)).toBe(-WK_EOWNERDEAD);
  });

  test('readEvents(max) pages through the queue; max is 1..1024', async () => {
    const { s: server, join } = await freshInstance();
    expect(server.registerServer()).toBe(0);
    const client = await join();
    for (let i = 0; i < 5; i++) client.create(`ns:${i}`, null, 0);
    client.end();
    expect(server.readEvents(0)).toBe(-WK_EINVAL);
    expect(server.readEvents(1025)).toBe(-WK_EINVAL);
    expect(server.readEvents(2)).toHaveLength(2);
    expect(server.readEvents(2)).toHaveLength(2);
    expect(server.readEvents(2)).toHaveLength(1);
    expect(server.readEvents(2)).toEqual([]);
  });

  test('the notification fires for events queued before subscribing, and not without a server', async () => {
    const { s: server, join } = await freshInstance();
    const early = await join();
    early.create('ns:before-server', null, 0);
    early.end(); // no server yet: nothing is handed over, the object dies
    expect(server.open('ns:before-server')).toBe(-WK_ENOENT);
    expect(server.registerServer()).toBe(0);
    const client = await join();
    client.create('ns:x', null, 0);
    client.end();
    const fired = new Promise<void>((resolve) => server.onEvents(resolve));
    expect(await settledWithin(fired, 2000)).toBeUndefined();
    expect(server.readEvents()).toHaveLength(1);
  });

  test("the server's own objects are not handed to anyone", async () => {
    const { s, join } = await freshInstance();
    const server = await join();
    expect(server.registerServer()).toBe(0);
    server.create('ns:servers', null, 0);
    server.end();
    expect(s.open('ns:servers')).toBe(-WK_ENOENT);
    expect(s.registerServer()).toBe(0);
    expect(s.readEvents()).toEqual([]);
  });
});
