// The atom translators against real wineserver: the corpus program `atoms`
// runs under real Wine 8 with WINEDEBUG=+server; every add_atom, find_atom,
// delete_atom and get_atom_information of the trace (all processes, in
// server order) is replayed through the translators on the in-process
// backend, and each reply must print exactly as wineserver's did.
//
// One difference is expected and accounted for: in Wine the global table
// also holds the class atoms user32 registers through create_class (Button,
// Edit, Message, ...), which is a forwarded request. So real atom numbers
// are offset by those, and the replay maps each real atom number to the one
// the translator handed out for the same add_atom (a bijection checked on
// every use). Requests about atoms the replay never saw added (class atoms)
// are counted and skipped; the program's own atoms must all be compared.

import { afterAll, describe, expect, it } from 'vitest';
import { createInProcessBackend } from '../../backends/inprocess/index.ts';
import { WK_ATTACH_CREATE } from '../../backends/primitives.ts';
import { addAtom, deleteAtom, findAtom, getAtomInformation } from '../../mappings/atoms.ts';
import { ProxyHandleTable } from '../../mappings/handles.ts';
import { parseWide } from '../../mappings/replay.ts';
import type { TranslatedEntry, TranslationContext } from '../../mappings/translator.ts';
import { loadProtocol } from '../../requests/protocol.ts';
import { corpusExe, createTestPrefix, removeTestPrefix, runWineProgram, stopWineserver } from '../support/wine.ts';

const protocol = loadProtocol('wine-8.0');
const TRANSLATORS: Record<string, TranslatedEntry> = {
  add_atom: addAtom,
  delete_atom: deleteAtom,
  find_atom: findAtom,
  get_atom_information: getAtomInformation,
};

interface TracedCall {
  tid: string;
  name: string;
  args: string;
  reply: string;
}

/** Pairs each atom request line with the reply line of the same thread that follows it. */
function atomCalls(trace: string): TracedCall[] {
  const pending = new Map<string, { name: string; args: string }>();
  const calls: TracedCall[] = [];
  for (const line of trace.split('\n')) {
    const request = /^([0-9a-f]{4,8}): (add_atom|find_atom|delete_atom|get_atom_information)\( (.*) \)$/.exec(line);
    if (request) {
      pending.set(request[1], { name: request[2], args: request[3] });
      continue;
    }
    const reply = /^([0-9a-f]{4,8}): (add_atom|find_atom|delete_atom|get_atom_information)\(\) = (.*)$/.exec(line);
    if (reply) {
      const req = pending.get(reply[1]);
      if (req && req.name === reply[2]) calls.push({ tid: reply[1], name: req.name, args: req.args, reply: line });
      pending.delete(reply[1]);
    }
  }
  return calls;
}

const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) {
    await stopWineserver(prefix);
    await removeTestPrefix(prefix);
  }
});

describe('atom translators replayed against real wineserver', () => {
  it('answer every atom request of the atoms corpus program as wineserver did', async () => {
    const prefix = await createTestPrefix('atoms-replay');
    prefixes.push(prefix);
    const run = await runWineProgram({ prefix, exe: corpusExe('atoms'), env: { WINEDEBUG: '+server' }, timeoutMs: 120_000 });
    expect(run.stdout).toContain('atoms: all checks passed');
    const calls = atomCalls(run.stderr);
    expect(calls.length).toBeGreaterThan(20);

    const backend = createInProcessBackend();
    const session = backend.openSession();
    expect(session.attach('atoms-replay', WK_ATTACH_CREATE)).toBeGreaterThanOrEqual(0);
    const ctx: TranslationContext = { session, pid: 0, tid: 0, handles: new ProxyHandleTable(), protocol };

    const realToOurs = new Map<number, number>();
    const oursToReal = new Map<number, number>();
    const mismatches: string[] = [];
    let compared = 0;
    let skipped = 0;
    const programNames = /WineKernel/i;
    let programCalls = 0;

    for (const call of calls) {
      const translator = TRANSLATORS[call.name];
      const tid = parseInt(call.tid, 16);
      let body: Record<string, unknown>;
      let realAtom: number | undefined;
      if (call.name === 'add_atom' || call.name === 'find_atom') {
        const m = /^name=L"(.*)"$/.exec(call.args);
        if (!m) throw new Error(`cannot parse ${call.name}( ${call.args} )`);
        body = { name: parseWide(m[1]) };
        if (programNames.test(body.name as string)) programCalls++;
      } else {
        const m = /^atom=([0-9a-f]+)$/.exec(call.args);
        if (!m) throw new Error(`cannot parse ${call.name}( ${call.args} )`);
        realAtom = parseInt(m[1], 16);
        const ours = realToOurs.get(realAtom);
        if (ours === undefined && realAtom >= 0xc000 && realAtom <= 0xffff) {
          skipped++; // an atom added by create_class (forwarded), unknown to the translator
          continue;
        }
        body = { atom: ours ?? realAtom };
      }
      // get_atom_information's reply size is not in the trace; the reply shows how much name came back, and
      // ntdll always offers more than 255 characters, so offer the maximum.
      const code = protocol.codeOf(call.name);
      const request = protocol.decodeRequest(protocol.encodeRequest({ code, replySize: 1024, body }));
      const reply = await translator.translate(request, ctx);
      const decoded = protocol.decodeReply(code, protocol.encodeReply({ code, error: reply.error, body: reply.body }));
      if (typeof decoded.body.atom === 'number' && decoded.body.atom >= 0xc000) {
        // Learn or check the bijection from the real reply's atom.
        const real = /atom=([0-9a-f]+)/.exec(call.reply);
        if (real) {
          const r = parseInt(real[1], 16);
          const ours = decoded.body.atom;
          if (call.name === 'add_atom') {
            const previous = oursToReal.get(ours);
            if (previous !== undefined && previous !== r) realToOurs.delete(previous);
            realToOurs.set(r, ours);
            oursToReal.set(ours, r);
          } else if (realToOurs.get(r) !== ours) {
            mismatches.push(`${call.name}( ${call.args} ): real atom ${r.toString(16)} but ours ${ours.toString(16)}`);
          }
          decoded.body.atom = r;
        }
      }
      if (call.name === 'delete_atom' && realAtom !== undefined && reply.error === 0) {
        // Once the translator freed the atom, wineserver may reuse the number for a class atom: forget it.
        const ours = body.atom as number;
        const probe = await getAtomInformation.translate({ code: 0, name: 'get_atom_information', replySize: 0, body: { atom: ours } }, ctx);
        if (probe.error !== 0) {
          realToOurs.delete(realAtom);
          oursToReal.delete(ours);
        }
      }
      if (realAtom !== undefined && programNames.test(JSON.stringify(reply.body))) programCalls++;
      const ours = protocol.formatReply(tid, decoded);
      compared++;
      if (ours !== call.reply) mismatches.push(`${call.name}( ${call.args} ):\n  wineserver: ${call.reply}\n  translator: ${ours}`);
    }
    expect(mismatches).toEqual([]);
    expect(compared).toBeGreaterThan(20);
    expect(programCalls).toBeGreaterThan(10);
    // Report what was compared, for the record.
    console.log(`atoms replay: ${calls.length} atom requests in the trace, ${compared} compared exactly, ${skipped} about class atoms skipped`);
  }, 300_000);
});
