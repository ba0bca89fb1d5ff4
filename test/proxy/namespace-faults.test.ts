// Directories and links with server twins under faults (`winekernel serve
// --translate`, raw clients that speak the protocol without Wine,
// test/proxy/raw-client.ts; docs/object-namespace.md, "Live"): clients that
// die while the proxy makes a directory's twin, a directory whose creator
// dies, requests wineserver serves naming a proxy directory, a proxy handle
// without a twin. The proxy must keep serving, answer the others exactly,
// leave no name behind on either side, and give back every descriptor.

import { describe, expect, it } from 'vitest';
import { handleOwner } from '../../mappings/handles.ts';
import { loadProtocol } from '../../requests/protocol.ts';
import { encodeRawRequest, RawClient, rawCall } from './raw-client.ts';
import { fdsBackToBaseline, useServedPrefix } from './harness.ts';

const protocol = loadProtocol('wine-8.0');
const DIRECTORY_ALL_ACCESS = 0x000f000f;
const EVENT_ALL_ACCESS = 0x001f0003;
const KEY_READ = 0x20019;
const OBJ_CASE_INSENSITIVE = 0x40;

const request = (name: string, body: Record<string, unknown>) => encodeRawRequest(protocol, name, body);

/** One request and its reply, the status by name. */
function call(client: RawClient, name: string, body: Record<string, unknown>, replySize = 0) {
  const reply = rawCall(client, protocol, name, body, replySize);
  return { status: reply.error === 0 ? 'SUCCESS' : protocol.statusName(reply.error), body: reply.body as Record<string, unknown> };
}

function objattr(name: string, rootdir = 0) {
  return { rootdir, attributes: OBJ_CASE_INSENSITIVE, sd: null, name };
}

function client(): RawClient {
  const raw = new RawClient(proxy.serve().socketPath);
  expect(raw.initFirstThread().error).toBe(0);
  return raw;
}

const createDirectory = (raw: RawClient, name: string, rootdir = 0) => call(raw, 'create_directory', { access: DIRECTORY_ALL_ACCESS, objattr: objattr(name, rootdir) });
const openDirectory = (raw: RawClient, name: string) => call(raw, 'open_directory', { access: DIRECTORY_ALL_ACCESS, attributes: OBJ_CASE_INSENSITIVE, rootdir: 0, directory_name: name });

const proxy = useServedPrefix('namespace-faults', ['--translate', '--log-level', 'error'], () => {
  for (let i = 0; i < 5; i++) {
    const warm = client();
    createDirectory(warm, `\\BaseNamedObjects\\WkWarm${i}`);
    warm.close();
  }
});

