// Proxy handles across processes under bad input (docs/translation.md,
// "Proxy handles across processes"), with raw clients on a serving proxy:
// dup_handle of a proxy mutex naming bogus, wrong-type or dead processes
// gets wineserver's statuses (never a crash, never a copy in the wrong
// table), DUPLICATE_CLOSE_SOURCE closes the source whatever happened, the
// generic requests on values the process does not hold are INVALID_HANDLE,
// and the proxy's descriptors come back to their baseline.

import { describe, expect, it } from 'vitest';
import { handleOwner } from '../../mappings/handles.ts';
import { loadProtocol } from '../../requests/protocol.ts';
import { RawClient, rawCall } from './raw-client.ts';
import { fdsBackToBaseline, useServedPrefix } from './harness.ts';

const protocol = loadProtocol('wine-8.0');
const MUTEX_ALL_ACCESS = 0x001f0001;
const EVENT_ALL_ACCESS = 0x001f0003;
const PROCESS_DUP_HANDLE = 0x0040;
const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
const CURRENT_PROCESS = 0xffffffff;
const DUPLICATE_CLOSE_SOURCE = 1;
const DUPLICATE_SAME_ACCESS = 2;

function call(client: RawClient, name: string, body: Record<string, unknown>, replySize = 0) {
  const reply = rawCall(client, protocol, name, body, replySize);
  return { status: reply.error === 0 ? 'SUCCESS' : protocol.statusName(reply.error), body: reply.body as Record<string, number> };
}

function client(): { raw: RawClient; pid: number } {
  const raw = new RawClient(proxy.serve().socketPath);
  const init = raw.initFirstThread();
  expect(init.error).toBe(0);
  return { raw, pid: init.pid };
}

const unnamed = { rootdir: 0, attributes: 0, sd: null, name: '' };
const createMutex = (raw: RawClient) => call(raw, 'create_mutex', { access: MUTEX_ALL_ACCESS, owned: 0, objattr: unnamed });
const dup = (raw: RawClient, body: Partial<Record<'src_process' | 'src_handle' | 'dst_process' | 'access' | 'attributes' | 'options', number>>) =>
  call(raw, 'dup_handle', { src_process: CURRENT_PROCESS, src_handle: 0, dst_process: CURRENT_PROCESS, access: 0, attributes: 0, options: DUPLICATE_SAME_ACCESS, ...body });

const proxy = useServedPrefix('handle-sharing-faults', ['--translate', '--log-level', 'error'], () => {
  const warm = client();
  const made = createMutex(warm.raw);
  const self = call(warm.raw, 'open_process', { pid: warm.pid, access: PROCESS_DUP_HANDLE | PROCESS_QUERY_LIMITED_INFORMATION, attributes: 0 });
  dup(warm.raw, { src_handle: made.body.handle, dst_process: self.body.handle });
  warm.raw.close();
});

describe('proxy handles across processes under faults', () => {
  it('dup_handle naming bad processes gets wineserver\'s statuses; a copy reaches only its target; CLOSE_SOURCE closes whatever happened', async () => {
    const a = client();
    const b = client();
    const mutex = createMutex(a.raw);
    expect(mutex.status).toBe('SUCCESS');
    expect(handleOwner(mutex.body.handle)).toBe('proxy');

    // A value that is no handle, a handle that is not a process, a bad source process.
    expect(dup(a.raw, { src_handle: mutex.body.handle, dst_process: 0x1230 })).toMatchObject({ status: 'INVALID_HANDLE', body: { handle: 0 } });
    const event = call(a.raw, 'create_event', { access: EVENT_ALL_ACCESS, manual_reset: 1, initial_state: 0, objattr: unnamed });
    expect(event.status).toBe('SUCCESS');
    expect(dup(a.raw, { src_handle: mutex.body.handle, dst_process: event.body.handle }).status).toBe('OBJECT_TYPE_MISMATCH');
    expect(dup(a.raw, { src_process: 0x1230, src_handle: mutex.body.handle }).status).toBe('INVALID_HANDLE');

    // Into b: the copy is b's (b can query it), not a's.
    const toB = call(a.raw, 'open_process', { pid: b.pid, access: PROCESS_DUP_HANDLE | PROCESS_QUERY_LIMITED_INFORMATION, attributes: 0 });
    expect(toB.status).toBe('SUCCESS');
    const copied = dup(a.raw, { src_handle: mutex.body.handle, dst_process: toB.body.handle });
    expect(copied.status).toBe('SUCCESS');
    expect(handleOwner(copied.body.handle)).toBe('proxy');
    expect(call(b.raw, 'query_mutex', { handle: copied.body.handle })).toMatchObject({ status: 'SUCCESS', body: { count: 0 } });
    expect(call(b.raw, 'get_object_info', { handle: copied.body.handle })).toMatchObject({ status: 'SUCCESS', body: { access: MUTEX_ALL_ACCESS, handle_count: 2 } });
    if (copied.body.handle !== mutex.body.handle) expect(call(a.raw, 'query_mutex', { handle: copied.body.handle }).status).toBe('INVALID_HANDLE');

    // Back out of b with DUPLICATE_CLOSE_SOURCE: b's value is gone, a holds a new one.
    const back = dup(a.raw, { src_process: toB.body.handle, src_handle: copied.body.handle, options: DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE });
    expect(back.status).toBe('SUCCESS');
    expect(call(b.raw, 'query_mutex', { handle: copied.body.handle }).status).toBe('INVALID_HANDLE');
    expect(call(a.raw, 'query_mutex', { handle: back.body.handle }).status).toBe('SUCCESS');

    // CLOSE_SOURCE with a bad target: no copy, and the source is closed all the same.
    expect(dup(a.raw, { src_handle: back.body.handle, dst_process: 0x1230, options: DUPLICATE_CLOSE_SOURCE }).status).toBe('INVALID_HANDLE');
    expect(call(a.raw, 'query_mutex', { handle: back.body.handle }).status).toBe('INVALID_HANDLE');

    // Into a process that has died: no table to copy into.
    b.raw.close();
    let intoDead = '';
    for (let i = 0; i < 150 && intoDead !== 'PROCESS_IS_TERMINATING'; i++) {
      // wineserver notices the death asynchronously: until then the copy succeeds (into a table about to go).
      intoDead = dup(a.raw, { src_handle: mutex.body.handle, dst_process: toB.body.handle }).status;
      if (intoDead !== 'PROCESS_IS_TERMINATING') await new Promise((r) => setTimeout(r, 100));
    }
    expect(intoDead).toBe('PROCESS_IS_TERMINATING');

    // Values in the proxy's range the process does not hold.
    for (const request of ['set_handle_info', 'get_object_info', 'get_object_name', 'get_handle_unix_name', 'close_handle']) {
      expect(call(a.raw, request, { handle: 0x3c000004, flags: 0, mask: 0 }, 64).status, request).toBe('INVALID_HANDLE');
    }
    // Descriptor requests on a proxy object: as wineserver answers for objects without one.
    expect(call(a.raw, 'get_handle_fd', { handle: mutex.body.handle }).status).toBe('OBJECT_TYPE_MISMATCH');
    a.raw.close();
    expect(await fdsBackToBaseline(proxy.serve().pid, proxy.baselineFds())).toBe(proxy.baselineFds());
  }, 120_000);
});
