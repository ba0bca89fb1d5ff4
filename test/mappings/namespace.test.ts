// The object directory and symbolic link translators on the in-process
// backend, driven as the proxy drives them: encode → decode → translate →
// encode → decode, compared with the +server trace lines wineserver printed
// for the same requests (taken from a real trace of the objdir corpus
// program; proxy handle values stand where wineserver's small handles were).

import { beforeEach, describe, expect, it } from 'vitest';
import { createInProcessBackend } from '../../backends/inprocess/index.ts';
import { WK_ATTACH_CREATE, type Session } from '../../backends/primitives.ts';
import { Catalog } from '../../mappings/catalog/index.ts';
import { dispatch, splitDomains } from '../../mappings/dispatch.ts';
import { ProxyHandleTable } from '../../mappings/handles.ts';
import { initialSteps } from '../../mappings/namespace/initial.ts';
import { closeNamespaceHandle } from '../../mappings/namespace/proxy-handles.ts';
import { nameBucket } from '../../mappings/namespace/records.ts';
import {
  createDirectory,
  createNamedObject,
  createSymlink,
  getDirectoryEntry,
  NAMESPACE_TRANSLATORS,
  openDirectory,
  openNamedObject,
  openSymlink,
  querySymlink,
} from '../../mappings/namespace/translators.ts';
import type { TranslatedEntry, TranslationContext } from '../../mappings/translator.ts';
import type { ObjectAttributesField } from '../../requests/kinds/object-attributes.ts';
import { loadProtocol } from '../../requests/protocol.ts';

const protocol = loadProtocol('wine-8.0');
const TID = 0x24;
const H1 = 0x3fff0000;

type Body = Record<string, unknown>;

let backend: ReturnType<typeof createInProcessBackend>;
let counter = 0;
let kernid: string;

function client(pid = 0x20): TranslationContext {
  const session: Session = backend.openSession({ pid });
  expect(session.attach(kernid, WK_ATTACH_CREATE)).toBeGreaterThanOrEqual(0);
  return { session, pid, tid: TID, handles: new ProxyHandleTable(), protocol };
}

async function call(ctx: TranslationContext, translator: TranslatedEntry, body: Body, replySize = 0x1000) {
  const code = protocol.codeOf(translator.request);
  const request = protocol.decodeRequest(protocol.encodeRequest({ code, replySize, body }));
  expect(request.name).toBe(translator.request);
  const reply = await translator.translate(request, ctx);
  const decoded = protocol.decodeReply(code, protocol.encodeReply({ code, error: reply.error, body: reply.body }));
  return { trace: protocol.formatReply(TID, decoded), body: decoded.body as Body };
}

const objattr = (name: string, attributes = 0, rootdir = 0, sd: unknown = null) => ({ rootdir, attributes, sd, name }) as ObjectAttributesField;
const hex = (h: number) => (h >>> 0).toString(16).padStart(4, '0');

async function mkdir(ctx: TranslationContext, name: string, attributes = 0, rootdir = 0) {
  return call(ctx, createDirectory, { access: 0x000f000f, objattr: objattr(name, attributes, rootdir) });
}
async function opendir(ctx: TranslationContext, name: string, rootdir = 0, access = 3, attributes = 0) {
  return call(ctx, openDirectory, { access, attributes, rootdir, directory_name: name });
}
async function mklink(ctx: TranslationContext, name: string, target: string, rootdir = 0, attributes = 0) {
  return call(ctx, createSymlink, { access: 0x000f0001, objattr: objattr(name, attributes, rootdir), target_name: target });
}
async function openlink(ctx: TranslationContext, name: string, rootdir = 0) {
  return call(ctx, openSymlink, { access: 1, attributes: 0, rootdir, name });
}
async function entries(ctx: TranslationContext, handle: number): Promise<string[]> {
  const lines: string[] = [];
  for (let index = 0; ; index++) {
    const { trace } = await call(ctx, getDirectoryEntry, { handle, index });
    lines.push(trace);
    if (!trace.includes('= 0 {')) return lines;
  }
}
/** Stands in for a forwarded create_event / create_mutex: the object's name in the namespace. */
async function named(ctx: TranslationContext, type: string, name: string, rootdir = 0, attributes = 0) {
  return createNamedObject(ctx, { type, access: 0x1f0003, objattr: objattr(name, attributes, rootdir) });
}

