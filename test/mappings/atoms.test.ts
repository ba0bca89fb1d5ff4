// The atom translators on the in-process backend, driven the way the proxy
// will drive them: a request is encoded to wire bytes, decoded by the
// protocol layer, translated, and the reply encoded, decoded and printed as
// wineserver's +server trace prints it. Expected replies follow Wine 8.0's
// server/atom.c (see the comments of mappings/atoms.ts for the rules).

import { beforeEach, describe, expect, it } from 'vitest';
import { createInProcessBackend } from '../../backends/inprocess/index.ts';
import { WK_ATTACH_CREATE, WK_CREATE_PERMANENT, WK_LOCK_EXCLUSIVE, type Session } from '../../backends/primitives.ts';
import {
  addAtom,
  addGlobalAtom,
  ATOM_TRANSLATORS,
  atomKey,
  deleteAtom,
  findAtom,
  findGlobalAtom,
  getAtomInformation,
  grabGlobalAtom,
  MAX_STRING_ATOMS,
  releaseGlobalAtom,
} from '../../mappings/atoms.ts';
import { ProxyHandleTable } from '../../mappings/handles.ts';
import type { TranslatedEntry, TranslationContext } from '../../mappings/translator.ts';
import { loadProtocol } from '../../requests/protocol.ts';

const protocol = loadProtocol('wine-8.0');
const TID = 0x24;

type Body = Record<string, unknown>;

/** One client process: a session bound to the test's instance. */
function client(session: Session, pid = 0x20): TranslationContext {
  return { session, pid, tid: TID, handles: new ProxyHandleTable(), protocol };
}

/** Encode → decode → translate → encode → decode; returns the +server trace line of the reply and the decoded reply. */
async function call(ctx: TranslationContext, translator: TranslatedEntry, body: Body, replySize = 0) {
  const code = protocol.codeOf(translator.request);
  const frame = protocol.encodeRequest({ code, replySize, body });
  const request = protocol.decodeRequest(frame);
  expect(request.name).toBe(translator.request);
  const reply = await translator.translate(request, ctx);
  const replyFrame = protocol.encodeReply({ code, error: reply.error, body: reply.body });
  const decoded = protocol.decodeReply(code, replyFrame);
  return { trace: protocol.formatReply(TID, decoded), reply: decoded };
}

const add = async (ctx: TranslationContext, name: unknown) => (await call(ctx, addAtom, { name })).trace;
const find = async (ctx: TranslationContext, name: unknown) => (await call(ctx, findAtom, { name })).trace;
const del = async (ctx: TranslationContext, atom: number) => (await call(ctx, deleteAtom, { atom })).trace;
const info = async (ctx: TranslationContext, atom: number, replySize = 512) => (await call(ctx, getAtomInformation, { atom }, replySize)).trace;

let backend: ReturnType<typeof createInProcessBackend>;
let instanceCounter = 0;
let kernid: string;

function attachedSession(pid = 0x20): Session {
  const session = backend.openSession({ pid });
  expect(session.attach(kernid, WK_ATTACH_CREATE)).toBeGreaterThanOrEqual(0);
  return session;
}

beforeEach(() => {
  backend = createInProcessBackend();
  kernid = `atoms-${++instanceCounter}`;
});

