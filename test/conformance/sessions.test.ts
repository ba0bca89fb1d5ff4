// Sessions and instances: attach, instance ACL, isolation, instance lifetime.
import { describe, expect, test } from 'vitest';
import {
  WK_ACE_ALLOW,
  WK_ACE_DENY,
  WK_ATTACH_CREATE,
  WK_E2BIG,
  WK_EACCES,
  WK_EALREADY,
  WK_EBADF,
  WK_EINVAL,
  WK_ENOENT,
  WK_ENOTCONN,
  WK_EPERM,
  WK_CREATE_PERMANENT,
  WK_LOCK_EXCLUSIVE,
  WK_RIGHT_ATTACH,
  WK_RIGHT_READ,
  WK_WHO_EVERYONE,
  WK_WHO_GROUP,
  WK_WHO_USER,
  WkSessionClosedError,
} from '../../backends/primitives.js';
import { alice, bob, bytes, freshInstance, freshKernid, openSession, readAll } from './harness.js';

describe('attach_to_kernel', () => {
  test('every call on an unbound session is -ENOTCONN', async () => {
    const s = await openSession();
    expect(s.sessionId).toBe(0);
    const buf = Buffer.alloc(16);
    expect(s.create('ns:a', null, 0)).toBe(-WK_ENOTCONN);
    expect(s.open('ns:a')).toBe(-WK_ENOTCONN);
    expect(s.close(1)).toBe(-WK_ENOTCONN);
    expect(s.unlink(1)).toBe(-WK_ENOTCONN);
    expect(s.namesize(1)).toBe(-WK_ENOTCONN);
    expect(s.getname(1, buf)).toBe(-WK_ENOTCONN);
    expect(s.size(1)).toBe(-WK_ENOTCONN);
    expect(s.getdata(1, buf, 0)).toBe(-WK_ENOTCONN);
    expect(s.setdata(1, buf, 0, 0)).toBe(-WK_ENOTCONN);
    expect(await s.lock(1, WK_LOCK_EXCLUSIVE)).toBe(-WK_ENOTCONN);
    expect(s.tryLock(1, WK_LOCK_EXCLUSIVE)).toBe(-WK_ENOTCONN);
    expect(s.unlock(1)).toBe(-WK_ENOTCONN);
    expect(s.setacl(1, [])).toBe(-WK_ENOTCONN);
    expect(s.getacl(1)).toBe(-WK_ENOTCONN);
    expect(s.attachNativeFile(1, 0)).toBe(-WK_ENOTCONN);
    expect(s.getNativeFile(1)).toBe(-WK_ENOTCONN);
    expect(s.list('ns', buf, 0).status).toBe(-WK_ENOTCONN);
    expect(s.registerServer()).toBe(-WK_ENOTCONN);
    expect(s.readEvents()).toBe(-WK_ENOTCONN);
    expect(s.instanceSetacl([])).toBe(-WK_ENOTCONN);
  });

  test('CREATE makes a new instance (1), attaching again to it gives 0, a session binds once', async () => {
    const kernid = freshKernid();
    const a = await openSession();
    expect(a.attach(kernid, WK_ATTACH_CREATE)).toBe(1);
    expect(a.sessionId).toBeGreaterThan(0);
    expect(a.attach(kernid, WK_ATTACH_CREATE)).toBe(-WK_EALREADY);
    expect(a.attach(freshKernid(), WK_ATTACH_CREATE)).toBe(-WK_EALREADY);
    const b = await openSession();
    expect(b.attach(kernid, WK_ATTACH_CREATE)).toBe(0);
    const c = await openSession();
    expect(c.attach(kernid, 0)).toBe(0);
    const ids = new Set([a.sessionId, b.sessionId, c.sessionId]);
    expect(ids.size).toBe(3);
    expect(ids.has(0)).toBe(false);
  });

  test('a missing instance without CREATE is -ENOENT', async () => {
    const s = await openSession();
    expect(s.attach(freshKernid(), 0)).toBe(-WK_ENOENT);
    // the failed attach left the session unbound, so it may still attach
    expect(s.attach(freshKernid(), WK_ATTACH_CREATE)).toBe(1);
  });

  test('instance names: 1..63 bytes, no NUL, no slash; unknown flags', async () => {
    const s = await openSession();
    expect(s.attach('', WK_ATTACH_CREATE)).toBe(-WK_EINVAL);
    expect(s.attach('x'.repeat(64), WK_ATTACH_CREATE)).toBe(-WK_EINVAL);
    expect(s.attach('a/b', WK_ATTACH_CREATE)).toBe(-WK_EINVAL);
    expect(s.attach('a\0b', WK_ATTACH_CREATE)).toBe(-WK_EINVAL);
    expect(s.attach(freshKernid(), 0x80)).toBe(-WK_EINVAL);
    expect(s.attach(`${freshKernid()}-`.padEnd(63, 'k'), WK_ATTACH_CREATE)).toBe(1);
  });

  test('limits beyond the upper bounds are -EINVAL', async () => {
    const s = await openSession();
    expect(s.attach(freshKernid(), WK_ATTACH_CREATE, { maxObjects: 2 ** 31 + 1 })).toBe(-WK_EINVAL);
    expect(s.attach(freshKernid(), WK_ATTACH_CREATE, { maxObjectSize: 2 ** 31 })).toBe(-WK_EINVAL);
    expect(s.attach(freshKernid(), WK_ATTACH_CREATE, { maxObjects: 10, maxBytes: 0 })).toBe(1);
  });
});

