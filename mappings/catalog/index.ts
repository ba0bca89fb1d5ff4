// The catalog: one entry per request type of the protocol, translated or
// forwarded with its reason. The family files hold the facts; this module
// assembles them and checks them against the protocol's request list.

import { CatalogError, validateCatalog, type Translator } from '../translator.ts';
import { ATOM_ENTRIES } from './atoms.ts';
import { FILE_ENTRIES } from './files.ts';
import { MEMORY_ENTRIES } from './memory.ts';
import { OBJECT_ENTRIES } from './objects.ts';
import { PROCESS_ENTRIES } from './processes.ts';
import { REGISTRY_ENTRIES } from './registry.ts';
import { SECURITY_ENTRIES } from './security.ts';
import { SYNC_ENTRIES } from './sync.ts';
import { USER_ENTRIES } from './user.ts';

/** Every entry, in family-file order. */
export const CATALOG_ENTRIES: readonly Translator[] = [
  ...PROCESS_ENTRIES,
  ...SYNC_ENTRIES,
  ...FILE_ENTRIES,
  ...REGISTRY_ENTRIES,
  ...ATOM_ENTRIES,
  ...OBJECT_ENTRIES,
  ...MEMORY_ENTRIES,
  ...USER_ENTRIES,
  ...SECURITY_ENTRIES,
];

/** The catalog of one protocol version: entries by request name, checked complete and consistent. */
export class Catalog {
  readonly byName: ReadonlyMap<string, Translator>;

  constructor(
    readonly requestNames: readonly string[],
    entries: readonly Translator[] = CATALOG_ENTRIES,
  ) {
    const problems = validateCatalog(entries, requestNames);
    if (problems.length) throw new CatalogError(problems);
    this.byName = new Map(entries.map((e) => [e.request, e]));
  }

  /** The entries in protocol (request code) order. */
  entries(): Translator[] {
    return this.requestNames.map((name) => this.byName.get(name)!);
  }

  get(name: string): Translator | undefined {
    return this.byName.get(name);
  }
}
