// The translated families the replay runs, and the rules by which each one's
// replies are compared with wineserver's: what differs by design is mapped
// or masked here, once per family (docs/replay.md, "What is compared").
//
//  * every family: handle values (processes.ts), learnt per process from
//    the replies that mint them and printed as wineserver's;
//  * registry: last-write times (`modif`) of keys changed during the run;
//  * atoms: the atom number bijection (class atoms of the forwarded
//    create_class share wineserver's table, so numbers are offset);
//  * security: only proxy handles; on a handle whose family keeps no
//    descriptor the translators answer NOT_SUPPORTED where wineserver
//    answers (a gap of that family): such a request is counted as skipped
//    with the type named, not compared.

import type { DecodedReply, DecodedRequest } from '../../requests/protocol.ts';
import { ATOM_TRANSLATORS, getAtomInformation } from '../atoms.ts';
import { CATALOG_ENTRIES } from '../catalog/index.ts';
import { handleOwner } from '../handles.ts';
import { NAMESPACE_TRANSLATORS } from '../namespace/translators.ts';
import { STATUS_NOT_SUPPORTED } from '../ntstatus.ts';
import { REGISTRY_TRANSLATORS } from '../registry/translators.ts';
import { SECURITY_TRANSLATORS } from '../security/translators.ts';
import { MUTEX_TRANSLATORS } from '../sync/mutexes.ts';
import type { TranslatedEntry, TranslationContext } from '../translator.ts';
import type { ReplayFamily } from './report.ts';

/** Every translated type of the catalog: the replay answers all of them. */
export const REPLAYED_TRANSLATORS: ReadonlyMap<string, TranslatedEntry> = new Map(
  CATALOG_ENTRIES.filter((e): e is TranslatedEntry => e.status === 'translated').map((e) => [e.request, e]),
);

const FAMILY_OF = new Map<string, ReplayFamily>([
  ...REGISTRY_TRANSLATORS.map((t) => [t.request, 'registry'] as const),
  ...ATOM_TRANSLATORS.map((t) => [t.request, 'atoms'] as const),
  ...NAMESPACE_TRANSLATORS.map((t) => [t.request, 'namespace'] as const),
  ...SECURITY_TRANSLATORS.map((t) => [t.request, 'security'] as const),
  ...MUTEX_TRANSLATORS.map((t) => [t.request, 'mutexes'] as const),
  ['select', 'mutexes'],
]);

/** The family a replayed type is reported under (a type translated later without a family here: its catalog family). */
export function replayFamily(request: string): string {
  return FAMILY_OF.get(request) ?? REPLAYED_TRANSLATORS.get(request)?.family ?? 'other';
}

/** One translated request being replayed. */
export interface TranslatedCall {
  request: DecodedRequest;
  recorded: DecodedReply;
  ctx: TranslationContext;
}

/** What to do with a request: translate `body` (handles already ours) and compare the reply, or not run it (`skip` says why). */
export type Prepared = { body: Record<string, unknown> } | { skip: string };

/** What a family maps or masks; every hook is optional. */
export interface FamilyRules {
  before?(call: TranslatedCall, body: Record<string, unknown>): Prepared;
  /**
   * Called with our decoded reply before its handle values are replaced by
   * wineserver's: puts wineserver's values where they differ by design;
   * returns whether it did, a difference it found, or why the reply cannot
   * be compared after all.
   */
  after?(call: TranslatedCall, body: Record<string, unknown>, ours: DecodedReply): Promise<{ substituted: boolean; difference?: string; uncompared?: string }>;
  /** Masks the parts of the two reply lines that differ by design. */
  mask?(expected: string, actual: string): { expected: string; actual: string; masked: boolean };
}

