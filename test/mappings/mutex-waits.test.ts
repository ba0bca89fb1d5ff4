// Waits on several proxy mutexes (mappings/sync/waits.ts) on the in-process
// backend, without wineserver: wait for any (lowest index, abandonment),
// wait for all (all or nothing, the same mutex twice), pending waits ended
// by a release, by an ending owner thread, by the deadline and by the
// waiter's own end; tentative takes rolled back exactly; mixed waits and
// APC results need wineserver and are refused here. The live corpus runs
// (test/proxy/translate-mutexes.test.ts) cover the same against real Wine.

import { beforeEach, describe, expect, it } from 'vitest';
import { createInProcessBackend } from '../../backends/inprocess/index.ts';
import { WK_ATTACH_CREATE } from '../../backends/primitives.ts';
import { ProxyHandleTable } from '../../mappings/handles.ts';
import { STATUS_NOT_SUPPORTED } from '../../mappings/ntstatus.ts';
import { abandonThreadMutexes, readState, tryTakeMutex } from '../../mappings/sync/mutex-state.ts';
import { callerOf, createMutex, mutexOf, releaseMutexEntry, STATUS_ABANDONED_WAIT_0, STATUS_PENDING, STATUS_TIMEOUT, type WaitClock } from '../../mappings/sync/mutexes.ts';
import { cancelThreadWait, selectLive, type WaitAnswer } from '../../mappings/sync/waits.ts';
import type { TranslationContext } from '../../mappings/translator.ts';
import { loadProtocol } from '../../requests/protocol.ts';

const protocol = loadProtocol('wine-8.0');
const MAIN = 0x24;
const OTHER = 0x28;
const MONO_NOW = 5_000_000_000n;
const clock: WaitClock = { monotonic100ns: () => MONO_NOW, system100ns: () => 133_000_000_000_000_000n };
const relative = (ms: number) => -(MONO_NOW + BigInt(ms) * 10_000n);
const INFINITE = 0x7fffffffffffffffn;

let backend: ReturnType<typeof createInProcessBackend>;
let kernid: string;
let counter = 0;

beforeEach(() => {
  backend = createInProcessBackend();
  kernid = `mutex-waits-${process.pid}-${counter++}`;
});

function client(pid: number): TranslationContext {
  const session = backend.openSession({ pid });
  expect(session.attach(kernid, WK_ATTACH_CREATE)).toBeGreaterThanOrEqual(0);
  return { session, pid, tid: MAIN, handles: new ProxyHandleTable(), protocol };
}
const thread = (ctx: TranslationContext, tid: number): TranslationContext => ({ ...ctx, tid });

async function newMutex(ctx: TranslationContext, name = ''): Promise<number> {
  const code = protocol.codeOf('create_mutex');
  const body = { access: 0x1f0001, owned: 0, objattr: { rootdir: 0, attributes: 0x80, sd: null, name } };
  const reply = await createMutex.translate(protocol.decodeRequest(protocol.encodeRequest({ code, replySize: 0, body })) as never, ctx);
  return reply.body.handle;
}

async function release(ctx: TranslationContext, handle: number): Promise<number> {
  const code = protocol.codeOf('release_mutex');
  return (await releaseMutexEntry.translate(protocol.decodeRequest(protocol.encodeRequest({ code, replySize: 0, body: { handle } })) as never, ctx)).error;
}

function select(handles: number[], all: boolean, timeout: bigint, extra: Record<string, unknown> = {}) {
  const code = protocol.codeOf('select');
  const body = {
    flags: 2,
    cookie: 0x31f7bcn,
    timeout,
    size: 4 + 4 * handles.length,
    prev_apc: 0,
    result: { type: 0, raw: Buffer.alloc(40) },
    data: { op: all ? 2 : 1, handles },
    contexts: { contexts: [], fragment: Buffer.alloc(0) },
    ...extra,
  };
  return protocol.decodeRequest(protocol.encodeRequest({ code, replySize: 0, body: body as never }));
}

const wait = (ctx: TranslationContext, handles: number[], all: boolean, timeout: bigint) => selectLive(select(handles, all, timeout), ctx, clock);
const status = (answer: WaitAnswer) => (answer.kind === 'refuse' ? answer.status : answer.reply.error);