describe('atom translators (Wine 8.0 global atom table)', () => {
  it('declares the four atom requests as translated, in the global-atom-table domain', () => {
    expect(ATOM_TRANSLATORS.map((t) => t.request)).toEqual(['add_atom', 'delete_atom', 'find_atom', 'get_atom_information']);
    for (const t of ATOM_TRANSLATORS) {
      expect(t.status).toBe('translated');
      expect(t.domains).toEqual(['global-atom-table']);
    }
  });

  it('answers STATUS_OBJECT_NAME_NOT_FOUND before the first add_atom created the table', async () => {
    const ctx = client(attachedSession());
    expect(await find(ctx, 'x')).toBe('0024: find_atom() = OBJECT_NAME_NOT_FOUND { atom=0000 }');
    // The missing table is reported before the name is checked.
    expect(await find(ctx, '')).toBe('0024: find_atom() = OBJECT_NAME_NOT_FOUND { atom=0000 }');
    expect(await del(ctx, 0xc000)).toBe('0024: delete_atom() = OBJECT_NAME_NOT_FOUND');
    expect(await info(ctx, 0xc000)).toBe('0024: get_atom_information() = OBJECT_NAME_NOT_FOUND { count=0, pinned=0, total=0, name=L"" }');
  });

  it('creates the table even on an add_atom that fails, after which unknown atoms are INVALID_HANDLE', async () => {
    const ctx = client(attachedSession());
    expect(await add(ctx, '')).toBe('0024: add_atom() = OBJECT_NAME_INVALID { atom=0000 }');
    expect(await del(ctx, 0xc000)).toBe('0024: delete_atom() = INVALID_HANDLE');
    expect(await info(ctx, 0xc000)).toBe('0024: get_atom_information() = INVALID_HANDLE { count=-1, pinned=0, total=0, name=L"" }');
    expect(await find(ctx, 'x')).toBe('0024: find_atom() = OBJECT_NAME_NOT_FOUND { atom=0000 }');
    expect(await find(ctx, '')).toBe('0024: find_atom() = OBJECT_NAME_INVALID { atom=0000 }');
  });

  it('adds case-insensitively, keeps the first spelling and counts references', async () => {
    const ctx = client(attachedSession());
    expect(await add(ctx, 'WineKernel.Alpha')).toBe('0024: add_atom() = 0 { atom=c000 }');
    expect(await add(ctx, 'WINEKERNEL.alpha')).toBe('0024: add_atom() = 0 { atom=c000 }');
    expect(await find(ctx, 'winekernel.ALPHA')).toBe('0024: find_atom() = 0 { atom=c000 }');
    expect(await info(ctx, 0xc000)).toBe('0024: get_atom_information() = 0 { count=2, pinned=0, total=32, name=L"WineKernel.Alpha" }');
    expect(await del(ctx, 0xc000)).toBe('0024: delete_atom() = 0');
    expect(await find(ctx, 'WineKernel.Alpha')).toBe('0024: find_atom() = 0 { atom=c000 }');
    expect(await del(ctx, 0xc000)).toBe('0024: delete_atom() = 0');
    expect(await find(ctx, 'WineKernel.Alpha')).toBe('0024: find_atom() = OBJECT_NAME_NOT_FOUND { atom=0000 }');
    expect(await info(ctx, 0xc000)).toBe('0024: get_atom_information() = INVALID_HANDLE { count=-1, pinned=0, total=0, name=L"" }');
    expect(await del(ctx, 0xc000)).toBe('0024: delete_atom() = INVALID_HANDLE');
  });

  it('hands out the lowest free atom number', async () => {
    const ctx = client(attachedSession());
    expect(await add(ctx, 'a')).toBe('0024: add_atom() = 0 { atom=c000 }');
    expect(await add(ctx, 'b')).toBe('0024: add_atom() = 0 { atom=c001 }');
    expect(await add(ctx, 'c')).toBe('0024: add_atom() = 0 { atom=c002 }');
    expect(await del(ctx, 0xc001)).toBe('0024: delete_atom() = 0');
    expect(await add(ctx, 'd')).toBe('0024: add_atom() = 0 { atom=c001 }');
    expect(await add(ctx, 'e')).toBe('0024: add_atom() = 0 { atom=c003 }');
    expect(await del(ctx, 0xc000)).toBe('0024: delete_atom() = 0');
    expect(await del(ctx, 0xc002)).toBe('0024: delete_atom() = 0');
    expect(await add(ctx, 'f')).toBe('0024: add_atom() = 0 { atom=c000 }');
    expect(await add(ctx, 'g')).toBe('0024: add_atom() = 0 { atom=c002 }');
    expect(await add(ctx, 'h')).toBe('0024: add_atom() = 0 { atom=c004 }');
  });

  it('limits names to 255 UTF-16 units (STATUS_INVALID_PARAMETER beyond)', async () => {
    const ctx = client(attachedSession());
    const longest = 'L'.repeat(255);
    expect(await add(ctx, longest)).toBe('0024: add_atom() = 0 { atom=c000 }');
    expect(await find(ctx, longest.toLowerCase())).toBe('0024: find_atom() = 0 { atom=c000 }');
    expect(await add(ctx, 'L'.repeat(256))).toBe('0024: add_atom() = INVALID_PARAMETER { atom=0000 }');
    expect(await find(ctx, 'L'.repeat(256))).toBe('0024: find_atom() = INVALID_PARAMETER { atom=0000 }');
    const { reply } = await call(ctx, getAtomInformation, { atom: 0xc000 }, 1024);
    expect(reply.body).toMatchObject({ count: 1, total: 510, name: longest });
  });

  it('ignores an odd trailing byte of the name, as wineserver does', async () => {
    const ctx = client(attachedSession());
    expect(await add(ctx, { malformed: true, bytes: Buffer.from([0x41, 0x00, 0x42]) })).toBe('0024: add_atom() = 0 { atom=c000 }');
    expect(await find(ctx, 'a')).toBe('0024: find_atom() = 0 { atom=c000 }');
    expect(await add(ctx, { malformed: true, bytes: Buffer.from([0x41]) })).toBe('0024: add_atom() = OBJECT_NAME_INVALID { atom=0000 }');
  });

  it('truncates the name to the reply size the client allows and reports the full length', async () => {
    const ctx = client(attachedSession());
    await add(ctx, 'WineKernel.Alpha');
    expect(await info(ctx, 0xc000, 8)).toBe('0024: get_atom_information() = 0 { count=1, pinned=0, total=32, name=L"Wine" }');
    expect(await info(ctx, 0xc000, 0)).toBe('0024: get_atom_information() = 0 { count=1, pinned=0, total=32, name=L"" }');
    const { reply } = await call(ctx, getAtomInformation, { atom: 0xc000 }, 5);
    expect(reply.body.total).toBe(32);
    expect(reply.body.name).toEqual({ malformed: true, bytes: Buffer.from([0x57, 0x00, 0x69, 0x00, 0x6e]) });
  });

  it('treats integer atoms and numbers outside 0xc000..0xffff as invalid handles', async () => {
    const ctx = client(attachedSession());
    await add(ctx, 'x');
    expect(await del(ctx, 123)).toBe('0024: delete_atom() = INVALID_HANDLE');
    expect(await info(ctx, 0x7b)).toBe('0024: get_atom_information() = INVALID_HANDLE { count=-1, pinned=0, total=0, name=L"" }');
    expect(await del(ctx, 0x1c000)).toBe('0024: delete_atom() = INVALID_HANDLE');
    expect(await info(ctx, 0xffffffff)).toBe('0024: get_atom_information() = INVALID_HANDLE { count=-1, pinned=0, total=0, name=L"" }');
    // A name that looks like an integer atom is an ordinary string atom to the server (ntdll resolves "#123" itself).
    expect(await add(ctx, '#123')).toBe('0024: add_atom() = 0 { atom=c001 }');
  });

  it("folds case with Wine's table, not JavaScript's", async () => {
    const ctx = client(attachedSession());
    expect(await add(ctx, 'ÄÖÜ Σ')).toBe('0024: add_atom() = 0 { atom=c000 }');
    expect(await find(ctx, 'äöü σ')).toBe('0024: find_atom() = 0 { atom=c000 }');
    // U+212A KELVIN SIGN lowercases to 'k' in JavaScript but not in Wine's casemap.
    expect('\u212a'.toLowerCase()).toBe('k');
    expect(await add(ctx, 'Temp\u212a')).toBe('0024: add_atom() = 0 { atom=c001 }');
    expect(await find(ctx, 'tempk')).toBe('0024: find_atom() = OBJECT_NAME_NOT_FOUND { atom=0000 }');
    expect(await find(ctx, 'TEMP\u212a')).toBe('0024: find_atom() = 0 { atom=c001 }');
  });

  it('keeps names with NUL units and lone surrogates apart', async () => {
    const ctx = client(attachedSession());
    expect(await add(ctx, 'a\0b')).toBe('0024: add_atom() = 0 { atom=c000 }');
    expect(await add(ctx, 'a')).toBe('0024: add_atom() = 0 { atom=c001 }');
    expect(await add(ctx, 'a\0')).toBe('0024: add_atom() = 0 { atom=c002 }');
    expect(await add(ctx, '\ud800')).toBe('0024: add_atom() = 0 { atom=c003 }');
    expect(await add(ctx, '\udc00')).toBe('0024: add_atom() = 0 { atom=c004 }');
    expect(await find(ctx, 'A\0B')).toBe('0024: find_atom() = 0 { atom=c000 }');
    expect(atomKey(Buffer.from('a\0b', 'utf16le')).includes(0)).toBe(false);
  });

  it('holds at most 0x4000 string atoms; the next one is STATUS_NO_MEMORY', async () => {
    const ctx = client(attachedSession());
    for (let i = 0; i < MAX_STRING_ATOMS; i++) {
      const { reply } = await call(ctx, addAtom, { name: `atom${i}` });
      if (reply.error !== 0 || reply.body.atom !== 0xc000 + i) throw new Error(`add ${i}: ${protocol.formatReply(TID, reply)}`);
    }
    expect(await add(ctx, 'one too many')).toBe('0024: add_atom() = NO_MEMORY { atom=0000 }');
    expect(await add(ctx, 'ATOM77')).toBe('0024: add_atom() = 0 { atom=c04d }');
    expect(await del(ctx, 0xd000)).toBe('0024: delete_atom() = 0');
    expect(await add(ctx, 'fits again')).toBe('0024: add_atom() = 0 { atom=d000 }');
  }, 120_000);

  it('shares the table between client processes and keeps atoms after their process ends', async () => {
    const parent = attachedSession(0x20);
    const child = attachedSession(0x30);
    const p = client(parent, 0x20);
    const c = client(child, 0x30);
    expect(await add(p, 'WineKernel.Shared')).toBe('0024: add_atom() = 0 { atom=c000 }');
    expect(await find(c, 'winekernel.shared')).toBe('0024: find_atom() = 0 { atom=c000 }');
    expect(await add(c, 'WineKernel.FromChild')).toBe('0024: add_atom() = 0 { atom=c001 }');
    child.end();
    expect(await find(p, 'WineKernel.FromChild')).toBe('0024: find_atom() = 0 { atom=c001 }');
    expect(await info(p, 0xc001)).toBe('0024: get_atom_information() = 0 { count=1, pinned=0, total=40, name=L"WineKernel.FromChild" }');
  });

  it('serialises concurrent adds of one new name from two processes', async () => {
    const a = client(attachedSession(0x20), 0x20);
    const b = client(attachedSession(0x30), 0x30);
    const results = await Promise.all([add(a, 'Racy'), add(b, 'RACY'), add(a, 'other'), add(b, 'racy')]);
    expect(results).toEqual([
      '0024: add_atom() = 0 { atom=c000 }',
      '0024: add_atom() = 0 { atom=c000 }',
      '0024: add_atom() = 0 { atom=c001 }',
      '0024: add_atom() = 0 { atom=c000 }',
    ]);
    expect(await info(a, 0xc000)).toBe('0024: get_atom_information() = 0 { count=3, pinned=0, total=8, name=L"Racy" }');
  });

  it('refuses to delete a pinned atom (STATUS_WAS_LOCKED) but lets internal releases through', async () => {
    const session = attachedSession();
    const ctx = client(session);
    await add(ctx, 'Pinned');
    // Nothing in Wine 8.0 pins atoms; set the record's flag directly to exercise the rule.
    const record = session.open('atomid:c000');
    expect(record).toBeGreaterThan(0);
    expect(session.setdata(record, Buffer.from([1, 0, 0, 0]), 8, 0)).toBeGreaterThan(0);
    session.close(record);
    expect(await del(ctx, 0xc000)).toBe('0024: delete_atom() = WAS_LOCKED');
    expect(await info(ctx, 0xc000)).toBe('0024: get_atom_information() = 0 { count=1, pinned=1, total=12, name=L"Pinned" }');
    expect(await releaseGlobalAtom(session, 0xc000)).toBe(0);
    expect(await find(ctx, 'Pinned')).toBe('0024: find_atom() = OBJECT_NAME_NOT_FOUND { atom=0000 }');
  });

  it('repairs the index after a process died holding the table lock mid-update', async () => {
    const victim = attachedSession(0x40);
    const ctx = client(attachedSession(0x20));
    await add(ctx, 'first');
    // The victim takes the table lock and writes an atom record but dies before its index entry.
    const table = victim.open('atomtable:global');
    expect(await victim.lock(table, WK_LOCK_EXCLUSIVE)).toBe(0);
    const name = Buffer.from('HalfAdded', 'utf16le');
    const rec = Buffer.alloc(16 + name.length);
    rec.writeUInt32LE(0xc001, 0);
    rec.writeInt32LE(1, 4);
    rec.writeUInt32LE(name.length, 12);
    name.copy(rec, 16);
    const h = victim.create('atomid:c001', rec, WK_CREATE_PERMANENT);
    expect(h).toBeGreaterThan(0);
    // ...and a stale index entry pointing at an atom that no longer exists.
    const stale = Buffer.alloc(4);
    stale.writeUInt32LE(0xc005, 0);
    expect(victim.create(atomKey(Buffer.from('ghost', 'utf16le')), stale, WK_CREATE_PERMANENT)).toBeGreaterThan(0);
    victim.end();
    expect(await find(ctx, 'halfadded')).toBe('0024: find_atom() = 0 { atom=c001 }');
    expect(await find(ctx, 'ghost')).toBe('0024: find_atom() = OBJECT_NAME_NOT_FOUND { atom=0000 }');
    expect(await add(ctx, 'next')).toBe('0024: add_atom() = 0 { atom=c002 }');
  });

  it('exposes the table to the class and property translators with wineserver semantics', async () => {
    const session = attachedSession();
    const ctx = client(session);
    expect(await findGlobalAtom(session, Buffer.from('Button', 'utf16le'))).toBe(0);
    expect(await grabGlobalAtom(session, 0xc000)).toEqual({ ok: false, status: 0xc0000034 });
    expect(await grabGlobalAtom(session, 0x8000)).toEqual({ ok: true, status: 0 });
    expect(await addGlobalAtom(session, Buffer.from('Button', 'utf16le'))).toEqual({ status: 0, atom: 0xc000 });
    expect(await findGlobalAtom(session, Buffer.from('BUTTON', 'utf16le'))).toBe(0xc000);
    expect(await grabGlobalAtom(session, 0xc000)).toEqual({ ok: true, status: 0 });
    expect(await grabGlobalAtom(session, 0xc001)).toEqual({ ok: false, status: 0xc0000008 });
    expect(await info(ctx, 0xc000)).toBe('0024: get_atom_information() = 0 { count=2, pinned=0, total=12, name=L"Button" }');
    expect(await releaseGlobalAtom(session, 0xc000)).toBe(0);
    expect(await releaseGlobalAtom(session, 0xc000)).toBe(0);
    expect(await find(ctx, 'button')).toBe('0024: find_atom() = OBJECT_NAME_NOT_FOUND { atom=0000 }');
  });
});
