// Proxy handles shared with child processes (docs/translation.md, "Proxy
// handles across processes"): the handle_sharing corpus program inherits
// mutexes (named and unnamed), registry keys and an object directory into
// children, with and without an explicit handle list, duplicates mutexes
// into a running child and back out of it, toggles inheritance and
// protection with SetHandleInformation and counts handles with
// NtQueryObject. Through `run --translate` it prints what it prints under
// plain Wine, and the recording shows the generic handle requests on proxy
// handles answered by the proxy, in the parent and in the children, none
// refused.

import { describe, expect, it } from 'vitest';
import { handleOwner } from '../../mappings/handles.ts';
import { STATUS_NOT_SUPPORTED } from '../../mappings/ntstatus.ts';
import { AUX_SERVER_CALL, AUX_TRANSLATED, RecordKind } from '../../proxy/recording/format.ts';
import { readRecording } from '../../proxy/recording/reader.ts';
import { loadProtocol } from '../../requests/protocol.ts';
import { corpusDirectThenTranslated, useCorpusPrefixes } from './harness.ts';

const protocol = loadProtocol('wine-8.0');
const { fresh: freshPrefix, work } = useCorpusPrefixes('translate-handle-sharing');
const GENERIC = new Set(['dup_handle', 'set_handle_info', 'get_object_info', 'get_object_name', 'get_handle_unix_name']);

describe('winekernel run --translate: proxy handles across processes', () => {
  it('handle_sharing.exe: same output and exit status as plain wine; inheritance, dup_handle, set_handle_info, get_object_info and object names on proxy handles answered by the proxy', async () => {
    const record = await corpusDirectThenTranslated(await freshPrefix('handle_sharing'), 'handle_sharing', work);
    const recording = readRecording(record);
    const answered = new Map<string, number>();
    const forwardedNamingProxy: string[] = [];
    const refused: string[] = [];
    // Which process minted each proxy value first; a value named by another process came to it by inheritance or dup_handle.
    const firstUser = new Map<number, number>();
    let usedElsewhere = 0;
    const pending = new Map<number, string>();
    for (const record of recording.records) {
      const requestName = protocol.requests[record.code]?.name;
      if (!requestName || record.aux & AUX_SERVER_CALL) continue;
      if (record.kind === RecordKind.Reply && record.aux & AUX_TRANSLATED && pending.get(record.threadKey) === requestName) {
        if (record.payload.readUInt32LE(0) === STATUS_NOT_SUPPORTED) refused.push(requestName);
        pending.delete(record.threadKey);
      }
      if (record.kind !== RecordKind.Request) continue;
      const body = protocol.decodeRequest(record.payload).body as Record<string, unknown>;
      const named = [body.handle, body.src_handle, body.hkey, body.rootdir].filter((h): h is number => typeof h === 'number' && handleOwner(h) === 'proxy');
      if (!named.length) continue;
      for (const value of named) {
        const first = firstUser.get(value & ~3);
        if (first === undefined) firstUser.set(value & ~3, record.pid);
        else if (first !== record.pid) usedElsewhere++;
      }
      if (!(record.aux & AUX_TRANSLATED)) {
        forwardedNamingProxy.push(requestName);
        continue;
      }
      pending.set(record.threadKey, requestName);
      if (GENERIC.has(requestName)) answered.set(requestName, (answered.get(requestName) ?? 0) + 1);
    }
    expect(forwardedNamingProxy).toEqual([]);
    expect(refused).toEqual([]);
    // Into the child (full and SYNCHRONIZE-only), back out with DUPLICATE_CLOSE_SOURCE, with and without bInheritHandle.
    expect(answered.get('dup_handle') ?? 0).toBeGreaterThanOrEqual(5);
    // GetHandleInformation and SetHandleInformation on mutexes and keys.
    expect(answered.get('set_handle_info') ?? 0).toBeGreaterThanOrEqual(8);
    // Handle counts of unnamed and named mutexes, in the parent and in a child.
    expect(answered.get('get_object_info') ?? 0).toBeGreaterThanOrEqual(4);
    // NtQueryObject(ObjectNameInformation) of an unnamed mutex, a key and a deleted key: the unix-name probe first, then the name.
    expect(answered.get('get_handle_unix_name') ?? 0).toBeGreaterThanOrEqual(3);
    expect(answered.get('get_object_name') ?? 0).toBeGreaterThanOrEqual(3);
    // Children used proxy values they never minted: inherited or duplicated into them.
    expect(usedElsewhere).toBeGreaterThan(5);
  }, 400_000);
});