describe('waits on several proxy mutexes', () => {
  it('any: the lowest free index, the owner re-acquiring, abandonment added to the index', async () => {
    const ctx = client(0x20);
    const other = thread(ctx, OTHER);
    const m = [await newMutex(ctx), await newMutex(ctx), await newMutex(ctx)];
    expect(status(await wait(other, [m[0]], false, 0n))).toBe(0);
    expect(status(await wait(ctx, m, false, 0n))).toBe(1);
    // The owner of m0 gets m0 again (recursion), not the free m2.
    expect(status(await wait(other, m, false, 0n))).toBe(0);
    expect(abandonThreadMutexes(ctx.session, ctx.pid, OTHER)).toBe(1);
    // m0, abandoned, comes before m1 (ours, which we would re-acquire).
    expect(status(await wait(ctx, m, false, 0n))).toBe(STATUS_ABANDONED_WAIT_0);
  });

  it('all: all or nothing, rolled back exactly; the same mutex twice is taken twice', async () => {
    const ctx = client(0x20);
    const other = thread(ctx, OTHER);
    const m = [await newMutex(ctx), await newMutex(ctx), await newMutex(ctx)];
    expect(status(await wait(other, [m[1]], false, 0n))).toBe(0);
    expect(status(await wait(ctx, m, true, 0n))).toBe(STATUS_TIMEOUT);
    // Nothing stuck to the failed wait: m0 and m2 are free for the other thread.
    for (const h of [m[0], m[2]]) {
      const state = mutexOf(ctx, ctx.handles.get(h)!);
      expect(readState(ctx.session, state.state)).toMatchObject({ count: 0, ownerTid: 0, abandoned: false });
    }
    expect(await release(other, m[1])).toBe(0);
    expect(status(await wait(ctx, [m[0], m[0]], true, 0n))).toBe(0);
    expect(readState(ctx.session, mutexOf(ctx, ctx.handles.get(m[0])!).state).count).toBe(2);
  });

  it('a tentative take of an abandoned mutex, undone, leaves it abandoned', async () => {
    const ctx = client(0x20);
    const m = await newMutex(ctx);
    expect(status(await wait(thread(ctx, OTHER), [m], false, 0n))).toBe(0);
    abandonThreadMutexes(ctx.session, ctx.pid, OTHER);
    const mutex = mutexOf(ctx, ctx.handles.get(m)!);
    const taken = tryTakeMutex(callerOf(ctx), mutex.state, mutex.seq)!;
    expect(taken.abandoned).toBe(true);
    taken.undo();
    expect(readState(ctx.session, mutex.state)).toMatchObject({ count: 0, abandoned: true });
    expect(status(await wait(ctx, [m], false, 0n))).toBe(STATUS_ABANDONED_WAIT_0);
  });

  it('pending: ended by a release, by the owner thread ending, by the deadline, and cancelled with the waiter', async () => {
    const ctx = client(0x20);
    const other = thread(ctx, OTHER);
    const m = [await newMutex(ctx), await newMutex(ctx)];
    expect(status(await wait(other, m, true, 0n))).toBe(0);

    const released = await wait(ctx, m, false, INFINITE);
    expect(released.kind).toBe('pending');
    if (released.kind !== 'pending') return;
    expect(released.reply.error).toBe(STATUS_PENDING);
    expect(released.reply.body.signaled).toBe(0);
    expect(await release(other, m[1])).toBe(0);
    expect(await released.wakeup).toEqual({ cookie: 0x31f7bcn, signaled: 1 });
    expect(await release(ctx, m[1])).toBe(0);

    const abandoned = await wait(ctx, m, true, relative(60_000));
    if (abandoned.kind !== 'pending') throw new Error('not pending');
    abandonThreadMutexes(ctx.session, ctx.pid, OTHER);
    expect(await abandoned.wakeup).toEqual({ cookie: 0x31f7bcn, signaled: STATUS_ABANDONED_WAIT_0 });

    // The deadline: another thread holds both now.
    const third = thread(ctx, 0x30);
    expect(await release(ctx, m[0])).toBe(0);
    expect(await release(ctx, m[1])).toBe(0);
    expect(status(await wait(third, m, true, 0n))).toBe(0);
    const timed = await wait(ctx, m, false, relative(30));
    if (timed.kind !== 'pending') throw new Error('not pending');
    expect(await timed.wakeup).toEqual({ cookie: 0x31f7bcn, signaled: STATUS_TIMEOUT });

    const cancelled = await wait(ctx, m, false, INFINITE);
    if (cancelled.kind !== 'pending') throw new Error('not pending');
    cancelThreadWait(ctx.session, MAIN);
    expect(await cancelled.wakeup).toBeNull();
    // The cancelled waiter takes nothing when the mutexes come free.
    abandonThreadMutexes(ctx.session, ctx.pid, 0x30);
    await new Promise((r) => setImmediate(r));
    expect(readState(ctx.session, mutexOf(ctx, ctx.handles.get(m[0])!).state).count).toBe(0);
  });

  it('handle errors first; mixed waits and APC results need wineserver', async () => {
    const ctx = client(0x20);
    const m = await newMutex(ctx);
    expect(status(await wait(ctx, [m, m - 4], false, 0n))).toBe(0xc0000008); // INVALID_HANDLE
    ctx.handles.get(m)!.access = 0x1; // MUTANT_QUERY_STATE only
    expect(status(await wait(ctx, [m], false, 0n))).toBe(0xc0000022); // ACCESS_DENIED
    ctx.handles.get(m)!.access = 0x1f0001;
    expect(await wait(ctx, [0x18, m], false, 0n)).toMatchObject({ kind: 'refuse', status: STATUS_NOT_SUPPORTED });
    expect(await selectLive(select([m], false, 0n, { flags: 3 }), ctx, clock)).toMatchObject({ kind: 'refuse', status: STATUS_NOT_SUPPORTED });
    expect(status(await selectLive(select([m], false, 0n, { cookie: 0n }), ctx, clock))).toBe(0xc000000d); // INVALID_PARAMETER
  });
});
