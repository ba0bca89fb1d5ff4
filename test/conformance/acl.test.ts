// Object ACLs: defaults, evaluation order, owner rights, validation, and each
// call's right.
import { describe, expect, test } from 'vitest';
import {
  WK_ACE_ALLOW as ALLOW,
  WK_ACE_DENY as DENY,
  WK_E2BIG,
  WK_EACCES,
  WK_EINVAL,
  WK_LOCK_EXCLUSIVE,
  WK_RIGHT_ATTACH,
  WK_RIGHT_ATTACH_FILE,
  WK_RIGHT_DELETE,
  WK_RIGHT_GET_FILE,
  WK_RIGHT_LOCK,
  WK_RIGHT_READ,
  WK_RIGHT_READ_ACL,
  WK_RIGHT_WRITE,
  WK_RIGHT_WRITE_ACL,
  WK_RIGHTS_OBJECT_MASK,
  WK_WHO_EVERYONE as EVERYONE,
  WK_WHO_GROUP as GROUP,
  WK_WHO_OWNER as OWNER,
  WK_WHO_USER as USER,
  type AclEntry,
} from '../../backends/primitives.js';
import { PEER_TEST_TIMEOUT, alice, bob, bytes, freshInstance, onDevice, readAll, startPeer } from './harness.js';

const ace = (type: number, who: number, id: number, rights: number): AclEntry => ({ type, who, id, rights });

