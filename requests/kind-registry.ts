// Looks up the kinds (requests/kinds/) that generated code needs, failing at
// load time, with the kind's name, if protocol.def uses one nobody wrote.

import type { FixedKind, VarargKind } from './kinds/kind.ts';
import { fixedKinds, varargKinds } from './kinds/index.ts';
import { WinekernelError } from '../errors/winekernel-error.ts';

export class MissingKindError extends WinekernelError<'WK_MISSING_KIND'> {
  constructor(what: string, name: string) {
    super('WK_MISSING_KIND', `no ${what} kind '${name}' in requests/kinds: protocol.def uses it, so it needs a decoder, an encoder and a trace printer`);
  }
}

export function requireVarargKind(name: string): VarargKind<any> {
  const kind = (varargKinds as Record<string, VarargKind<any> | undefined>)[name];
  if (!kind) throw new MissingKindError('vararg', name);
  return kind;
}

export function requireFixedKind(name: string): FixedKind<any> {
  const kind = (fixedKinds as Record<string, FixedKind<any> | undefined>)[name];
  if (!kind) throw new MissingKindError('fixed', name);
  return kind;
}

type ValueOf<K> = K extends { decode(...args: any[]): infer R } ? R : unknown;

/** The decoded value of a fixed kind, by its C type name. */
export type FixedValue<Name extends string> = Name extends keyof typeof fixedKinds ? ValueOf<(typeof fixedKinds)[Name]> : unknown;

/** The decoded value of a vararg kind, by its name. */
export type VarargValue<Name extends string> = Name extends keyof typeof varargKinds
  ? ValueOf<(typeof varargKinds)[Name]> extends { value: infer V }
    ? V
    : unknown
  : unknown;
