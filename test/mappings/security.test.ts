// get_security_object / set_security_object and the NT access checks on
// objects the proxy owns, on the in-process backend. The sequences and the
// expected lines are those of a real +server trace of the security corpus
// program (an event created with a DACL denying EVENT_MODIFY_STATE to
// Everyone, then NULL, empty and SDDL-built DACLs): the object is named
// through the namespace as the event translators will do it.

import { beforeEach, describe, expect, it } from 'vitest';
import { createInProcessBackend } from '../../backends/inprocess/index.ts';
import { WK_ACE_ALLOW, WK_ACE_DENY, WK_ATTACH_CREATE, WK_RIGHT_DELETE, WK_RIGHT_LOCK, WK_RIGHT_READ, WK_RIGHT_READ_ACL, WK_RIGHT_WRITE, WK_WHO_EVERYONE, WK_WHO_OWNER } from '../../backends/primitives.ts';
import { ProxyHandleTable } from '../../mappings/handles.ts';
import { closeNamespaceHandle } from '../../mappings/namespace/proxy-handles.ts';
import { createDirectory, createNamedObject, openNamedObject } from '../../mappings/namespace/translators.ts';
import { primitiveAclFor } from '../../mappings/security/acl-map.ts';
import {
  accessCheck,
  buildAcl,
  DOMAIN_USERS_SID,
  mergeSecurityDescriptor,
  sdIsValid,
  sdParts,
  WINE_PROCESS_TOKEN,
  WORLD_SID,
} from '../../mappings/security/descriptor.ts';
import { getSecurityObject, setSecurityObject } from '../../mappings/security/translators.ts';
import type { TranslatedEntry, TranslationContext } from '../../mappings/translator.ts';
import type { ObjectAttributesField } from '../../requests/kinds/object-attributes.ts';
import type { Acl, SecurityDescriptor } from '../../requests/kinds/security.ts';
import { loadProtocol } from '../../requests/protocol.ts';

const protocol = loadProtocol('wine-8.0');
const TID = 0x24;
const EVERYONE = { revision: 1, authority: 1, subAuthorities: [0] };

/** An ACL as kernel32's InitializeAcl(acl, 256) + Add*Ace make it: size 256, zero padding. */
function acl256(aces: Array<[type: number, mask: number]>): Acl {
  const used = 8 + aces.length * 20;
  return { revision: 2, size: 256, aces: aces.map(([type, mask]) => ({ type, flags: 0, mask, body: EVERYONE })), trailing: Buffer.alloc(256 - used) };
}
function exactAcl(aces: Array<[type: number, mask: number]>): Acl {
  return { revision: 2, aces: aces.map(([type, mask]) => ({ type, flags: 0, mask, body: EVERYONE })), trailing: Buffer.alloc(0) };
}
const daclOnly = (dacl: Acl | null): SecurityDescriptor => ({ control: 4, owner: null, group: null, sacl: null, dacl, trailing: Buffer.alloc(0) });

let backend: ReturnType<typeof createInProcessBackend>;
let counter = 0;

function client(): TranslationContext {
  const session = backend.openSession({ pid: 0x20 });
  expect(session.attach(`sec-${counter}`, WK_ATTACH_CREATE)).toBeGreaterThanOrEqual(0);
  return { session, pid: 0x20, tid: TID, handles: new ProxyHandleTable(), protocol };
}

async function call(ctx: TranslationContext, translator: TranslatedEntry, body: Record<string, unknown>, replySize = 0x1000) {
  const code = protocol.codeOf(translator.request);
  const request = protocol.decodeRequest(protocol.encodeRequest({ code, replySize, body }));
  const reply = await translator.translate(request, ctx);
  const decoded = protocol.decodeReply(code, protocol.encodeReply({ code, error: reply.error, body: reply.body }));
  return protocol.formatReply(TID, decoded);
}

const getSd = (ctx: TranslationContext, handle: number, info: number, replySize = 0x1000) => call(ctx, getSecurityObject, { handle, security_info: info }, replySize);
const setSd = (ctx: TranslationContext, handle: number, info: number, sd: SecurityDescriptor | null) => call(ctx, setSecurityObject, { handle, security_info: info, sd });
const open = (ctx: TranslationContext, type: string, name: string, access: number) =>
  openNamedObject(ctx, { type, access, attributes: 0, rootdir: 0, name: Buffer.from(name, 'utf16le') });

