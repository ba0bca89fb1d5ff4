// Server calls under faults (`winekernel serve --translate`, raw clients that
// speak the protocol without Wine, test/proxy/raw-client.ts): a client that
// dies while the proxy is making server calls for its request, and a client
// that dies with a change-notification watch armed before another client
// changes the key. The proxy must keep serving, answer the others, and give
// back every descriptor.

import { describe, expect, it } from 'vitest';
import { loadProtocol } from '../../requests/protocol.ts';
import { encodeRawRequest, RawClient, rawCall } from './raw-client.ts';
import { fdsBackToBaseline, useServedPrefix } from './harness.ts';

const protocol = loadProtocol('wine-8.0');
const STATUS_PENDING = 0x103;
const KEY_ALL_ACCESS = 0x000f003f;
const OBJ_CASE_INSENSITIVE = 0x40;
const EVENT_ALL_ACCESS = 0x001f0003;

const request = (name: string, body: Record<string, unknown>) => encodeRawRequest(protocol, name, body);
const call = (client: RawClient, name: string, body: Record<string, unknown>) => rawCall(client, protocol, name, body);

function objattr(name: string) {
  return { rootdir: 0, attributes: OBJ_CASE_INSENSITIVE, sd: null, name };
}

/** A raw client with a key handle (answered by the proxy) on HKLM\Software. */
function clientWithKey(): { client: RawClient; hkey: number } {
  const client = new RawClient(proxy.serve().socketPath);
  expect(client.initFirstThread().error).toBe(0);
  const opened = call(client, 'open_key', { parent: 0, access: KEY_ALL_ACCESS, attributes: OBJ_CASE_INSENSITIVE, name: '\\Registry\\Machine\\Software' });
  expect(opened.error).toBe(0);
  const hkey = (opened.body as { hkey: number }).hkey;
  expect(hkey).toBeGreaterThanOrEqual(0x3c000000); // a proxy handle
  return { client, hkey };
}

const proxy = useServedPrefix('server-call-faults', ['--translate', '--log-level', 'error'], () => {
  for (let i = 0; i < 5; i++) clientWithKey().client.close(); // warm up lazy paths
});

describe('server calls under faults', () => {
  it('clients that die right after a request that needs server calls: the proxy goes on, descriptors come back', async () => {
    for (let i = 0; i < 30; i++) {
      const { client, hkey } = clientWithKey();
      // save_registry: privilege check (open_token, check_token_privileges, close_handle) before anything else.
      client.writeRequestBytes(request('save_registry', { hkey, file: 4 }));
      client.close();
    }
    // Another client is answered, through the same paths.
    const { client, hkey } = clientWithKey();
    const saved = call(client, 'save_registry', { hkey, file: 4 });
    expect(protocol.statusName(saved.error)).toBe('PRIVILEGE_NOT_HELD');
    client.close();
    expect(await fdsBackToBaseline(proxy.serve().pid, proxy.baselineFds())).toBe(proxy.baselineFds());
  }, 120_000);

  it('a watcher that dies with its watch armed: a later change by another client is answered, nothing is signalled into the dead process', async () => {
    const watcher = clientWithKey();
    const event = call(watcher.client, 'create_event', { access: EVENT_ALL_ACCESS, manual_reset: 1, initial_state: 0, objattr: { rootdir: 0, attributes: 0, sd: null, name: '' } });
    expect(event.error).toBe(0);
    const armed = call(watcher.client, 'set_registry_notification', { hkey: watcher.hkey, event: (event.body as { handle: number }).handle, subtree: 1, filter: 4 });
    expect(armed.error).toBe(STATUS_PENDING);
    watcher.client.close();
    await new Promise((r) => setTimeout(r, 300));

    const changer = clientWithKey();
    const created = call(changer.client, 'create_key', { access: KEY_ALL_ACCESS, options: 0, objattr: { ...objattr('WineKernelServerCallFault'), rootdir: changer.hkey }, class: '' });
    expect(created.error === 0 || created.error === 0x40000000).toBe(true);
    const sub = (created.body as { hkey: number }).hkey;
    const set = call(changer.client, 'set_key_value', { hkey: sub, type: 1, namelen: 2, name: 'x', data: Buffer.from('y\0', 'utf16le') });
    expect(set.error).toBe(0);
    changer.client.close();
    expect(await fdsBackToBaseline(proxy.serve().pid, proxy.baselineFds())).toBe(proxy.baselineFds());
  }, 120_000);
});