describe('instance ACL', () => {
  test('by default only the owner may attach', async () => {
    const { kernid } = await freshInstance();
    const other = await openSession(alice);
    expect(other.attach(kernid, 0)).toBe(-WK_EACCES);
    expect(other.attach(kernid, WK_ATTACH_CREATE)).toBe(-WK_EACCES);
  });

  test('the owner grants ATTACH to a user, a group (primary or supplementary), or everyone', async () => {
    const { kernid, s } = await freshInstance();
    expect(s.instanceSetacl([{ type: WK_ACE_ALLOW, who: WK_WHO_USER, id: alice.uid!, rights: WK_RIGHT_ATTACH }])).toBe(0);
    const asAlice = await openSession(alice);
    expect(asAlice.attach(kernid, 0)).toBe(0);
    const asBob = await openSession(bob);
    expect(asBob.attach(kernid, 0)).toBe(-WK_EACCES);

    expect(s.instanceSetacl([{ type: WK_ACE_ALLOW, who: WK_WHO_GROUP, id: 42000, rights: WK_RIGHT_ATTACH }])).toBe(0);
    const viaSupplementary = await openSession({ uid: 41003, gid: 41003, groups: [42000] });
    expect(viaSupplementary.attach(kernid, 0)).toBe(0);
    expect(s.instanceSetacl([{ type: WK_ACE_ALLOW, who: WK_WHO_GROUP, id: bob.gid!, rights: WK_RIGHT_ATTACH }])).toBe(0);
    const asBob2 = await openSession(bob);
    expect(asBob2.attach(kernid, 0)).toBe(0);

    expect(
      s.instanceSetacl([
        { type: WK_ACE_DENY, who: WK_WHO_USER, id: bob.uid!, rights: WK_RIGHT_ATTACH },
        { type: WK_ACE_ALLOW, who: WK_WHO_EVERYONE, id: 0, rights: WK_RIGHT_ATTACH },
      ]),
    ).toBe(0);
    const asBob3 = await openSession(bob);
    expect(asBob3.attach(kernid, 0)).toBe(-WK_EACCES);
    const someone = await openSession({ uid: 41009, gid: 41009, groups: [] });
    expect(someone.attach(kernid, 0)).toBe(0);
  });

  test('only the owner may change it; entries are validated', async () => {
    const { s, join } = await freshInstance();
    const other = await join(alice);
    expect(other.instanceSetacl([])).toBe(-WK_EPERM);
    expect(s.instanceSetacl([{ type: 3, who: WK_WHO_EVERYONE, id: 0, rights: WK_RIGHT_ATTACH }])).toBe(-WK_EINVAL);
    expect(s.instanceSetacl([{ type: WK_ACE_ALLOW, who: 9, id: 0, rights: WK_RIGHT_ATTACH }])).toBe(-WK_EINVAL);
    expect(s.instanceSetacl([{ type: WK_ACE_ALLOW, who: WK_WHO_EVERYONE, id: 0, rights: 0x200 }])).toBe(-WK_EINVAL);
    const tooMany = Array.from({ length: 65 }, () => ({ type: WK_ACE_ALLOW, who: WK_WHO_EVERYONE, id: 0, rights: WK_RIGHT_ATTACH }));
    expect(s.instanceSetacl(tooMany)).toBe(-WK_E2BIG);
    expect(s.instanceSetacl(tooMany.slice(0, 64))).toBe(0);
  });
});

