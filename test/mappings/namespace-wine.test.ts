// The namespace translators against real wineserver: the objdir corpus
// program runs under real Wine 8 through `winekernel run --record` (with
// WINEDEBUG=+server on wineserver); every create_directory, open_directory,
// get_directory_entry, create_symlink, open_symlink and query_symlink of
// the recording (all processes: wineboot's and winedevice's symlinks under
// \??, explorer's window station directory, the program and its child) is
// answered by the translators on a fresh instance and must print exactly as
// wineserver's reply did; each of those lines must also be in wineserver's
// own +server trace. The forwarded event/mutex/window-station requests are
// mirrored into the namespace and must get wineserver's status too
// (mappings/namespace/replay.ts explains the replay).

import { beforeAll, describe, expect, it } from 'vitest';
import { replayNamespace } from '../../mappings/namespace/replay.ts';
import { loadProtocol } from '../../requests/protocol.ts';
import { buildCorpus, ensureTemplatePrefix } from '../support/wine.ts';
import { missingFromTraceInOrder, recordCorpusProgram } from '../helpers/recorded-run.ts';

const protocol = loadProtocol('wine-8.0');

beforeAll(async () => {
  buildCorpus();
  await ensureTemplatePrefix();
}, 600_000);

describe('namespace translators replayed against real wineserver', () => {
  it('answer every directory and symlink request of the objdir program as wineserver did', async () => {
    const { recording, trace } = await recordCorpusProgram('objdir');
    const report = await replayNamespace(recording, protocol, 'objdir-replay');
    expect(report.mismatches).toEqual([]);
    expect(report.mirrorMismatches).toEqual([]);
    // Replies without a handle value (listings, link targets, descriptors) are wineserver's byte for byte.
    expect(report.byteMismatches).toEqual([]);
    expect(report.byteExact).toBeGreaterThanOrEqual(15);
    expect(report.skipped).toEqual({});
    const count = (request: string) => report.lines.filter((l) => l.includes(`: ${request}() = `)).length;
    // The program's own: 5 create_directory, 10 get_directory_entry, 5 open_symlink, 6 query_symlink at least.
    expect(count('create_directory')).toBeGreaterThanOrEqual(5);
    expect(count('get_directory_entry')).toBeGreaterThanOrEqual(10);
    expect(count('open_symlink')).toBeGreaterThanOrEqual(5);
    expect(count('query_symlink')).toBeGreaterThanOrEqual(6);
    expect(count('create_symlink')).toBeGreaterThanOrEqual(10);
    expect(report.lines.filter((l) => l.endsWith(': get_directory_entry() = 0 { total_len=38, name_len=14, name=L"DirLink", type=L"SymbolicLink" }'))).toHaveLength(1);
    expect(report.mirrored).toBeGreaterThan(20);
    expect(missingFromTraceInOrder(report.lines, trace)).toEqual([]);
    console.log(`objdir replay: ${report.compared} namespace replies compared exactly, ${report.mirrored} forwarded named-object requests mirrored`);
  }, 400_000);
});
