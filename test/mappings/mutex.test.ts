// The mutex translators on the in-process backend, driven as the proxy
// drives them (encode → decode → translate → encode → decode) and compared
// with the +server trace lines wineserver prints for the same requests
// (shapes taken from a real trace of the mutexes corpus program: proxy
// handle values stand where wineserver's small handles were). Covers
// create_mutex(), open_mutex(), release_mutex(), query_mutex() and
// select() on one mutex, including pending waits and their wake-ups.

import { beforeEach, describe, expect, it } from 'vitest';
import { createInProcessBackend } from '../../backends/inprocess/index.ts';
import { WK_ATTACH_CREATE, type Session } from '../../backends/primitives.ts';
import { ProxyHandleTable } from '../../mappings/handles.ts';
import { createDirectory, getDirectoryEntry, openDirectory } from '../../mappings/namespace/translators.ts';
import { abandonThreadMutexes } from '../../mappings/sync/mutex-state.ts';
import {
  closeMutexHandle,
  createMutex,
  encodeWakeUp,
  isMutexSelect,
  monotonicRawOffset100ns,
  openMutex,
  queryMutexEntry,
  releaseMutexEntry,
  selectOnMutex,
  timeoutNsFor,
  TIMEOUT_INFINITE,
  type SelectOutcome,
  type WaitClock,
} from '../../mappings/sync/mutexes.ts';
import type { TranslatedEntry, TranslationContext } from '../../mappings/translator.ts';
import type { ObjectAttributesField } from '../../requests/kinds/object-attributes.ts';
import { loadProtocol } from '../../requests/protocol.ts';

const protocol = loadProtocol('wine-8.0');
const MAIN = 0x24;
const H1 = 0x3fff0000;
const MONO_NOW = 5_000_000_000n;
const clock: WaitClock = { monotonic100ns: () => MONO_NOW, system100ns: () => 133_000_000_000_000_000n };
/** A relative wait of `ms` as the client encodes it: minus the monotonic deadline. */
const relative = (ms: number) => -(MONO_NOW + BigInt(ms) * 10_000n);

type Body = Record<string, unknown>;
let backend: ReturnType<typeof createInProcessBackend>;
let kernid: string;
let counter = 0;

function client(pid: number, tid = MAIN): TranslationContext {
  const session: Session = backend.openSession({ pid });
  expect(session.attach(kernid, WK_ATTACH_CREATE)).toBeGreaterThanOrEqual(0);
  return { session, pid, tid, handles: new ProxyHandleTable(), protocol };
}

/** The same process seen from another of its threads. */
const thread = (ctx: TranslationContext, tid: number): TranslationContext => ({ ...ctx, tid });

async function call(ctx: TranslationContext, translator: TranslatedEntry, body: Body) {
  const code = protocol.codeOf(translator.request);
  const request = protocol.decodeRequest(protocol.encodeRequest({ code, replySize: 0x1000, body }));
  const reply = await translator.translate(request, ctx);
  const decoded = protocol.decodeReply(code, protocol.encodeReply({ code, error: reply.error, body: reply.body }));
  return { trace: protocol.formatReply(ctx.tid, decoded), body: decoded.body as Body };
}

const objattr = (name: string, attributes = 0x80, rootdir = 0) => ({ rootdir, attributes, sd: null, name }) as ObjectAttributesField;
const hex = (h: number) => (h >>> 0).toString(16).padStart(4, '0');

function selectRequest(handles: number[], timeout: bigint, cookie = 0x31f7bcn) {
  const code = protocol.codeOf('select');
  const size = 4 + 4 * handles.length;
  const body = {
    flags: 2,
    cookie,
    timeout,
    size,
    prev_apc: 0,
    result: { type: 0, raw: Buffer.alloc(40) },
    data: { op: 1, handles },
    contexts: { contexts: [], fragment: Buffer.alloc(0) },
  };
  return protocol.decodeRequest(protocol.encodeRequest({ code, replySize: 0, body: body as never }));
}

const replyLine = (ctx: TranslationContext, outcome: SelectOutcome) => {
  if (outcome.kind === 'not-mine') throw new Error(outcome.detail);
  const code = protocol.codeOf('select');
  return protocol.formatReply(ctx.tid, protocol.decodeReply(code, protocol.encodeReply({ code, error: outcome.reply.error, body: outcome.reply.body as never })));
};

async function wait(ctx: TranslationContext, handle: number, timeout: bigint) {
  const outcome = await selectOnMutex(selectRequest([handle], timeout), ctx, clock);
  return { outcome, trace: replyLine(ctx, outcome) };
}

