// Replays the registry requests of a real wineserver `+server` trace through
// the registry translators and compares every reply line. Used by
// registry-wine.test.ts; kept apart so the parsing can be read on its own.
//
// What the trace does not carry and how it is recovered:
//  * the reply size a client allowed: the reply shows how much data came
//    back; less than `total` means the client allowed exactly that much,
//    otherwise it allowed at least `total` (we offer 64 KiB);
//  * byte data beyond 1024 bytes (wineserver prints `...(total N)`): padded
//    with zeros; the replies print only the first 1024 bytes too, so the
//    lines still compare exactly;
//  * handle values: wineserver's and the proxy's differ by design; each
//    process's handles are mapped (learnt from create_key/open_key replies,
//    forgotten on close_handle), and our reply's hkey is printed as theirs;
//  * last-write times of keys changed during the run: wineserver's clock
//    and ours differ, so a modif that differs is accepted when both are
//    later than the server's start (it was set during the run) and the
//    relative part "(-1.234)" is never compared. Times loaded from the
//    prefix's files must match exactly.

import type { Session } from '../../backends/primitives.ts';
import { ProxyHandleTable } from '../../mappings/handles.ts';
import { closeKeyHandle, REGISTRY_TRANSLATORS } from '../../mappings/registry/translators.ts';
import type { TranslatedEntry, TranslationContext } from '../../mappings/translator.ts';
import type { Protocol } from '../../requests/protocol.ts';
import { maskRunTimes, parseBytes, parseWide, splitArgs } from '../../mappings/replay.ts';

const BY_NAME = new Map<string, TranslatedEntry>(REGISTRY_TRANSLATORS.map((t) => [t.request, t as TranslatedEntry]));
const HANDLE_FIELDS = ['hkey', 'parent'];

export { parseBytes, parseWide, splitArgs } from '../../mappings/replay.ts';

const wide = (v: string | undefined): string => {
  const m = /^L"(.*)"$/s.exec(v ?? 'L""');
  if (!m) throw new Error(`not a wide string: ${v}`);
  return parseWide(m[1]);
};

export interface ReplayStats {
  requests: number;
  compared: number;
  mismatches: string[];
  skipped: Map<string, number>;
  modifMasked: number;
}

interface Pending {
  name: string;
  args: string;
  pid: number;
}

/**
 * Replays `trace` against the registry already loaded in `session`'s
 * instance (from the same prefix files wineserver started with).
 */