beforeEach(() => {
  backend = createInProcessBackend();
  kernid = `ns-${++counter}`;
});

describe('object namespace translators (Wine 8.0 directory.c / symlink.c)', () => {
  it('declares six translated requests in the object-namespace domain', () => {
    expect(NAMESPACE_TRANSLATORS.map((t) => t.request)).toEqual(['create_directory', 'open_directory', 'get_directory_entry', 'create_symlink', 'open_symlink', 'query_symlink']);
    for (const t of NAMESPACE_TRANSLATORS) expect(t.domains).toEqual(['object-namespace']);
  });

  it("starts with wineserver's tree: well-known directories and links answer as in the trace", async () => {
    const ctx = client();
    expect((await opendir(ctx, '\\BaseNamedObjects')).trace).toBe(`0024: open_directory() = 0 { handle=${hex(H1)} }`);
    expect(closeNamespaceHandle(ctx, H1)).toBe(0);
    expect((await opendir(ctx, '\\')).trace).toBe(`0024: open_directory() = 0 { handle=${hex(H1)} }`);
    closeNamespaceHandle(ctx, H1);
    const links: Array<[string, string]> = [
      ['\\DosDevices', '0024: query_symlink() = 0 { total=6, target_name=L"\\\\??" }'],
      ['\\BaseNamedObjects\\Global', '0024: query_symlink() = 0 { total=34, target_name=L"\\\\BaseNamedObjects" }'],
      ['\\Sessions\\BNOLINKS\\1', '0024: query_symlink() = 0 { total=56, target_name=L"\\\\Sessions\\\\1\\\\BaseNamedObjects" }'],
      ['\\??\\GLOBALROOT', '0024: query_symlink() = 0 { total=0, target_name=L"" }'],
    ];
    for (const [name, expected] of links) {
      const opened = await openlink(ctx, name);
      expect(opened.trace).toBe(`0024: open_symlink() = 0 { handle=${hex(H1)} }`);
      expect((await call(ctx, querySymlink, { handle: H1 })).trace).toBe(expected);
      closeNamespaceHandle(ctx, H1);
    }
    // What ntdll opens at startup.
    expect((await opendir(ctx, '\\Sessions\\1\\BaseNamedObjects', 0, 6)).trace).toBe(`0024: open_directory() = 0 { handle=${hex(H1)} }`);
    expect((await opendir(ctx, '\\Sessions\\1\\Windows\\WindowStations', 0, 6)).trace).toBe(`0024: open_directory() = 0 { handle=${hex(H1 - 4)} }`);
  });

  it('lists the startup tree entries in hash order (\\??, \\KernelObjects)', async () => {
    const ctx = client();
    const opened = await opendir(ctx, '\\KernelObjects');
    const names = (await entries(ctx, opened.body.handle as number)).slice(0, -1).map((l) => /name=L"([^"]*)", type=L"([^"]*)"/.exec(l)!.slice(1, 3).join(' '));
    // Seven events and sections, ordered by bucket, later first within one.
    const created = initialSteps()
      .flatMap((s) => ('other' in s && s.other.startsWith('\\KernelObjects\\') ? [[s.other.slice(15), s.type]] : []))
      .map(([n, t], seq) => ({ n, t, seq, b: nameBucket(n, 7) }))
      .sort((a, b) => a.b - b.b || b.seq - a.seq)
      .map((e) => `${e.n} ${e.t}`);
    expect(names).toEqual(created);
    expect(names).toHaveLength(8);
  });

  it('replays the objdir program: collisions, OBJ_OPENIF, types, listing order, links', async () => {
    const ctx = client();
    const dir = H1;
    expect((await mkdir(ctx, '\\BaseNamedObjects\\WineKernelCorpus')).trace).toBe(`0024: create_directory() = 0 { handle=${hex(dir)} }`);
    expect((await mkdir(ctx, '\\BaseNamedObjects\\WineKernelCorpus')).trace).toBe('0024: create_directory() = OBJECT_NAME_COLLISION { handle=0000 }');
    const again = await mkdir(ctx, '\\BaseNamedObjects\\WineKernelCorpus', 0x80);
    expect(again.trace).toBe(`0024: create_directory() = OBJECT_NAME_EXISTS { handle=${hex(dir - 4)} }`);
    closeNamespaceHandle(ctx, dir - 4);
    // EvA (relative), EvB (absolute), MutC: forwarded objects, named through the namespace.
    expect(await named(ctx, 'Event', 'EvA', dir)).toMatchObject({ status: 0 });
    expect(await named(ctx, 'Event', '\\BaseNamedObjects\\WineKernelCorpus\\EvB')).toMatchObject({ status: 0 });
    expect(await named(ctx, 'Mutant', 'MutC', dir)).toMatchObject({ status: 0 });
    const sub = (await mkdir(ctx, 'Sub', 0, dir)).body.handle as number;
    expect((await mklink(ctx, 'Link', '\\BaseNamedObjects\\WineKernelCorpus\\EvA', dir)).trace).toMatch(/= 0 \{ handle=3ff/);
    expect((await mklink(ctx, 'DirLink', '\\BaseNamedObjects\\WineKernelCorpus\\Sub', dir)).trace).toMatch(/= 0 \{ handle=3ff/);
    expect((await mkdir(ctx, 'EvA', 0, dir)).trace).toBe('0024: create_directory() = OBJECT_NAME_COLLISION { handle=0000 }');
    expect((await opendir(ctx, 'EvA', dir)).trace).toBe('0024: open_directory() = OBJECT_TYPE_MISMATCH { handle=0000 }');
    expect(await openNamedObject(ctx, { type: 'Event', access: 0x1f0003, attributes: 0, rootdir: dir, name: Buffer.from('Missing', 'utf16le') })).toEqual({ status: 0xc0000034, handle: 0 });
    expect(await openNamedObject(ctx, { type: 'Event', access: 0x1f0003, attributes: 0, rootdir: dir, name: Buffer.from('NoDir\\EvA', 'utf16le') })).toEqual({ status: 0xc000003a, handle: 0 });
    const eva = (name: string, attributes: number) => openNamedObject(ctx, { type: 'Event', access: 0x1f0003, attributes, rootdir: 0, name: Buffer.from(name, 'utf16le') });
    expect((await eva('\\BaseNamedObjects\\WineKernelCorpus\\eva', 0)).status).toBe(0xc0000034);
    const insensitive = await eva('\\basenamedobjects\\winekernelcorpus\\EVA', 0x40);
    expect(insensitive.status).toBe(0);
    closeNamespaceHandle(ctx, insensitive.handle);

    expect(await entries(ctx, dir)).toEqual([
      '0024: get_directory_entry() = 0 { total_len=38, name_len=14, name=L"DirLink", type=L"SymbolicLink" }',
      '0024: get_directory_entry() = 0 { total_len=24, name_len=6, name=L"Sub", type=L"Directory" }',
      '0024: get_directory_entry() = 0 { total_len=16, name_len=6, name=L"EvA", type=L"Event" }',
      '0024: get_directory_entry() = 0 { total_len=16, name_len=6, name=L"EvB", type=L"Event" }',
      '0024: get_directory_entry() = 0 { total_len=32, name_len=8, name=L"Link", type=L"SymbolicLink" }',
      '0024: get_directory_entry() = 0 { total_len=20, name_len=8, name=L"MutC", type=L"Mutant" }',
      '0024: get_directory_entry() = NO_MORE_ENTRIES { total_len=0, name_len=0, name=L"", type=L"" }',
    ]);

    const link = (await openlink(ctx, 'Link', dir)).body.handle as number;
    expect((await call(ctx, querySymlink, { handle: link }, 8)).trace).toBe('0024: query_symlink() = BUFFER_TOO_SMALL { total=76, target_name=L"" }');
    expect((await call(ctx, querySymlink, { handle: link }, 512)).trace).toBe(
      '0024: query_symlink() = 0 { total=76, target_name=L"\\\\BaseNamedObjects\\\\WineKernelCorpus\\\\EvA" }',
    );
    closeNamespaceHandle(ctx, link);
    // Creating over a link follows it: the event is there.
    expect((await mklink(ctx, 'Link', '\\Elsewhere', dir)).trace).toBe('0024: create_symlink() = OBJECT_NAME_COLLISION { handle=0000 }');
    const through = await openNamedObject(ctx, { type: 'Event', access: 0x1f0003, attributes: 0, rootdir: dir, name: Buffer.from('Link', 'utf16le') });
    expect(through.status).toBe(0);
    closeNamespaceHandle(ctx, through.handle);
    const inner = await named(ctx, 'Event', 'DirLink\\Inner', dir);
    expect(inner.status).toBe(0);
    expect(await entries(ctx, sub)).toEqual([
      '0024: get_directory_entry() = 0 { total_len=20, name_len=10, name=L"Inner", type=L"Event" }',
      '0024: get_directory_entry() = NO_MORE_ENTRIES { total_len=0, name_len=0, name=L"", type=L"" }',
    ]);
    const followed = await opendir(ctx, 'DirLink', dir);
    expect(followed.trace).toMatch(/^0024: open_directory\(\) = 0 \{ handle=3ff/);
    closeNamespaceHandle(ctx, followed.body.handle as number);

    // A second process sees the same names.
    const child = client(0x28);
    const childDir = (await opendir(child, '\\BaseNamedObjects\\WineKernelCorpus')).body.handle as number;
    expect((await openNamedObject(child, { type: 'Event', access: 0x1f0003, attributes: 0, rootdir: childDir, name: Buffer.from('DirLink\\Inner', 'utf16le') })).status).toBe(0);
    const bno = (await opendir(child, '\\Sessions\\1\\BaseNamedObjects', 0, 6)).body.handle as number;
    expect((await openNamedObject(child, { type: 'Event', access: 2, attributes: 0, rootdir: bno, name: Buffer.from('Global\\WineKernelCorpus\\EvB', 'utf16le') })).status).toBe(0);
    child.session.end();

    // Names disappear with their last handle; the directory goes with its own.
    for (const [value] of [...ctx.handles]) if (value !== dir) closeNamespaceHandle(ctx, value);
    expect(await entries(ctx, dir)).toEqual(['0024: get_directory_entry() = NO_MORE_ENTRIES { total_len=0, name_len=0, name=L"", type=L"" }']);
    closeNamespaceHandle(ctx, dir);
    expect((await opendir(ctx, '\\BaseNamedObjects\\WineKernelCorpus')).trace).toBe('0024: open_directory() = OBJECT_NAME_NOT_FOUND { handle=0000 }');
  });

  it('keeps a temporary directory while an object inside it is open, and follows \\??\\ and \\DosDevices\\ links', async () => {
    const ctx = client();
    const dir = (await mkdir(ctx, '\\BaseNamedObjects\\Kept')).body.handle as number;
    const ev = await named(ctx, 'Event', 'Inside', dir);
    closeNamespaceHandle(ctx, dir);
    const reopened = await opendir(ctx, '\\BaseNamedObjects\\Kept');
    expect(reopened.trace).toMatch(/= 0 \{/);
    closeNamespaceHandle(ctx, reopened.body.handle as number);
    closeNamespaceHandle(ctx, ev.handle);
    expect((await opendir(ctx, '\\BaseNamedObjects\\Kept')).trace).toBe('0024: open_directory() = OBJECT_NAME_NOT_FOUND { handle=0000 }');

    // mountmgr's drive letters: created through \DosDevices, found through \??.
    expect((await mklink(ctx, '\\DosDevices\\C:', '\\Device\\HarddiskVolume1', 0, 0xd0)).trace).toMatch(/= 0 \{/);
    const c = await openlink(ctx, '\\??\\C:');
    expect((await call(ctx, querySymlink, { handle: c.body.handle })).trace).toBe('0024: query_symlink() = 0 { total=46, target_name=L"\\\\Device\\\\HarddiskVolume1" }');
    // A path through a link whose target does not exist.
    expect((await opendir(ctx, '\\??\\C:\\windows')).trace).toBe('0024: open_directory() = OBJECT_PATH_NOT_FOUND { handle=0000 }');
    // GLOBALROOT leads back to the root.
    expect((await opendir(ctx, '\\??\\GLOBALROOT\\BaseNamedObjects')).trace).toMatch(/= 0 \{/);
  });

  it('checks names and paths as wineserver does', async () => {
    const ctx = client();
    expect((await opendir(ctx, 'BaseNamedObjects')).trace).toBe('0024: open_directory() = OBJECT_PATH_SYNTAX_BAD { handle=0000 }');
    expect((await opendir(ctx, '')).trace).toBe('0024: open_directory() = OBJECT_PATH_SYNTAX_BAD { handle=0000 }');
    expect((await opendir(ctx, '\\BaseNamedObjects\\')).trace).toBe('0024: open_directory() = OBJECT_NAME_INVALID { handle=0000 }');
    expect((await opendir(ctx, '\\Nope\\Deeper')).trace).toBe('0024: open_directory() = OBJECT_PATH_NOT_FOUND { handle=0000 }');
    expect((await opendir(ctx, '\\basenamedobjects', 0, 3, 0x40)).trace).toMatch(/= 0 \{/);
    const bno = (await opendir(ctx, '\\BaseNamedObjects')).body.handle as number;
    expect((await opendir(ctx, '\\Absolute', bno)).trace).toBe('0024: open_directory() = OBJECT_PATH_SYNTAX_BAD { handle=0000 }');
    expect((await opendir(ctx, 'x', 0x3ffe0000)).trace).toBe('0024: open_directory() = INVALID_HANDLE { handle=0000 }');
    // The current process as a root or as a directory: not a directory.
    expect((await opendir(ctx, 'x', 0xffffffff)).trace).toBe('0024: open_directory() = OBJECT_TYPE_MISMATCH { handle=0000 }');
    expect((await call(ctx, getDirectoryEntry, { handle: 0xffffffff, index: 0 })).trace).toBe('0024: get_directory_entry() = OBJECT_TYPE_MISMATCH { total_len=0, name_len=0, name=L"", type=L"" }');
    expect((await mklink(ctx, '\\BaseNamedObjects\\Empty', '')).trace).toBe('0024: create_symlink() = INVALID_PARAMETER { handle=0000 }');
    expect((await call(ctx, getDirectoryEntry, { handle: 0x3ffe0000, index: 0 })).trace).toBe('0024: get_directory_entry() = INVALID_HANDLE { total_len=0, name_len=0, name=L"", type=L"" }');
    // An entry that does not fit the reply: its size, and BUFFER_TOO_SMALL.
    expect((await call(ctx, getDirectoryEntry, { handle: bno, index: 0 }, 4)).trace).toMatch(/^0024: get_directory_entry\(\) = BUFFER_TOO_SMALL \{ total_len=\d+, name_len=0, name=L"", type=L"" \}$/);
    // A directory handle opened without DIRECTORY_QUERY cannot list.
    const traverseOnly = (await opendir(ctx, '\\BaseNamedObjects', 0, 2)).body.handle as number;
    expect((await call(ctx, getDirectoryEntry, { handle: traverseOnly, index: 0 })).trace).toBe('0024: get_directory_entry() = ACCESS_DENIED { total_len=0, name_len=0, name=L"", type=L"" }');
    expect((await call(ctx, querySymlink, { handle: bno })).trace).toBe('0024: query_symlink() = OBJECT_TYPE_MISMATCH { total=0, target_name=L"" }');
    // Links nested deeper than 32 fail with INVALID_PARAMETER.
    for (let i = 0; i < 40; i++) await mklink(ctx, `\\BaseNamedObjects\\L${i}`, i ? `\\BaseNamedObjects\\L${i - 1}` : '\\BaseNamedObjects', 0, 0x10);
    expect((await opendir(ctx, '\\BaseNamedObjects\\L39')).trace).toBe('0024: open_directory() = INVALID_PARAMETER { handle=0000 }');
    expect((await opendir(ctx, '\\BaseNamedObjects\\L20')).trace).toMatch(/= 0 \{/);
  });

  it('keeps case variants apart and finds the newest case-insensitively; objects without a name', async () => {
    const ctx = client();
    const dir = (await mkdir(ctx, '\\BaseNamedObjects\\Case')).body.handle as number;
    await mkdir(ctx, 'Foo', 0, dir);
    expect((await mkdir(ctx, 'FOO', 0, dir)).trace).toMatch(/= 0 \{/);
    expect((await mkdir(ctx, 'foo', 0x40, dir)).trace).toBe('0024: create_directory() = OBJECT_NAME_COLLISION { handle=0000 }');
    const listed = await entries(ctx, dir);
    expect(listed).toHaveLength(3);
    expect(listed[0]).toContain('name=L"FOO"');
    expect(listed[1]).toContain('name=L"Foo"');
    const anonymous = await mkdir(ctx, '');
    expect(anonymous.trace).toMatch(/= 0 \{ handle=3ff/);
    expect((await mkdir(ctx, 'Child', 0, anonymous.body.handle as number)).trace).toMatch(/= 0 \{/);
  });

  it('is routed as a split domain: forwarded live unless a proxy handle is named, translated in replay', async () => {
    const catalog = new Catalog(protocol.requests.map((r) => r.name));
    expect(splitDomains(catalog).has('object-namespace')).toBe(true);
    const ctx = client();
    const req = (name: string, body: Body) => protocol.decodeRequest(protocol.encodeRequest({ code: protocol.codeOf(name), replySize: 0x1000, body }));
    const create = req('create_directory', { access: 0xf000f, objattr: objattr('\\BaseNamedObjects\\Routed') });
    expect(await dispatch(catalog, create, ctx, { mode: 'live' })).toEqual({ action: 'forward', why: 'split-domain' });
    expect(await dispatch(catalog, create, ctx, { mode: 'replay' })).toEqual({ action: 'reply', reply: { error: 0, body: { handle: H1 } } });
    // A proxy-minted directory handle can only be answered by the translators, live too.
    const listed = await dispatch(catalog, req('get_directory_entry', { handle: H1, index: 0 }), ctx, { mode: 'live' });
    expect(listed).toEqual({ action: 'reply', reply: { error: 0x8000001a, body: { total_len: 0, name_len: 0, name: '', type: '' } } });
    // A wineserver directory handle is forwarded.
    expect(await dispatch(catalog, req('get_directory_entry', { handle: 0x30, index: 0 }), ctx, { mode: 'live' })).toEqual({ action: 'forward', why: 'server-handles' });
    expect(await dispatch(catalog, req('get_security_object', { handle: 0x30, security_info: 4 }), ctx, { mode: 'live' })).toEqual({ action: 'forward', why: 'server-handles' });
    const sd = await dispatch(catalog, req('get_security_object', { handle: H1, security_info: 4 }), ctx, { mode: 'live' });
    expect(sd).toEqual({ action: 'reply', reply: { error: 0, body: { sd_len: 0, sd: null } } });
  });

  it('refuses malformed object attributes with wineserver\'s statuses and keeps odd names (NUL, very long) exact', async () => {
    const ctx = client();
    const raw = (bytes: number[]) => ({ malformed: true, bytes: Buffer.from(bytes) });
    expect((await call(ctx, createDirectory, { access: 0xf000f, objattr: raw([1, 2, 3]) })).trace).toBe('0024: create_directory() = ACCESS_VIOLATION { handle=0000 }');
    const oddName = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0x5c, 0, 0x41, 0];
    expect((await call(ctx, createDirectory, { access: 0xf000f, objattr: raw(oddName) })).trace).toBe('0024: create_directory() = OBJECT_NAME_INVALID { handle=0000 }');
    const dir = (await mkdir(ctx, '\\BaseNamedObjects\\Odd')).body.handle as number;
    const withNul = 'a\u0000b';
    expect((await mkdir(ctx, withNul, 0, dir)).trace).toMatch(/= 0 \{/);
    const long = 'L'.repeat(1200);
    expect((await mkdir(ctx, long, 0, dir)).trace).toMatch(/= 0 \{/);
    expect((await mkdir(ctx, long, 0, dir)).trace).toBe('0024: create_directory() = OBJECT_NAME_COLLISION { handle=0000 }');
    expect((await opendir(ctx, long.toLowerCase(), dir, 3, 0x40)).trace).toMatch(/= 0 \{/);
    expect((await opendir(ctx, long.toLowerCase(), dir)).trace).toBe('0024: open_directory() = OBJECT_NAME_NOT_FOUND { handle=0000 }');
    const { body } = await call(ctx, getDirectoryEntry, { handle: dir, index: 0 }, 0x10000);
    const { body: second } = await call(ctx, getDirectoryEntry, { handle: dir, index: 1 }, 0x10000);
    expect([body.name, second.name].sort()).toEqual([long, withNul].sort());
  });
});
