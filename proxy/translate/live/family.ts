// What a family contributes to live translation (`--translate`): the catalog
// entries that replace the base catalog's for the session, what the family
// does when one of its proxy handles is closed, and when a client process
// ends. Each family that can be translated live has one module in this
// folder, exporting a factory (a family may keep per-proxy state, e.g. the
// registry's change-notification watches); index.ts assembles them.

import type { Session } from '../../../backends/primitives.ts';
import type { ProxyHandleEntry } from '../../../mappings/handles.ts';
import type { TranslatedReply, TranslationContext, Translator } from '../../../mappings/translator.ts';

export type DuplicateHook = (from: TranslationContext, value: number, to: TranslationContext, access: number | null, flags: number) => number;

export interface LiveFamily {
  readonly name: string;
  /** Entries that replace the base catalog's entry of the same request while translating live. */
  readonly entries: readonly Translator[];
  /**
   * close_handle of a proxy handle of one of these object types (`ProxyHandleEntry.type`):
   * runs after the value is released and before its primitive handle is closed;
   * may answer with another status than success (wineserver's close_handle can fail).
   */
  readonly onClose?: Readonly<Record<string, (ctx: TranslationContext, value: number, entry: ProxyHandleEntry) => Promise<TranslatedReply | void> | TranslatedReply | void>>;
  /**
   * A second proxy handle, minted in process `to` (the same client or
   * another one of this proxy), to the object behind the handle `value` of
   * process `from`, by the handle's object type: what dup_handle across
   * processes and handle inheritance need. `access` null keeps the source's
   * granted access; `flags` are the new entry's (ENTRY_INHERIT). Returns the
   * new value, 0 when the object cannot be reached from `to`. Makes no
   * server calls: the twin, if any, is the caller's business.
   */
  readonly duplicate?: Readonly<Record<string, DuplicateHook>>;
  /** A client process (Wine pid) ended; its handles are being closed by the router. */
  onProcessEnd?(pid: number): void;
  /** A thread of a client process ended (its pipes closed), with that process's session: cancel its waits, abandon what it owns. */
  onThreadEnd?(session: Session, pid: number, tid: number): void;
  /**
   * Cheap checks on a request frame before it is decoded, by request name:
   * false forwards it at once (a select naming no proxy handle).
   */
  readonly prefilters?: Readonly<Record<string, (frame: Buffer) => boolean>>;
}

/** A family, or a factory making a fresh one for each router (per-proxy state). */
export type LiveFamilySource = LiveFamily | (() => LiveFamily);

export function instantiateFamily(source: LiveFamilySource): LiveFamily {
  return typeof source === 'function' ? source() : source;
}
