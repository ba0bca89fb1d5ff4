// get_security_object / set_security_object against real wineserver: the
// security corpus program runs under real Wine 8 through `winekernel run
// --record` (WINEDEBUG=+server on wineserver). The program's event and
// mutex are forwarded objects, so the replay names them through the
// namespace (as the event and mutex translators will), and then every
// get_security_object and set_security_object on them is answered by the
// translators from the descriptor kept with the name: creation descriptor
// merged with the token's owner and group, DACLs replaced, NULL and empty
// DACLs, reply sizes, and the access checks of the opens in between (which
// the mirrored open_event / open_mutex must fail or pass as wineserver did).
// The only requests not compared are those on the registry key the program
// also secures (RegSetKeySecurity / RegGetKeySecurity: the registry family's
// objects, not the namespace's).

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

describe('object security translators replayed against real wineserver', () => {
  it('answer every get/set_security_object on the security program\'s event and mutex as wineserver did', async () => {
    const { recording, trace } = await recordCorpusProgram('security');

    const report = await replayNamespace(recording, protocol, 'security-replay');
    expect(report.mismatches).toEqual([]);
    expect(report.mirrorMismatches).toEqual([]);
    // Replies without a handle value (listings, link targets, descriptors) are wineserver's byte for byte.
    expect(report.byteMismatches).toEqual([]);
    expect(report.byteExact).toBeGreaterThanOrEqual(10);
    const count = (request: string) => report.lines.filter((l) => l.includes(`: ${request}() = `)).length;
    expect(count('get_security_object')).toBeGreaterThanOrEqual(8);
    expect(count('set_security_object')).toBeGreaterThanOrEqual(4);
    // The key's descriptor requests (1 get, 2 sets) name a registry handle: skipped, not compared.
    expect(report.skipped).toEqual({ get_security_object: 1, set_security_object: 2 });
    expect(report.lines.some((l) => l.endsWith('get_security_object() = 0 { sd_len=00000130, sd={control=00000004,owner=S-1-5-21-0-0-0-513,group=<not present>,sacl={},dacl={{type=ACCESS_DENIED,flags=0,mask=2,sid=S-1-1-0},{type=ACCESS_ALLOWED,flags=0,mask=120000,sid=S-1-1-0}}} }'))).toBe(true);
    // Every compared wineserver reply is also in wineserver's own +server trace, in order.
    let from = 0;
    const missing: string[] = [];
    for (const line of report.lines) {
      const at = trace.indexOf(`${line}\n`, from);
      if (at < 0) missing.push(line);
      else from = at + line.length;
    }
    expect(missing).toEqual([]);
    console.log(`security replay: ${report.compared} replies compared exactly (${count('get_security_object')} get, ${count('set_security_object')} set), ${report.mirrored} forwarded named-object requests mirrored`);
  }, 400_000);
});
