// The mutex translators against real wineserver: the mutexes corpus program
// runs under real Wine 8 through `winekernel run --record` (with
// WINEDEBUG=+server on wineserver), and every create_mutex, open_mutex,
// release_mutex and query_mutex of the recording (all processes: the
// program, its two children, and the mutexes wineboot, services, explorer
// and winedevice use), plus every select on exactly one of those mutexes,
// is answered by the translators on a fresh instance and must print exactly
// as wineserver's reply did; a wait wineserver answered with PENDING must
// also end with the same wake-up. mappings/sync/replay.ts explains the
// replay; docs/mutexes.md lists what cannot be compared.

import { beforeAll, describe, expect, it } from 'vitest';
import { replayMutexes } from '../../mappings/sync/replay.ts';
import { loadProtocol } from '../../requests/protocol.ts';
import { buildCorpus, ensureTemplatePrefix } from '../support/wine.ts';
import { missingFromTraceInOrder, recordCorpusProgram } from '../helpers/recorded-run.ts';

const protocol = loadProtocol('wine-8.0');

beforeAll(async () => {
  buildCorpus();
  await ensureTemplatePrefix();
}, 600_000);

describe('mutex translators replayed against real wineserver', () => {
  it('answer every mutex request and every select on one mutex of the mutexes program as wineserver did', async () => {
    const { recording, trace } = await recordCorpusProgram('mutexes');

    const report = await replayMutexes(recording, protocol, 'mutex-wine-replay');
    console.log(
      `mutex replay: ${report.compared} replies compared, ${report.wakeupsCompared} wake-ups compared, ${report.mismatches.length} mismatches, ` +
        `${report.unanswerable.length} mixed select(s) mirrored`,
    );
    expect(report.mismatches).toEqual([]);
    expect(report.mirrorMismatches).toEqual([]);
    expect(report.skipped).toEqual({});
    expect(missingFromTraceInOrder(report.lines, trace)).toEqual([]);

    const count = (text: string) => report.lines.filter((l) => l.includes(text)).length;
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
    expect(report.wakeupsCompared).toBeGreaterThanOrEqual(1);
    expect(count(': select() = ABANDONED_WAIT_0 ')).toBe(1);
    // WaitForMultipleObjects on a wineserver event and our mutex: not answerable, its outcome mirrored.
    expect(report.unanswerable).toHaveLength(1);
    expect(report.unanswerable[0]).toMatch(/data=\{WAIT,handles=\{[0-9a-f]{4},[0-9a-f]{4}\}\}.*select\(\) = 81 /);
    expect(report.mirrored).toBe(1);
    expect(report.compared).toBeGreaterThanOrEqual(40);
  }, 600_000);
});