beforeEach(() => {
  backend = createInProcessBackend();
  counter++;
});

const EVENT = '\\Sessions\\1\\BaseNamedObjects\\WineKernel.Sec.Event';

describe('object security (Wine 8.0 handle.c / token.c)', () => {
  it('replays the event part of the security program: creation DACL, denied opens, NULL and empty DACLs', async () => {
    const ctx = client();
    const objattr = { rootdir: 0, attributes: 0x80, sd: daclOnly(acl256([[1, 2], [0, 0x120000]])), name: EVENT } as ObjectAttributesField;
    // The creator of a new event is not checked (it asked for EVENT_ALL_ACCESS, which the DACL denies).
    const ev = await createNamedObject(ctx, { type: 'Event', access: 0x1f0003, objattr, checkCreator: false });
    expect(ev.status).toBe(0);
    expect((await open(ctx, 'Event', EVENT, 0x2)).status).toBe(0xc0000022);
    expect((await open(ctx, 'Event', EVENT, 0x1f0003)).status).toBe(0xc0000022);
    const sync = await open(ctx, 'Event', EVENT, 0x100000);
    expect(sync.status).toBe(0);
    closeNamespaceHandle(ctx, sync.handle);
    // Owner and group came from the token; the DACL is the one sent, with its 256-byte size.
    expect(await getSd(ctx, ev.handle, 5)).toBe(
      '0024: get_security_object() = 0 { sd_len=00000130, sd={control=00000004,owner=S-1-5-21-0-0-0-513,group=<not present>,sacl={},dacl={{type=ACCESS_DENIED,flags=0,mask=2,sid=S-1-1-0},{type=ACCESS_ALLOWED,flags=0,mask=120000,sid=S-1-1-0}}} }',
    );
    expect(await setSd(ctx, ev.handle, 4, daclOnly(acl256([[0, 0x1f0003]])))).toBe('0024: set_security_object() = 0');
    const modify = await open(ctx, 'Event', EVENT, 0x2);
    expect(modify.status).toBe(0);
    closeNamespaceHandle(ctx, modify.handle);
    // NULL DACL: present, no ACL, no protection.
    expect(await setSd(ctx, ev.handle, 4, daclOnly(null))).toBe('0024: set_security_object() = 0');
    const all = await open(ctx, 'Event', EVENT, 0x1f0003);
    expect(all.status).toBe(0);
    closeNamespaceHandle(ctx, all.handle);
    expect(await getSd(ctx, ev.handle, 4)).toBe('0024: get_security_object() = 0 { sd_len=00000014, sd={control=00000004,owner=<not present>,group=<not present>,sacl={},dacl={}} }');
    // Empty DACL: only what the owner always keeps.
    expect(await setSd(ctx, ev.handle, 4, daclOnly(acl256([])))).toBe('0024: set_security_object() = 0');
    expect(await getSd(ctx, ev.handle, 4)).toBe('0024: get_security_object() = 0 { sd_len=00000114, sd={control=00000004,owner=<not present>,group=<not present>,sacl={},dacl={}} }');
    const owner = await open(ctx, 'Event', EVENT, 0x100000);
    expect(owner.status).toBe(0);
    closeNamespaceHandle(ctx, owner.handle);
    expect((await open(ctx, 'Event', EVENT, 0x2)).status).toBe(0xc0000022);
    expect((await open(ctx, 'Event', EVENT, 0x60000)).status).toBe(0);
  });

  it('gives an object created without a descriptor owner and group from the token on its first set (the SDDL mutex)', async () => {
    const ctx = client();
    const name = '\\Sessions\\1\\BaseNamedObjects\\WineKernel.Sec.Mutex';
    const mutex = await createNamedObject(ctx, { type: 'Mutant', access: 0x1f0001, objattr: { rootdir: 0, attributes: 0x80, sd: null, name } as ObjectAttributesField, checkCreator: false });
    expect(mutex.status).toBe(0);
    // No descriptor at all: an empty answer.
    expect(await getSd(ctx, mutex.handle, 7)).toBe('0024: get_security_object() = 0 { sd_len=00000000, sd={} }');
    expect(await setSd(ctx, mutex.handle, 4, daclOnly(exactAcl([[1, 1], [0, 0x120000]])))).toBe('0024: set_security_object() = 0');
    expect(await getSd(ctx, mutex.handle, 4)).toBe(
      '0024: get_security_object() = 0 { sd_len=00000044, sd={control=00000004,owner=<not present>,group=<not present>,sacl={},dacl={{type=ACCESS_DENIED,flags=0,mask=1,sid=S-1-1-0},{type=ACCESS_ALLOWED,flags=0,mask=120000,sid=S-1-1-0}}} }',
    );
    expect(await getSd(ctx, mutex.handle, 7)).toBe(
      '0024: get_security_object() = 0 { sd_len=0000007c, sd={control=00000004,owner=S-1-5-21-0-0-0-513,group=S-1-5-21-0-0-0-513,sacl={},dacl={{type=ACCESS_DENIED,flags=0,mask=1,sid=S-1-1-0},{type=ACCESS_ALLOWED,flags=0,mask=120000,sid=S-1-1-0}}} }',
    );
    expect((await open(ctx, 'Mutant', name, 0x1)).status).toBe(0xc0000022);
    expect((await open(ctx, 'Mutant', name, 0x100000)).status).toBe(0);
  });

  it('checks the handle, its access, the descriptor and the reply size as wineserver does', async () => {
    const ctx = client();
    const dir = await call(ctx, createDirectory, { access: 0x20003, objattr: { rootdir: 0, attributes: 0, sd: daclOnly(exactAcl([[0, 0x10000000]])), name: '\\BaseNamedObjects\\SecDir' } });
    expect(dir).toBe('0024: create_directory() = 0 { handle=3fff0000 }');
    const h = 0x3fff0000;
    // The handle has READ_CONTROL (STANDARD_RIGHTS_READ) but not WRITE_DAC.
    expect(await getSd(ctx, h, 4)).toMatch(/^0024: get_security_object\(\) = 0 \{ sd_len=00000030, /);
    expect(await setSd(ctx, h, 4, daclOnly(exactAcl([])))).toBe('0024: set_security_object() = ACCESS_DENIED');
    expect(await getSd(ctx, h, 8)).toBe('0024: get_security_object() = ACCESS_DENIED { sd_len=00000000, sd={} }');
    expect(await getSd(ctx, 0x3ffe0000, 4)).toBe('0024: get_security_object() = INVALID_HANDLE { sd_len=00000000, sd={} }');
    // The current process's descriptor is wineserver's: never answered from here.
    expect(await getSd(ctx, 0xffffffff, 4)).toBe('0024: get_security_object() = NOT_SUPPORTED { sd_len=00000000, sd={} }');
    expect(await getSd(ctx, h, 4, 16)).toBe('0024: get_security_object() = BUFFER_TOO_SMALL { sd_len=00000030, sd={} }');
    expect(await call(ctx, setSecurityObject, { handle: h, security_info: 4, sd: { malformed: true, bytes: Buffer.from([4, 0, 0, 0]) } })).toBe('0024: set_security_object() = ACCESS_VIOLATION');
    // A directory whose DACL denies its creator: create_directory checks even the creator.
    const denied = await call(ctx, createDirectory, { access: 0xf000f, objattr: { rootdir: 0, attributes: 0, sd: daclOnly(exactAcl([[1, 0x1]])), name: '\\BaseNamedObjects\\Denied' } });
    expect(denied).toBe('0024: create_directory() = ACCESS_DENIED { handle=0000 }');
    // ... and then it is gone (no handle kept it).
    expect((await open(ctx, 'Directory', '\\BaseNamedObjects\\Denied', 0)).status).toBe(0xc0000034);
    // An invalid descriptor in the object attributes.
    const bad = await call(ctx, createDirectory, { access: 0xf000f, objattr: { rootdir: 0, attributes: 0, sd: { malformed: true, bytes: Buffer.from([4, 0, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) }, name: '\\BaseNamedObjects\\Bad' } });
    expect(bad).toBe('0024: create_directory() = INVALID_SECURITY_DESCR { handle=0000 }');
  });

  it('merges descriptors and checks access like token_access_check', () => {
    const dacl = buildAcl([
      { type: 1, mask: 0x2, sid: WORLD_SID },
      { type: 0, mask: 0x10000000, sid: DOMAIN_USERS_SID },
    ]);
    const sd = mergeSecurityDescriptor(null, { control: 4, owner: Buffer.alloc(0), group: Buffer.alloc(0), sacl: Buffer.alloc(0), dacl }, 0xf, WINE_PROCESS_TOKEN);
    expect(sd.owner.equals(DOMAIN_USERS_SID)).toBe(true);
    const mapping = { read: 0x20001, write: 0x20002, exec: 0x120000, all: 0x1f0003 };
    expect(accessCheck(WINE_PROCESS_TOKEN, sd, 0x1, mapping)).toEqual({ ok: true, granted: 0x1 });
    expect(accessCheck(WINE_PROCESS_TOKEN, sd, 0x2, mapping)).toEqual({ ok: false, status: 'denied' });
    // MAXIMUM_ALLOWED: everything allowed minus everything denied.
    expect(accessCheck(WINE_PROCESS_TOKEN, sd, 0x02000000, mapping)).toEqual({ ok: true, granted: 0x1f0001 });
    expect(accessCheck(WINE_PROCESS_TOKEN, sd, 0x80000000, mapping)).toEqual({ ok: false, status: 'generic-not-mapped' });
    expect(sdIsValid(Buffer.alloc(19))).toBe(false);
    // An ACE of an unknown type makes the descriptor invalid.
    const odd = Buffer.from(buildAcl([{ type: 0, mask: 1, sid: WORLD_SID }]));
    odd[8] = 5;
    expect(sdIsValid(Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, odd.length, 0, 0, 0]), odd]))).toBe(false);
  });

  it('projects what it can of the DACL onto the primitive ACL', async () => {
    const sd = sdParts(
      Buffer.concat([
        Buffer.from([4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 48, 0, 0, 0]),
        buildAcl([
          { type: 1, mask: 0x10000, sid: WORLD_SID },
          { type: 0, mask: 0x20001, sid: WORLD_SID },
        ]),
      ]),
    );
    expect(primitiveAclFor(sd)).toEqual([
      { type: WK_ACE_ALLOW, who: WK_WHO_OWNER, id: 0, rights: WK_RIGHT_READ | WK_RIGHT_WRITE | WK_RIGHT_LOCK | WK_RIGHT_DELETE },
      { type: WK_ACE_DENY, who: WK_WHO_EVERYONE, id: 0, rights: WK_RIGHT_DELETE },
      { type: WK_ACE_ALLOW, who: WK_WHO_EVERYONE, id: 0, rights: WK_RIGHT_READ_ACL | WK_RIGHT_READ | WK_RIGHT_WRITE | WK_RIGHT_LOCK },
    ]);
    // And the backend holds it after a set.
    const ctx = client();
    const made = await createNamedObject(ctx, { type: 'Event', access: 0x1f0003, objattr: { rootdir: 0, attributes: 0, sd: null, name: '\\BaseNamedObjects\\Acl' } as ObjectAttributesField, checkCreator: false });
    expect(await setSd(ctx, made.handle, 4, daclOnly(exactAcl([[1, 0x10000]])))).toBe('0024: set_security_object() = 0');
    const acl = ctx.session.getacl(ctx.handles.get(made.handle)!.primitive);
    expect(acl).toEqual([
      { type: WK_ACE_ALLOW, who: WK_WHO_OWNER, id: 0, rights: WK_RIGHT_READ | WK_RIGHT_WRITE | WK_RIGHT_LOCK | WK_RIGHT_DELETE },
      { type: WK_ACE_DENY, who: WK_WHO_EVERYONE, id: 0, rights: WK_RIGHT_DELETE },
    ]);
  });
});