describe('object ACLs', () => {
  test('the default ACL is ALLOW OWNER all', async () => {
    const { s } = await freshInstance();
    const h = s.create('ns:o', null, 0);
    expect(s.getacl(h)).toEqual([ace(ALLOW, OWNER, 0, WK_RIGHTS_OBJECT_MASK)]);
  });

  test('open needs no right; every later call checks its own', async () => {
    const { s, join } = await freshInstance();
    const h = s.create('ns:o', bytes('secret'), 0);
    const other = await join(alice);
    const o = other.open('ns:o');
    expect(o).toBeGreaterThan(0);
    const buf = Buffer.alloc(16);
    expect(other.size(o)).toBe(-WK_EACCES);
    expect(other.getdata(o, buf, 0)).toBe(-WK_EACCES);
    expect(other.setdata(o, buf, 0, 0)).toBe(-WK_EACCES);
    expect(other.tryLock(o, WK_LOCK_EXCLUSIVE)).toBe(-WK_EACCES);
    expect(await other.lock(o, WK_LOCK_EXCLUSIVE)).toBe(-WK_EACCES);
    expect(other.unlink(o)).toBe(-WK_EACCES);
    expect(other.getacl(o)).toBe(-WK_EACCES);
    expect(other.setacl(o, [])).toBe(-WK_EACCES);
    expect(other.attachNativeFile(o, 0)).toBe(-WK_EACCES);
    expect(other.getNativeFile(o)).toBe(-WK_EACCES);
    // needing no right: the name, and closing
    expect(other.namesize(o)).toBe(4);
    expect(other.close(o)).toBe(0);
    expect(readAll(s, h)).toEqual(bytes('secret'));
  });

  test('each right unlocks exactly its calls, for handles already open too', async () => {
    const { s, join } = await freshInstance();
    const h = s.create('ns:o', bytes('data'), 0);
    const other = await join(alice);
    const o = other.open('ns:o');
    const grant = (rights: number) => expect(s.setacl(h, [ace(ALLOW, EVERYONE, 0, rights)])).toBe(0);

    grant(WK_RIGHT_READ);
    expect(readAll(other, o)).toEqual(bytes('data'));
    expect(other.setdata(o, bytes('x'), 0, 0)).toBe(-WK_EACCES);
    grant(WK_RIGHT_WRITE);
    expect(other.setdata(o, bytes('D'), 0, 0)).toBe(4);
    expect(other.size(o)).toBe(-WK_EACCES);
    grant(WK_RIGHT_LOCK);
    expect(other.tryLock(o, WK_LOCK_EXCLUSIVE)).toBe(0);
    expect(other.unlock(o)).toBe(0);
    grant(WK_RIGHT_READ_ACL);
    expect(other.getacl(o)).toEqual([ace(ALLOW, EVERYONE, 0, WK_RIGHT_READ_ACL)]);
    expect(other.setacl(o, [])).toBe(-WK_EACCES);
    grant(WK_RIGHT_WRITE_ACL);
    expect(other.setacl(o, [ace(ALLOW, USER, alice.uid!, WK_RIGHT_READ | WK_RIGHT_WRITE_ACL)])).toBe(0);
    expect(readAll(other, o)).toEqual(bytes('Data'));
    expect(s.getacl(h)).toEqual([ace(ALLOW, USER, alice.uid!, WK_RIGHT_READ | WK_RIGHT_WRITE_ACL)]);
    // the owner lost READ through that ACL but keeps READ_ACL/WRITE_ACL
    expect(s.size(h)).toBe(-WK_EACCES);
    expect(s.setacl(h, [ace(ALLOW, EVERYONE, 0, WK_RIGHT_DELETE)])).toBe(0);
    expect(other.unlink(o)).toBe(0);
    expect(other.open('ns:o')).toBeLessThan(0);
  });

  test('entries are read in order: the first entry naming a right decides it', async () => {
    const { s, join } = await freshInstance();
    const h = s.create('ns:o', bytes('v'), 0);
    expect(
      s.setacl(h, [
        ace(DENY, USER, alice.uid!, WK_RIGHT_READ),
        ace(ALLOW, EVERYONE, 0, WK_RIGHT_READ | WK_RIGHT_WRITE),
        ace(DENY, EVERYONE, 0, WK_RIGHT_WRITE), // too late: WRITE was decided above
      ]),
    ).toBe(0);
    const asAlice = await join(alice);
    const asBob = await join(bob);
    const a = asAlice.open('ns:o');
    const b = asBob.open('ns:o');
    expect(asAlice.size(a)).toBe(-WK_EACCES);
    expect(asAlice.setdata(a, bytes('A'), 0, 0)).toBe(1);
    expect(asBob.size(b)).toBe(1);
    expect(asBob.setdata(b, bytes('B'), 0, 0)).toBe(1);
  });

  test('GROUP matches the primary gid and supplementary gids; undecided rights are denied', async () => {
    const { s, join } = await freshInstance();
    const h = s.create('ns:o', bytes('v'), 0);
    expect(s.setacl(h, [ace(ALLOW, GROUP, 42000, WK_RIGHT_READ), ace(ALLOW, GROUP, bob.gid!, WK_RIGHT_WRITE)])).toBe(0);
    const asAlice = await join(alice); // 42000 is a supplementary group of alice
    const asBob = await join(bob); // bob.gid is bob's primary group
    const a = asAlice.open('ns:o');
    const b = asBob.open('ns:o');
    expect(asAlice.size(a)).toBe(1);
    expect(asAlice.setdata(a, bytes('x'), 0, 0)).toBe(-WK_EACCES);
    expect(asBob.size(b)).toBe(-WK_EACCES);
    expect(asBob.setdata(b, bytes('y'), 0, 0)).toBe(1);
  });

  test('the owner always holds READ_ACL and WRITE_ACL', async () => {
    const { s } = await freshInstance();
    const h = s.create('ns:o', bytes('v'), 0);
    expect(s.setacl(h, [ace(DENY, OWNER, 0, WK_RIGHTS_OBJECT_MASK)])).toBe(0);
    expect(s.size(h)).toBe(-WK_EACCES);
    expect(s.getacl(h)).toEqual([ace(DENY, OWNER, 0, WK_RIGHTS_OBJECT_MASK)]);
    expect(s.setacl(h, [])).toBe(0);
    expect(s.getacl(h)).toEqual([]);
    expect(s.size(h)).toBe(-WK_EACCES); // an empty ACL grants nothing
    expect(s.setacl(h, [ace(ALLOW, OWNER, 0, WK_RIGHT_READ)])).toBe(0);
    expect(s.size(h)).toBe(1);
  });

  test('validation: unknown types, whos and rights are -EINVAL, more than 64 entries -E2BIG', async () => {
    const { s } = await freshInstance();
    const h = s.create('ns:o', null, 0);
    expect(s.setacl(h, [ace(0, EVERYONE, 0, WK_RIGHT_READ)])).toBe(-WK_EINVAL);
    expect(s.setacl(h, [ace(3, EVERYONE, 0, WK_RIGHT_READ)])).toBe(-WK_EINVAL);
    expect(s.setacl(h, [ace(ALLOW, 0, 0, WK_RIGHT_READ)])).toBe(-WK_EINVAL);
    expect(s.setacl(h, [ace(ALLOW, 5, 0, WK_RIGHT_READ)])).toBe(-WK_EINVAL);
    expect(s.setacl(h, [ace(ALLOW, EVERYONE, 0, WK_RIGHT_ATTACH)])).toBe(-WK_EINVAL); // instance-only right
    expect(s.setacl(h, [ace(ALLOW, EVERYONE, 0, 0x1000)])).toBe(-WK_EINVAL);
    const entries = Array.from({ length: 64 }, (_, i) => ace(ALLOW, USER, 50000 + i, WK_RIGHT_READ));
    expect(s.setacl(h, entries)).toBe(0);
    expect(s.getacl(h)).toEqual(entries);
    expect(s.setacl(h, [...entries, ace(ALLOW, EVERYONE, 0, WK_RIGHT_READ)])).toBe(-WK_E2BIG);
    expect(s.getacl(h)).toEqual(entries); // a refused setacl changes nothing
    const all = [WK_RIGHT_READ, WK_RIGHT_WRITE, WK_RIGHT_LOCK, WK_RIGHT_DELETE, WK_RIGHT_READ_ACL, WK_RIGHT_WRITE_ACL, WK_RIGHT_ATTACH_FILE, WK_RIGHT_GET_FILE];
    expect(all.reduce((x, y) => x | y)).toBe(WK_RIGHTS_OBJECT_MASK);
  });

  test('the owner is the creator: objects created by another user are theirs', async () => {
    const { s, join } = await freshInstance();
    const asAlice = await join(alice);
    const a = asAlice.create('ns:alices', bytes('hers'), 0);
    expect(readAll(asAlice, a)).toEqual(bytes('hers'));
    const h = s.open('ns:alices');
    expect(s.size(h)).toBe(-WK_EACCES);
    expect(s.getacl(h)).toBe(-WK_EACCES);
  });

  test(onDevice ? 'another process running as another uid is held to the ACL' : 'in process, sessions with other credentials stand for other processes', async () => {
    const { s, kernid, join } = await freshInstance();
    const h = s.create('ns:cross', bytes('xp'), 0);
    if (!onDevice) {
      const other = await join(alice);
      const o = other.open('ns:cross');
      expect(other.size(o)).toBe(-WK_EACCES);
      expect(s.setacl(h, [ace(ALLOW, USER, alice.uid!, WK_RIGHT_READ)])).toBe(0);
      expect(readAll(other, o)).toEqual(bytes('xp'));
      return;
    }
    await join(bob); // opens the instance ACL to everyone
    const peer = await startPeer(alice);
    expect(await peer.call('attach', kernid, 0)).toBe(0);
    const o = (await peer.call('open', 'ns:cross')) as number;
    expect(o).toBeGreaterThan(0);
    expect(await peer.call('size', o)).toBe(-WK_EACCES);
    expect(s.setacl(h, [ace(ALLOW, USER, alice.uid!, WK_RIGHT_READ)])).toBe(0);
    expect(Buffer.from((await peer.run('read', { handle: o, size: 16 })) as Uint8Array)).toEqual(bytes('xp'));
    expect(await peer.call('setdata', o, bytes('no'), 0, 0)).toBe(-WK_EACCES);
  }, PEER_TEST_TIMEOUT);
});
