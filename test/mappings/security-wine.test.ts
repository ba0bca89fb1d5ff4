// get_security_object / set_security_object against real wineserver: the
// security corpus program runs under real Wine 8 through `winekernel run
// --record` (WINEDEBUG=+server on wineserver). The program's event is a
// forwarded object, which the replay (mappings/replay.ts) names through the
// namespace as the event translators will; its mutex is the mutex
// translators', its registry key the registry's. Every get_security_object
// and set_security_object on them is answered by the translators from the
// descriptor kept with the object: creation descriptor merged with the
// token's owner and group, DACLs replaced, NULL and empty DACLs, reply
// sizes, and the access checks of the opens in between (which the mirrored
// open_event and the translated open_mutex and open_key must fail or pass
// as wineserver did).

import { beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus, ensureTemplatePrefix } from '../support/wine.ts';
import { linesOf, missingFromTraceInOrder, recordCorpusProgram, replayDifferences, replayRun, unexpectedSkips } from '../helpers/recorded-run.ts';

const SECURITY = ['get_security_object', 'set_security_object'];

beforeAll(async () => {
  buildCorpus();
  await ensureTemplatePrefix();
}, 600_000);

describe('object security translators replayed against real wineserver', () => {
  it("answer every get/set_security_object on the security program's event and mutex as wineserver did", async () => {
    const run = await recordCorpusProgram('security');
    const report = await replayRun(run);
    expect(replayDifferences(report)).toEqual([]);
    expect(report.mismatched).toBe(0);
    // Descriptors come back as wineserver's bytes.
    expect(report.types.get_security_object.byteExact).toBe(report.types.get_security_object.replayed);
    const lines = linesOf(report, SECURITY);
    const count = (request: string) => lines.filter((l) => l.includes(`: ${request}() = `)).length;
    expect(count('get_security_object')).toBeGreaterThanOrEqual(8);
    expect(count('set_security_object')).toBeGreaterThanOrEqual(4);
    // Including the key's (RegGetKeySecurity, RegSetKeySecurity twice): nothing skipped.
    expect(report.types.get_security_object.skipped).toBe(0);
    expect(report.types.set_security_object.skipped).toBe(0);
    expect(count('set_security_object')).toBeGreaterThanOrEqual(6);
    expect(unexpectedSkips(report, [/class atom/])).toEqual([]);
    expect(lines.some((l) => l.endsWith('get_security_object() = 0 { sd_len=00000130, sd={control=00000004,owner=S-1-5-21-0-0-0-513,group=<not present>,sacl={},dacl={{type=ACCESS_DENIED,flags=0,mask=2,sid=S-1-1-0},{type=ACCESS_ALLOWED,flags=0,mask=120000,sid=S-1-1-0}}} }'))).toBe(true);
    // Every compared wineserver reply is also in wineserver's own +server trace, in order.
    expect(missingFromTraceInOrder(lines, run.trace)).toEqual([]);
    console.log(`security replay: ${report.families.security.replayed} replies compared exactly (${count('get_security_object')} get, ${count('set_security_object')} set), ${report.mirrored.compared} forwarded named-object requests mirrored`);
  }, 400_000);
});