const ACQUIRED = (tid: number) => `${hex(tid)}: select() = 0 { call={APC_NONE}, apc_handle=0000, signaled=1, contexts={} }`;
const TIMED_OUT = (tid: number) => `${hex(tid)}: select() = TIMEOUT { call={APC_NONE}, apc_handle=0000, signaled=1, contexts={} }`;
const PENDING = (tid: number) => `${hex(tid)}: select() = PENDING { call={APC_NONE}, apc_handle=0000, signaled=0, contexts={} }`;
const ABANDONED = (tid: number) => `${hex(tid)}: select() = ABANDONED_WAIT_0 { call={APC_NONE}, apc_handle=0000, signaled=1, contexts={} }`;

beforeEach(() => {
  backend = createInProcessBackend();
  kernid = `mutex-test-${process.pid}-${counter++}`;
});

describe('mutex translators', () => {
  it('create_mutex() owned, recursive select() and release_mutex() counts, then MUTANT_NOT_OWNED', async () => {
    const ctx = client(0x20);
    const created = await call(ctx, createMutex, { access: 0x001f0001, owned: 1, objattr: objattr('\\BaseNamedObjects\\WineKernel.Mutex.Shared') });
    expect(created.trace).toBe(`0024: create_mutex() = 0 { handle=${hex(H1)} }`);
    expect((await wait(ctx, H1, 0n)).trace).toBe(ACQUIRED(MAIN));
    expect((await wait(ctx, H1, 0n)).trace).toBe(ACQUIRED(MAIN));
    expect((await call(ctx, queryMutexEntry, { handle: H1 })).trace).toBe('0024: query_mutex() = 0 { count=00000003, owned=1, abandoned=0 }');
    expect((await call(ctx, releaseMutexEntry, { handle: H1 })).trace).toBe('0024: release_mutex() = 0 { prev_count=00000003 }');
    expect((await call(ctx, releaseMutexEntry, { handle: H1 })).trace).toBe('0024: release_mutex() = 0 { prev_count=00000002 }');
    expect((await call(ctx, releaseMutexEntry, { handle: H1 })).trace).toBe('0024: release_mutex() = 0 { prev_count=00000001 }');
    expect((await call(ctx, releaseMutexEntry, { handle: H1 })).trace).toBe('0024: release_mutex() = MUTANT_NOT_OWNED { prev_count=00000000 }');
    expect((await call(ctx, queryMutexEntry, { handle: H1 })).trace).toBe('0024: query_mutex() = 0 { count=00000000, owned=0, abandoned=0 }');
  });

  it('refuses release by another thread, which also sees the mutex as not its own', async () => {
    const ctx = client(0x20);
    await call(ctx, createMutex, { access: 0x001f0001, owned: 0, objattr: objattr('\\BaseNamedObjects\\m') });
    expect((await wait(ctx, H1, 0n)).trace).toBe(ACQUIRED(MAIN));
    const other = thread(ctx, 0x100);
    expect((await call(other, releaseMutexEntry, { handle: H1 })).trace).toBe('0100: release_mutex() = MUTANT_NOT_OWNED { prev_count=00000000 }');
    expect((await call(other, queryMutexEntry, { handle: H1 })).trace).toBe('0100: query_mutex() = 0 { count=00000001, owned=0, abandoned=0 }');
    // The other thread cannot take it either (same process, different thread).
    expect((await wait(other, H1, 0n)).trace).toBe(TIMED_OUT(0x100));
    expect((await call(ctx, releaseMutexEntry, { handle: H1 })).trace).toBe('0024: release_mutex() = 0 { prev_count=00000001 }');
    expect((await wait(other, H1, 0n)).trace).toBe(ACQUIRED(0x100));
  });

  it('create on an existing name: OBJECT_NAME_EXISTS and no ownership; open_mutex() by name, missing, wrong type', async () => {
    const ctx = client(0x20);
    await call(ctx, createMutex, { access: 0x001f0001, owned: 1, objattr: objattr('\\BaseNamedObjects\\m') });
    const again = await call(ctx, createMutex, { access: 0x001f0001, owned: 1, objattr: objattr('\\BaseNamedObjects\\m') });
    expect(again.trace).toBe(`0024: create_mutex() = OBJECT_NAME_EXISTS { handle=${hex(H1 - 4)} }`);
    // Still count 1 (from the first create): the second create's owned flag is ignored.
    expect((await call(ctx, queryMutexEntry, { handle: H1 - 4 })).trace).toBe('0024: query_mutex() = 0 { count=00000001, owned=1, abandoned=0 }');
    // Without OBJ_OPENIF an existing name is a collision.
    expect((await call(ctx, createMutex, { access: 0x001f0001, owned: 0, objattr: objattr('\\BaseNamedObjects\\m', 0) })).trace).toBe(
      '0024: create_mutex() = OBJECT_NAME_COLLISION { handle=0000 }',
    );
    const name = (s: string) => s;
    expect((await call(ctx, openMutex, { access: 0x00100000, attributes: 0, rootdir: 0, name: name('\\BaseNamedObjects\\Missing') })).trace).toBe(
      '0024: open_mutex() = OBJECT_NAME_NOT_FOUND { handle=0000 }',
    );
    expect((await call(ctx, openMutex, { access: 0x00100000, attributes: 0, rootdir: 0, name: name('\\BaseNamedObjects') })).trace).toBe(
      '0024: open_mutex() = OBJECT_TYPE_MISMATCH { handle=0000 }',
    );
    const opened = await call(ctx, openMutex, { access: 0x00100001, attributes: 0, rootdir: 0, name: name('\\BaseNamedObjects\\m') });
    expect(opened.trace).toBe(`0024: open_mutex() = 0 { handle=${hex(H1 - 8)} }`);
    expect((await call(ctx, releaseMutexEntry, { handle: H1 - 8 })).trace).toBe('0024: release_mutex() = 0 { prev_count=00000001 }');
    // A different type under the same name: create with OBJ_OPENIF is a type mismatch.
    await call(ctx, createDirectory, { access: 0x000f000f, objattr: objattr('\\BaseNamedObjects\\d', 0) });
    expect((await call(ctx, createMutex, { access: 0x001f0001, owned: 0, objattr: objattr('\\BaseNamedObjects\\d') })).trace).toBe(
      '0024: create_mutex() = OBJECT_TYPE_MISMATCH { handle=0000 }',
    );
  });

  it('lives in the object namespace: listed as a Mutant in its directory, gone with its last handle', async () => {
    const ctx = client(0x20);
    const dir = await call(ctx, createDirectory, { access: 0x000f000f, objattr: objattr('\\BaseNamedObjects\\wk', 0) });
    const dirHandle = dir.body.handle as number;
    const m = await call(ctx, createMutex, { access: 0x001f0001, owned: 0, objattr: objattr('foo', 0x80, dirHandle) });
    expect((await call(ctx, getDirectoryEntry, { handle: dirHandle, index: 0 })).trace).toBe(
      '0024: get_directory_entry() = 0 { total_len=18, name_len=6, name=L"foo", type=L"Mutant" }',
    );
    expect(closeMutexHandle(ctx, m.body.handle as number)).toBe(0);
    expect((await call(ctx, getDirectoryEntry, { handle: dirHandle, index: 0 })).trace).toBe(
      '0024: get_directory_entry() = NO_MORE_ENTRIES { total_len=0, name_len=0, name=L"", type=L"" }',
    );
    const bno = await call(ctx, openDirectory, { access: 0x6, attributes: 0, rootdir: 0, directory_name: '\\BaseNamedObjects' });
    expect((await call(ctx, openMutex, { access: 0x00100000, attributes: 0, rootdir: bno.body.handle, name: 'wk\\foo' })).trace).toBe(
      '0024: open_mutex() = OBJECT_NAME_NOT_FOUND { handle=0000 }',
    );
  });

  it('checks access: query needs MUTANT_QUERY_STATE, select needs SYNCHRONIZE, release needs nothing', async () => {
    const ctx = client(0x20);
    await call(ctx, createMutex, { access: 0x001f0001, owned: 0, objattr: objattr('\\BaseNamedObjects\\m') });
    const syncOnly = (await call(ctx, openMutex, { access: 0x00100000, attributes: 0, rootdir: 0, name: '\\BaseNamedObjects\\m' })).body.handle as number;
    const queryOnly = (await call(ctx, openMutex, { access: 0x00000001, attributes: 0, rootdir: 0, name: '\\BaseNamedObjects\\m' })).body.handle as number;
    expect((await call(ctx, queryMutexEntry, { handle: syncOnly })).trace).toBe('0024: query_mutex() = ACCESS_DENIED { count=00000000, owned=0, abandoned=0 }');
    expect((await wait(ctx, queryOnly, 0n)).trace).toBe('0024: select() = ACCESS_DENIED { call={APC_NONE}, apc_handle=0000, signaled=1, contexts={} }');
    expect((await wait(ctx, syncOnly, 0n)).trace).toBe(ACQUIRED(MAIN));
    expect((await call(ctx, releaseMutexEntry, { handle: queryOnly })).trace).toBe('0024: release_mutex() = 0 { prev_count=00000001 }');
    // Handles that are not open, and the current-process pseudo-handle.
    expect((await call(ctx, releaseMutexEntry, { handle: 0x3c000000 })).trace).toBe('0024: release_mutex() = INVALID_HANDLE { prev_count=00000000 }');
    expect((await call(ctx, releaseMutexEntry, { handle: 0xffffffff })).trace).toBe('0024: release_mutex() = OBJECT_TYPE_MISMATCH { prev_count=00000000 }');
    expect((await wait(ctx, 0x3c000000, 0n)).trace).toBe('0024: select() = INVALID_HANDLE { call={APC_NONE}, apc_handle=0000, signaled=1, contexts={} }');
    // A proxy directory handle is not something selectOnMutex answers.
    const dir = (await call(ctx, createDirectory, { access: 0x000f000f, objattr: objattr('\\BaseNamedObjects\\d', 0) })).body.handle as number;
    const onDir = await selectOnMutex(selectRequest([dir], 0n), ctx, clock);
    expect(onDir.kind).toBe('not-mine');
  });

  it('contention across processes: timeout 0, a timed wait that expires, a wait ended by the release', async () => {
    const a = client(0x20);
    const b = client(0x30, 0x108);
    await call(a, createMutex, { access: 0x001f0001, owned: 1, objattr: objattr('\\BaseNamedObjects\\shared') });
    const hb = (await call(b, openMutex, { access: 0x00100001, attributes: 0, rootdir: 0, name: '\\BaseNamedObjects\\shared' })).body.handle as number;
    expect((await wait(b, hb, 0n)).trace).toBe(TIMED_OUT(0x108));
    const started = Date.now();
    const timed = await wait(b, hb, relative(50));
    expect(timed.trace).toBe(PENDING(0x108));
    if (timed.outcome.kind !== 'pending') throw new Error('expected a pending wait');
    expect(await timed.outcome.wakeup).toEqual({ cookie: 0x31f7bcn, signaled: 0x102 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    const forever = await wait(b, hb, TIMEOUT_INFINITE, );
    expect(forever.trace).toBe(PENDING(0x108));
    if (forever.outcome.kind !== 'pending') throw new Error('expected a pending wait');
    expect((await call(a, releaseMutexEntry, { handle: H1 })).trace).toBe('0024: release_mutex() = 0 { prev_count=00000001 }');
    const woken = await forever.outcome.wakeup;
    expect(woken).toEqual({ cookie: 0x31f7bcn, signaled: 0 });
    expect(encodeWakeUp(woken!).toString('hex')).toBe('bcf7310000000000' + '00000000' + '00000000');
    expect((await call(b, queryMutexEntry, { handle: hb })).trace).toBe('0108: query_mutex() = 0 { count=00000001, owned=1, abandoned=0 }');
    expect((await call(a, queryMutexEntry, { handle: H1 })).trace).toBe('0024: query_mutex() = 0 { count=00000001, owned=0, abandoned=0 }');
    expect((await wait(a, H1, 0n)).trace).toBe(TIMED_OUT(MAIN));
  });

  it('a process that ends holding the mutex abandons it: query shows it, the next acquirer gets ABANDONED_WAIT_0 once', async () => {
    const a = client(0x20);
    const b = client(0x30, 0x110);
    await call(a, createMutex, { access: 0x001f0001, owned: 0, objattr: objattr('\\BaseNamedObjects\\shared') });
    const hb = (await call(b, openMutex, { access: 0x00100000, attributes: 0, rootdir: 0, name: '\\BaseNamedObjects\\shared' })).body.handle as number;
    expect((await wait(b, hb, 0n)).trace).toBe(ACQUIRED(0x110));
    b.session.end();
    expect((await call(a, queryMutexEntry, { handle: H1 })).trace).toBe('0024: query_mutex() = 0 { count=00000000, owned=0, abandoned=1 }');
    expect((await wait(a, H1, relative(10_000))).trace).toBe(ABANDONED(MAIN));
    expect((await call(a, queryMutexEntry, { handle: H1 })).trace).toBe('0024: query_mutex() = 0 { count=00000001, owned=1, abandoned=0 }');
    expect((await call(a, releaseMutexEntry, { handle: H1 })).trace).toBe('0024: release_mutex() = 0 { prev_count=00000001 }');
    expect((await wait(a, H1, 0n)).trace).toBe(ACQUIRED(MAIN));
  });

  it('a process that ends while another waits wakes the waiter with ABANDONED_WAIT_0', async () => {
    const a = client(0x20);
    const b = client(0x30, 0x110);
    await call(a, createMutex, { access: 0x001f0001, owned: 0, objattr: objattr('\\BaseNamedObjects\\shared') });
    const hb = (await call(b, openMutex, { access: 0x00100000, attributes: 0, rootdir: 0, name: '\\BaseNamedObjects\\shared' })).body.handle as number;
    expect((await wait(b, hb, 0n)).trace).toBe(ACQUIRED(0x110));
    const pending = await wait(a, H1, TIMEOUT_INFINITE);
    expect(pending.trace).toBe(PENDING(MAIN));
    b.session.end();
    if (pending.outcome.kind !== 'pending') throw new Error('expected a pending wait');
    expect(await pending.outcome.wakeup).toEqual({ cookie: 0x31f7bcn, signaled: 0x80 });
  });

  it('a thread that ends holding the mutex abandons it to a waiting thread of the same process', async () => {
    const ctx = client(0x20);
    await call(ctx, createMutex, { access: 0x001f0001, owned: 0, objattr: objattr('\\BaseNamedObjects\\m') });
    const worker = thread(ctx, 0x10c);
    expect((await wait(worker, H1, relative(10_000))).trace).toBe(ACQUIRED(0x10c));
    expect((await wait(worker, H1, 0n)).trace).toBe(ACQUIRED(0x10c));
    const pending = await wait(ctx, H1, TIMEOUT_INFINITE);
    expect(pending.trace).toBe(PENDING(MAIN));
    expect(abandonThreadMutexes(ctx.session, ctx.pid, 0x10c)).toBe(1);
    if (pending.outcome.kind !== 'pending') throw new Error('expected a pending wait');
    expect(await pending.outcome.wakeup).toEqual({ cookie: 0x31f7bcn, signaled: 0x80 });
    expect((await call(ctx, queryMutexEntry, { handle: H1 })).trace).toBe('0024: query_mutex() = 0 { count=00000001, owned=1, abandoned=0 }');
  });

  it('a cancelled wait resolves to null (nothing to write on the wait pipe) and leaves the mutex alone', async () => {
    const a = client(0x20);
    const b = client(0x30, 0x110);
    await call(a, createMutex, { access: 0x001f0001, owned: 1, objattr: objattr('\\BaseNamedObjects\\m') });
    const hb = (await call(b, openMutex, { access: 0x00100000, attributes: 0, rootdir: 0, name: '\\BaseNamedObjects\\m' })).body.handle as number;
    const pending = await wait(b, hb, TIMEOUT_INFINITE);
    if (pending.outcome.kind !== 'pending') throw new Error('expected a pending wait');
    pending.outcome.cancel();
    expect(await pending.outcome.wakeup).toBeNull();
    expect((await call(a, releaseMutexEntry, { handle: H1 })).trace).toBe('0024: release_mutex() = 0 { prev_count=00000001 }');
    expect((await wait(b, hb, 0n)).trace).toBe(ACQUIRED(0x110));
  });

  it('answers only selects on one proxy handle, and reads Wine timeouts as wineserver does', async () => {
    expect(isMutexSelect(selectRequest([H1], 0n))).toBe(true);
    expect(isMutexSelect(selectRequest([0x34], 0n))).toBe(false);
    expect(isMutexSelect(selectRequest([H1, H1 - 4], 0n))).toBe(false);
    const ctx = client(0x20);
    // cookie 0 is an invalid parameter (no wait at all).
    await call(ctx, createMutex, { access: 0x001f0001, owned: 0, objattr: objattr('') });
    expect(replyLine(ctx, await selectOnMutex(selectRequest([H1], 0n, 0n), ctx, clock))).toBe(
      '0024: select() = INVALID_PARAMETER { call={APC_NONE}, apc_handle=0000, signaled=0, contexts={} }',
    );
    expect(timeoutNsFor(TIMEOUT_INFINITE, clock)).toBe(-1);
    expect(timeoutNsFor(0n, clock)).toBe(0);
    expect(timeoutNsFor(relative(50), clock)).toBe(50_000_000);
    expect(timeoutNsFor(-(MONO_NOW - 1n), clock)).toBe(0);
    expect(timeoutNsFor(clock.system100ns() + 20_000n, clock)).toBe(2_000_000);
    // Wine's relative deadlines count on CLOCK_MONOTONIC_RAW: the measured offset to Node's clock is small and stable.
    const offset = monotonicRawOffset100ns();
    expect(offset > -36_000_000_000n && offset < 36_000_000_000n).toBe(true);
    expect(monotonicRawOffset100ns()).toBe(offset);
  });
});
