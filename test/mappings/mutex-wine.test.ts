// The mutex translators against real wineserver: the mutexes corpus program
// runs under real Wine 8 through `winekernel run --record` (with
// WINEDEBUG=+server on wineserver), and every create_mutex, open_mutex,
// release_mutex and query_mutex of the recording (all processes: the
// program, its two children, and the mutexes wineboot, services, explorer
// and winedevice use), plus every select on exactly one of those mutexes,
// is answered by the translators on a fresh instance and must print exactly
// as wineserver's reply did; a wait wineserver answered with PENDING must
// also end with the same wake-up. mappings/replay.ts (replay/mutexes.ts)
// explains the replay; docs/mutexes.md lists what cannot be compared.

import { beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus, ensureTemplatePrefix } from '../support/wine.ts';
import { linesOf, missingFromTraceInOrder, recordCorpusProgram, replayDifferences, replayRun, unexpectedSkips } from '../helpers/recorded-run.ts';

beforeAll(async () => {
  buildCorpus();
  await ensureTemplatePrefix();
}, 600_000);

describe('mutex translators replayed against real wineserver', () => {
  it('answer every mutex request and every select on one mutex of the mutexes program as wineserver did', async () => {
    const run = await recordCorpusProgram('mutexes');
    const report = await replayRun(run);
    const mutexes = report.families.mutexes;
    console.log(
      `mutex replay: ${mutexes.replayed} replies compared, ${report.wakeups.compared} wake-ups compared, ${mutexes.replayed - mutexes.matched} mismatches, ` +
        `${report.unanswerable.length} mixed select(s) mirrored`,
    );
    expect(replayDifferences(report)).toEqual([]);
    expect(report.mismatched).toBe(0);
    for (const name of ['create_mutex', 'open_mutex', 'release_mutex', 'query_mutex', 'select']) expect(report.types[name]?.skipped ?? 0, name).toBe(0);
    expect(unexpectedSkips(report, [/class atom/])).toEqual([]);
    const lines = linesOf(report, ['create_mutex', 'open_mutex', 'release_mutex', 'query_mutex', 'select']);
    expect(missingFromTraceInOrder(lines, run.trace)).toEqual([]);

    const count = (text: string) => lines.filter((l) => l.includes(text)).length;
    // The program's own requests are among them (system processes add more).
    expect(count(': create_mutex() = 0 ')).toBeGreaterThanOrEqual(1);
    expect(count(': create_mutex() = OBJECT_NAME_EXISTS ')).toBeGreaterThanOrEqual(1);
    expect(count(': open_mutex() = 0 ')).toBeGreaterThanOrEqual(2); // the two children
    expect(count(': open_mutex() = OBJECT_NAME_NOT_FOUND ')).toBe(2); // missing name, name gone after last close
    // 4th release, release by another thread, release through the create-on-existing handle.
    expect(count(': release_mutex() = MUTANT_NOT_OWNED ')).toBe(3);
    expect(count(': release_mutex() = 0 { prev_count=00000003 }')).toBeGreaterThanOrEqual(1);
    // Wait 0 while the child holds it, the 50 ms wait that ends by timeout, the abandoned wait.
    expect(count(': select() = TIMEOUT ')).toBeGreaterThanOrEqual(1);
    expect(count(': select() = PENDING ')).toBeGreaterThanOrEqual(1);
    expect(report.wakeups.compared).toBeGreaterThanOrEqual(1);
    expect(count(': select() = ABANDONED_WAIT_0 ')).toBe(1);
    // WaitForMultipleObjects on a wineserver event and our mutex: not answerable, its outcome mirrored.
    expect(report.unanswerable).toHaveLength(1);
    expect(report.unanswerable[0]).toMatch(/data=\{WAIT,handles=\{[0-9a-f]{4},[0-9a-f]{4}\}\}.*select\(\) = 81 /);
    expect(mutexes.replayed).toBeGreaterThanOrEqual(40);
  }, 600_000);
});