export async function replayRegistryTrace(trace: string, session: Session, protocol: Protocol): Promise<ReplayStats> {
  const stats: ReplayStats = { requests: 0, compared: 0, mismatches: [], skipped: new Map(), modifMasked: 0 };
  const skip = (why: string) => stats.skipped.set(why, (stats.skipped.get(why) ?? 0) + 1);
  const pidOfTid = new Map<number, number>();
  const contexts = new Map<number, TranslationContext>();
  const handleMaps = new Map<number, Map<number, number>>();
  const pending = new Map<string, Pending>();
  let serverStart = 0n;
  // Which process a thread belongs to: init_first_thread says it; other
  // threads are known from new_thread (on the process its handle names).
  const processHandles = new Map<string, number>();
  const newThreadTarget = new Map<string, number>();

  const ctxOf = (pid: number): TranslationContext => {
    let ctx = contexts.get(pid);
    if (!ctx) contexts.set(pid, (ctx = { session, pid, tid: 0, handles: new ProxyHandleTable(), protocol }));
    return ctx;
  };
  const mapOf = (pid: number): Map<number, number> => {
    let map = handleMaps.get(pid);
    if (!map) handleMaps.set(pid, (map = new Map()));
    return map;
  };
  /** Our handle for one of wineserver's, or undefined when we do not know it. */
  const ours = (pid: number, value: number): number | undefined => {
    if (value === 0 || value >= 0xfffffff0) return value;
    return mapOf(pid).get(value);
  };

  for (const line of trace.split('\n')) {
    const init = /^([0-9a-f]{4,8}): init_(?:first_)?thread\(\) = 0 \{ pid=([0-9a-f]+), tid=([0-9a-f]+)(?:, server_start=([0-9a-f]+))?/.exec(line);
    if (init) {
      pidOfTid.set(parseInt(init[3], 16), parseInt(init[2], 16));
      if (init[4] && !serverStart) serverStart = BigInt('0x' + init[4]);
      continue;
    }
    const request = /^([0-9a-f]{4,8}): ([a-z_]+)\( (.*) \)$/.exec(line) ?? /^([0-9a-f]{4,8}): ([a-z_]+)\(\)$/.exec(line);
    if (request) {
      const tid = parseInt(request[1], 16);
      const pid = pidOfTid.get(tid);
      if (request[2] === 'new_thread' && pid !== undefined) {
        const h = /process=([0-9a-f]+)/.exec(request[3] ?? '')?.[1] ?? '';
        const target = h === 'ffffffff' ? pid : processHandles.get(`${pid}:${h}`);
        if (target !== undefined) newThreadTarget.set(request[1], target);
      }
      if (request[2] === 'close_handle' && pid !== undefined) {
        const h = parseInt(/handle=([0-9a-f]+)/.exec(request[3] ?? '')?.[1] ?? '0', 16);
        const mine = mapOf(pid).get(h);
        if (mine !== undefined) {
          closeKeyHandle(session, ctxOf(pid).handles, mine);
          mapOf(pid).delete(h);
        }
      }
      if (BY_NAME.has(request[2]) || request[2] === 'set_registry_notification') {
        pending.set(request[1], { name: request[2], args: request[3] ?? '', pid: pid ?? -1 });
      }
      continue;
    }
    const reply = /^([0-9a-f]{4,8}): ([a-z_]+)\(\) = (.*)$/.exec(line);
    if (!reply) continue;
    if (reply[2] === 'new_process') {
      const m = /pid=([0-9a-f]+), handle=([0-9a-f]+)/.exec(reply[3]);
      const pid = pidOfTid.get(parseInt(reply[1], 16));
      if (m && pid !== undefined) processHandles.set(`${pid}:${m[2]}`, parseInt(m[1], 16));
      continue;
    }
    if (reply[2] === 'new_thread') {
      const m = /tid=([0-9a-f]+)/.exec(reply[3]);
      const target = newThreadTarget.get(reply[1]);
      if (m && target !== undefined && !pidOfTid.has(parseInt(m[1], 16))) pidOfTid.set(parseInt(m[1], 16), target);
      newThreadTarget.delete(reply[1]);
      continue;
    }
    const req = pending.get(reply[1]);
    if (!req || req.name !== reply[2]) continue;
    pending.delete(reply[1]);
    stats.requests++;
    const translator = BY_NAME.get(req.name);
    if (!translator) {
      skip(`${req.name}: not translated`);
      continue;
    }
    if (req.pid < 0) {
      skip('thread of unknown process');
      continue;
    }
    const args = splitArgs(req.args);
    const replyFields = splitArgs(/\{ (.*) \}$/.exec(reply[3])?.[1] ?? '');
    const body: Record<string, unknown> = {};
    let unknownHandle = false;
    for (const [k, v] of args) {
      if (HANDLE_FIELDS.includes(k)) {
        const mine = ours(req.pid, parseInt(v, 16));
        if (mine === undefined) unknownHandle = true;
        body[k] = mine ?? 0;
      } else if (k === 'objattr') {
        const m = /^\{rootdir=([0-9a-f]+),attributes=([0-9a-f]+),sd=(.*),name=(L".*")\}$/s.exec(v);
        if (!m) throw new Error(`cannot parse objattr ${v}`);
        const root = ours(req.pid, parseInt(m[1], 16));
        if (root === undefined) unknownHandle = true;
        // The security descriptor's content is not used by the translator (docs/registry.md).
        body.objattr = { rootdir: root ?? 0, attributes: parseInt(m[2], 16), sd: null, name: wide(m[4]) };
      } else if (v.startsWith('L"')) body[k] = wide(v);
      else if (v.startsWith('{')) body[k] = parseBytes(v).bytes;
      else body[k] = /^-?\d+$/.test(v) && !['access', 'options', 'attributes', 'filter'].includes(k) ? parseInt(v, 10) : parseInt(v, 16);
    }
    if (unknownHandle) {
      skip(`${req.name}: handle not opened through the replay`);
      continue;
    }
    if (req.name === 'set_key_value') {
      const name = Buffer.from(body.name as string, 'utf16le');
      body.name = name.toString('utf16le');
    }
    // Reply size: what came back, if less than the total; otherwise plenty.
    let replySize = 0x10000;
    const total = replyFields.has('total') ? parseInt(replyFields.get('total')!, 10) : undefined;
    if (req.name === 'get_key_value' && total !== undefined) {
      const got = parseBytes(replyFields.get('data')).printed;
      if (got < total) replySize = got;
    } else if ((req.name === 'enum_key' || req.name === 'enum_key_value') && total !== undefined) {
      const nameBytes = Buffer.from(wide(replyFields.get('name')), 'utf16le').length;
      const rest = req.name === 'enum_key' ? Buffer.from(wide(replyFields.get('class')), 'utf16le').length : parseBytes(replyFields.get('data')).printed;
      if (nameBytes + rest < total) replySize = nameBytes + rest;
    }
    const ctx = ctxOf(req.pid);
    const code = protocol.codeOf(req.name);
    const decodedRequest = protocol.decodeRequest(protocol.encodeRequest({ code, replySize, body }));
    const translated = await translator.translate(decodedRequest, ctx);
    const decoded = protocol.decodeReply(code, protocol.encodeReply({ code, error: translated.error, body: translated.body }));
    if (typeof decoded.body.hkey === 'number') {
      const theirs = parseInt(replyFields.get('hkey') ?? '0', 16);
      const mine = decoded.body.hkey as number;
      if (mine && theirs) {
        mapOf(req.pid).set(theirs, mine);
        decoded.body.hkey = theirs;
      }
    }
    let expected = reply[0];
    let actual = protocol.formatReply(parseInt(reply[1], 16), decoded);
    const masked = maskRunTimes(expected, actual, serverStart);
    if (masked.masked) stats.modifMasked++;
    expected = masked.expected;
    actual = masked.actual;
    stats.compared++;
    if (expected !== actual) stats.mismatches.push(`${req.name}( ${req.args} )\n  wineserver: ${expected}\n  translator: ${actual}`);
  }
  return stats;
}