describe('directories and links with server twins under faults', () => {
  it('a proxy directory: its twin takes wineserver\'s objects, bridged requests answer about it, and it goes with its creator', async () => {
    const creator = client();
    const made = createDirectory(creator, '\\BaseNamedObjects\\WkFaultDir');
    expect(made.status).toBe('SUCCESS');
    const dir = made.body.handle as number;
    expect(handleOwner(dir)).toBe('proxy');
    // An event wineserver makes under the proxy directory, by the directory as root (bridged to the twin).
    const event = call(creator, 'create_event', { access: EVENT_ALL_ACCESS, manual_reset: 1, initial_state: 0, objattr: objattr('Ev', dir) });
    expect(event.status).toBe('SUCCESS');
    expect(handleOwner(event.body.handle as number)).toBe('server');
    // A second create of the same name collides in wineserver, whoever asks.
    expect(createDirectory(creator, '\\BaseNamedObjects\\WkFaultDir').status).toBe('OBJECT_NAME_COLLISION');
    const other = client();
    expect(call(other, 'create_event', { access: EVENT_ALL_ACCESS, manual_reset: 1, initial_state: 0, objattr: objattr('\\BaseNamedObjects\\WkFaultDir') }).status).toBe('OBJECT_NAME_COLLISION');
    // The name of the proxy handle, bridged (get_object_name on the twin).
    const named = call(creator, 'get_object_name', { handle: dir }, 1024);
    expect(named.status).toBe('SUCCESS');
    expect(Buffer.from((named.body.name as { bytes?: Buffer }).bytes ?? Buffer.from(named.body.name as string, 'utf16le')).toString('utf16le')).toBe('\\BaseNamedObjects\\WkFaultDir');
    // Listed by another process: the event wineserver holds in the twin.
    const opened = openDirectory(other, '\\BaseNamedObjects\\WkFaultDir');
    expect(opened.status).toBe('SUCCESS');
    const entry = call(other, 'get_directory_entry', { handle: opened.body.handle, index: 0 }, 256);
    expect(entry.status).toBe('SUCCESS');
    expect(call(other, 'close_handle', { handle: opened.body.handle }).status).toBe('SUCCESS');
    // The creator dies holding the only handles: the directory is gone on both sides.
    creator.close();
    let gone = '';
    for (let i = 0; i < 50 && gone !== 'OBJECT_NAME_NOT_FOUND'; i++) {
      // wineserver notices the death asynchronously: until then the directory opens (and that handle is closed again).
      const probe = openDirectory(other, '\\BaseNamedObjects\\WkFaultDir');
      gone = probe.status;
      if (gone === 'SUCCESS') {
        call(other, 'close_handle', { handle: probe.body.handle });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(gone).toBe('OBJECT_NAME_NOT_FOUND');
    // A proxy handle without a twin (a registry key) cannot be a root wineserver sees: refused, never misrouted.
    const key = call(other, 'open_key', { parent: 0, access: KEY_READ, attributes: OBJ_CASE_INSENSITIVE, name: '\\Registry\\Machine\\Software' });
    expect(key.status).toBe('SUCCESS');
    expect(call(other, 'create_event', { access: EVENT_ALL_ACCESS, manual_reset: 1, initial_state: 0, objattr: objattr('Ev', key.body.hkey as number) }).status).toBe('NOT_SUPPORTED');
    // A value in the proxy's range the process does not hold is what wineserver says of any value it never minted.
    expect(call(other, 'create_event', { access: EVENT_ALL_ACCESS, manual_reset: 1, initial_state: 0, objattr: objattr('Ev', 0x3c000000) }).status).toBe('INVALID_HANDLE');
    expect(call(other, 'get_object_type', { handle: 0x3c000004 }, 256).status).toBe('INVALID_HANDLE');
    other.close();
    expect(await fdsBackToBaseline(proxy.serve().pid, proxy.baselineFds())).toBe(proxy.baselineFds());
  }, 120_000);

  it('clients that die right after asking for a directory: the proxy goes on, no name stays behind, descriptors come back', async () => {
    for (let i = 0; i < 30; i++) {
      const doomed = client();
      doomed.writeRequestBytes(request('create_directory', { access: DIRECTORY_ALL_ACCESS, objattr: objattr(`\\BaseNamedObjects\\WkDoomed${i}`) }));
      doomed.close();
    }
    const survivor = client();
    // Every directory died with its creator (temporary, its only handles in the dead process), on both sides.
    for (let i = 0; i < 30; i++) {
      let status = '';
      for (let attempt = 0; attempt < 50; attempt++) {
        const probe = openDirectory(survivor, `\\BaseNamedObjects\\WkDoomed${i}`);
        status = probe.status;
        if (status === 'OBJECT_NAME_NOT_FOUND') break;
        if (status === 'SUCCESS') call(survivor, 'close_handle', { handle: probe.body.handle });
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(status, `WkDoomed${i}`).toBe('OBJECT_NAME_NOT_FOUND');
    }
    // And the names are free again for anyone.
    const again = createDirectory(survivor, '\\BaseNamedObjects\\WkDoomed0');
    expect(again.status).toBe('SUCCESS');
    expect(handleOwner(again.body.handle as number)).toBe('proxy');
    survivor.close();
    expect(await fdsBackToBaseline(proxy.serve().pid, proxy.baselineFds())).toBe(proxy.baselineFds());
  }, 180_000);
});