describe('instances', () => {
  test('no name, object or handle crosses instances', async () => {
    const one = await freshInstance();
    const two = await freshInstance();
    const h1 = one.s.create('ns:same', bytes('one'), 0);
    const h2 = two.s.create('ns:same', bytes('two'), 0);
    expect(h1).toBeGreaterThan(0);
    expect(h2).toBeGreaterThan(0);
    expect(readAll(one.s, h1)).toEqual(bytes('one'));
    expect(readAll(two.s, h2)).toEqual(bytes('two'));
    expect(two.s.open('ns:only-in-one')).toBe(-WK_ENOENT);
    one.s.create('ns:only-in-one', null, 0);
    expect(two.s.open('ns:only-in-one')).toBe(-WK_ENOENT);
    const buf = Buffer.alloc(64);
    expect(two.s.list('ns', buf, 0).count).toBe(1);
    // a handle number valid in one session means nothing in another
    expect(two.s.close(h1 + 10)).toBe(-WK_EBADF);
  });

  test('an instance lives while a session is bound or it holds a permanent object', async () => {
    const kernid = freshKernid();
    const a = await openSession();
    expect(a.attach(kernid, WK_ATTACH_CREATE)).toBe(1);
    a.end();
    const b = await openSession();
    expect(b.attach(kernid, 0)).toBe(-WK_ENOENT);

    expect(b.attach(kernid, WK_ATTACH_CREATE)).toBe(1);
    const h = b.create('keep:me', bytes('still here'), WK_CREATE_PERMANENT);
    expect(h).toBeGreaterThan(0);
    b.end();
    const c = await openSession();
    expect(c.attach(kernid, 0)).toBe(0);
    const again = c.open('keep:me');
    expect(again).toBeGreaterThan(0);
    expect(readAll(c, again)).toEqual(bytes('still here'));
    // the instance ACL survived too: still owner-only
    const other = await openSession(alice);
    expect(other.attach(kernid, 0)).toBe(-WK_EACCES);
    // clean up: drop the permanence so the instance can go
    expect(c.unlink(again)).toBe(0);
  });

  test('limits given to an existing instance are ignored; an instance ACL entry names only ATTACH right', async () => {
    const { kernid, s } = await freshInstance({ maxObjects: 1 });
    const other = await openSession();
    expect(other.attach(kernid, WK_ATTACH_CREATE, { maxObjects: 100 })).toBe(0);
    expect(s.create('ns:1', null, 0)).toBeGreaterThan(0);
    expect(other.create('ns:2', null, 0)).toBeLessThan(0);
    expect(s.instanceSetacl([{ type: WK_ACE_ALLOW, who: WK_WHO_EVERYONE, id: 0, rights: WK_RIGHT_ATTACH | WK_RIGHT_READ }])).toBe(0);
  });
});

describe('session end', () => {
  test('is idempotent, and later calls throw a typed error', async () => {
    const { s } = await freshInstance();
    s.end();
    s.end();
    expect(s.ended).toBe(true);
    expect(() => s.create('ns:x', null, 0)).toThrow(WkSessionClosedError);
    try {
      s.open('ns:x');
    } catch (error) {
      expect((error as WkSessionClosedError).code).toBe('WK_SESSION_CLOSED');
    }
    expect(() => s.attach('x', WK_ATTACH_CREATE)).toThrow(WkSessionClosedError);
  });
});
