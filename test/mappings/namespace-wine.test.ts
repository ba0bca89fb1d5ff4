// The namespace translators against real wineserver: the objdir corpus
// program runs under real Wine 8 through `winekernel run --record` (with
// WINEDEBUG=+server on wineserver); every create_directory, open_directory,
// get_directory_entry, create_symlink, open_symlink and query_symlink of
// the recording (all processes: wineboot's and winedevice's symlinks under
// \??, explorer's window station directory, the program and its child) is
// answered by the translators on a fresh instance and must print exactly as
// wineserver's reply did; each of those lines must also be in wineserver's
// own +server trace. The forwarded event/window-station/device requests are
// mirrored into the namespace and must get wineserver's status too. The
// replay is the one of `winekernel replay` (mappings/replay.ts): every other
// translated family of the recording is compared as well.

import { beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus, ensureTemplatePrefix } from '../support/wine.ts';
import { linesOf, missingFromTraceInOrder, recordCorpusProgram, replayDifferences, replayRun, unexpectedSkips } from '../helpers/recorded-run.ts';

const NAMESPACE = ['create_directory', 'open_directory', 'get_directory_entry', 'create_symlink', 'open_symlink', 'query_symlink'];

beforeAll(async () => {
  buildCorpus();
  await ensureTemplatePrefix();
}, 600_000);

describe('namespace translators replayed against real wineserver', () => {
  it('answer every directory and symlink request of the objdir program as wineserver did', async () => {
    const run = await recordCorpusProgram('objdir');
    const report = await replayRun(run);
    expect(replayDifferences(report)).toEqual([]);
    expect(report.mismatched).toBe(0);
    // Nothing of the namespace is skipped; elsewhere only atoms of the forwarded create_class.
    for (const name of NAMESPACE) expect(report.types[name]?.skipped ?? 0, name).toBe(0);
    expect(unexpectedSkips(report, [/class atom/])).toEqual([]);
    // Replies without a handle value (listings, link targets) are wineserver's byte for byte.
    for (const name of ['get_directory_entry', 'query_symlink']) expect(report.types[name].byteExact, name).toBe(report.types[name].replayed);
    const lines = linesOf(report, NAMESPACE);
    const count = (request: string) => lines.filter((l) => l.includes(`: ${request}() = `)).length;
    // The program's own: 5 create_directory, 10 get_directory_entry, 5 open_symlink, 6 query_symlink at least.
    expect(count('create_directory')).toBeGreaterThanOrEqual(5);
    expect(count('get_directory_entry')).toBeGreaterThanOrEqual(10);
    expect(count('open_symlink')).toBeGreaterThanOrEqual(5);
    expect(count('query_symlink')).toBeGreaterThanOrEqual(6);
    expect(count('create_symlink')).toBeGreaterThanOrEqual(10);
    expect(lines.filter((l) => l.endsWith(': get_directory_entry() = 0 { total_len=38, name_len=14, name=L"DirLink", type=L"SymbolicLink" }'))).toHaveLength(1);
    expect(report.mirrored.compared).toBeGreaterThan(20);
    expect(missingFromTraceInOrder(lines, run.trace)).toEqual([]);
    console.log(`objdir replay: ${report.families.namespace.replayed} namespace replies compared exactly, ${report.mirrored.compared} forwarded named-object requests mirrored, ${report.replayed} replies in all`);
  }, 400_000);
});