/** The rules of one replay (the atom map and the server start are that replay's). */
export function familyRules(state: { serverStart(): bigint; onMasked(): void }): Record<string, FamilyRules> {
  const atoms = new AtomNumberMap();
  return {
    registry: {
      mask(expected, actual) {
        const masked = maskRunTimes(expected, actual, state.serverStart());
        if (masked.masked) state.onMasked();
        return masked;
      },
    },
    atoms: {
      before(call, body) {
        const mapped = atoms.mapRequest(call.request.name, body);
        return typeof mapped === 'string' ? { skip: mapped } : { body: mapped };
      },
      after: (call, body, ours) => atoms.mapReply(call, body, ours),
    },
    security: {
      before(call, body) {
        // Only proxy handles are the translators'; a pseudo-handle names wineserver's process, thread or token.
        const handle = body.handle as number;
        if (handleOwner(handle) !== 'proxy') return { skip: `${call.request.name} on a handle that is not the proxy's (0, or a pseudo-handle: wineserver's process, thread or token)` };
        return { body };
      },
      async after(call, body, ours) {
        // A proxy handle of a type whose family keeps no descriptor is answered NOT_SUPPORTED (mappings/security/translators.ts).
        if (ours.error !== STATUS_NOT_SUPPORTED || call.recorded.error === STATUS_NOT_SUPPORTED) return { substituted: false };
        const entry = call.ctx.handles.get(body.handle as number);
        return { substituted: false, uncompared: `${call.request.name} on a ${entry?.type ?? 'proxy'} handle (that family keeps no security descriptor)` };
      },
    },
  };
}

/**
 * A key's last-write time set during the run comes from each side's clock:
 * when the two differ and both lie after the server's start, both print as
 * `modif=<run>`. The relative part wineserver prints after it is dropped.
 * Times loaded from the prefix's files must match exactly.
 */
export function maskRunTimes(expected: string, actual: string, serverStart: bigint): { expected: string; actual: string; masked: boolean } {
  const theirs = /modif=([0-9a-f]+)(?: \([^)]*\))?/.exec(expected);
  const ours = /modif=([0-9a-f]+)(?: \([^)]*\))?/.exec(actual);
  if (!theirs || !ours) return { expected, actual, masked: false };
  const t = BigInt('0x' + theirs[1]);
  const o = BigInt('0x' + ours[1]);
  const masked = t !== o && t >= serverStart && o >= serverStart;
  return {
    expected: expected.replace(theirs[0], masked ? 'modif=<run>' : `modif=${theirs[1]}`),
    actual: actual.replace(ours[0], masked ? 'modif=<run>' : `modif=${ours[1]}`),
    masked,
  };
}

const isStringAtom = (atom: number) => atom >= 0xc000 && atom <= 0xffff;

/**
 * Recorded atom number ↔ ours. The real table also holds class atoms of the
 * forwarded create_class, so numbers are offset; the mapping is learnt from
 * add_atom and must be the same on every later use.
 */
export class AtomNumberMap {
  readonly realToOurs = new Map<number, number>();
  readonly oursToReal = new Map<number, number>();

  learn(real: number, ours: number): void {
    const previous = this.oursToReal.get(ours);
    if (previous !== undefined && previous !== real) this.realToOurs.delete(previous);
    this.realToOurs.set(real, ours);
    this.oursToReal.set(ours, real);
  }

  forget(real: number, ours: number): void {
    this.realToOurs.delete(real);
    this.oursToReal.delete(ours);
  }

  /** The request with our number for the atom it names, or why it cannot be compared. */
  mapRequest(name: string, body: Record<string, unknown>): Record<string, unknown> | string {
    if (!('atom' in body)) return body;
    const real = body.atom as number;
    const ours = this.realToOurs.get(real);
    if (ours === undefined && isStringAtom(real)) return `${name}: atom added by a forwarded request (class atom)`;
    return { ...body, atom: ours ?? real };
  }

  /** Our reply with wineserver's number; a number that is not the mapped one is a difference. */
  async mapReply(call: TranslatedCall, body: Record<string, unknown>, ours: DecodedReply): Promise<{ substituted: boolean; difference?: string }> {
    const { request, recorded, ctx } = call;
    let substituted = false;
    let difference: string | undefined;
    if (typeof ours.body.atom === 'number' && isStringAtom(ours.body.atom) && typeof recorded.body.atom === 'number') {
      const real = recorded.body.atom;
      const mine = ours.body.atom;
      if (request.name === 'add_atom') this.learn(real, mine);
      else if (this.realToOurs.get(real) !== mine) difference = `atom ${real.toString(16)} recorded, ${mine.toString(16)} replayed (not the same atom)`;
      ours.body.atom = real;
      substituted = real !== mine;
    }
    if (request.name === 'delete_atom' && ours.error === 0 && 'atom' in request.body) {
      // Once freed, wineserver may give the number to a class atom: forget it.
      const mine = body.atom as number;
      const probe = await getAtomInformation.translate({ code: 0, name: 'get_atom_information', replySize: 0, body: { atom: mine } }, ctx);
      if (probe.error !== 0) this.forget(request.body.atom as number, mine);
    }
    return { substituted, difference };
  }
}
