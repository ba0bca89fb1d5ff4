// The catalog covers exactly the protocol's requests, every forwarded entry
// says why, and the framework's closed sets are used consistently.

import { describe, expect, it } from 'vitest';
import { Catalog, CATALOG_ENTRIES } from '../../mappings/catalog/index.ts';
import {
  STATUS_ACCESS_DENIED,
  STATUS_INVALID_HANDLE,
  STATUS_INVALID_PARAMETER,
  STATUS_NO_MEMORY,
  STATUS_NOT_IMPLEMENTED,
  STATUS_NOT_SUPPORTED,
  STATUS_OBJECT_NAME_COLLISION,
  STATUS_OBJECT_NAME_INVALID,
  STATUS_OBJECT_NAME_NOT_FOUND,
  STATUS_TOO_MANY_OPENED_FILES,
  STATUS_WAS_LOCKED,
} from '../../mappings/ntstatus.ts';
import {
  CatalogError,
  FAMILIES,
  MISSING_PRIMITIVES,
  PRIMITIVE_CALLS,
  REASON_CATEGORIES,
  validateCatalog,
  type ForwardedEntry,
} from '../../mappings/translator.ts';
import { loadProtocol } from '../../requests/protocol.ts';
import * as fs from 'node:fs';
import * as path from 'node:path';

const protocol = loadProtocol('wine-8.0');
const names = protocol.requests.map((r) => r.name);

describe('translation catalog', () => {
  it('has exactly one entry per Wine 8.0 request (278, same names)', () => {
    expect(names.length).toBe(278);
    expect(CATALOG_ENTRIES.length).toBe(278);
    expect(new Set(CATALOG_ENTRIES.map((e) => e.request))).toEqual(new Set(names));
    const catalog = new Catalog(names);
    expect(catalog.entries().map((e) => e.request)).toEqual(names);
  });

  it('passes its own validation, and the validation catches missing, extra and reasonless entries', () => {
    expect(validateCatalog(CATALOG_ENTRIES, names)).toEqual([]);
    const withoutSelect = CATALOG_ENTRIES.filter((e) => e.request !== 'select');
    expect(validateCatalog(withoutSelect, names)).toEqual(['select: no catalog entry']);
    const reasonless = CATALOG_ENTRIES.map((e) => (e.request === 'select' ? ({ ...e, reason: undefined } as unknown as ForwardedEntry) : e));
    expect(validateCatalog(reasonless, names)).toEqual(['select: forwarded without a known reason category']);
    expect(validateCatalog(CATALOG_ENTRIES, [...names, 'made_up'])).toEqual(['made_up: no catalog entry']);
    expect(() => new Catalog(names.slice(1))).toThrow(CatalogError);
    try {
      new Catalog(names.slice(1));
    } catch (error) {
      expect((error as CatalogError).code).toBe('WK_CATALOG_INVALID');
      expect((error as CatalogError).problems).toEqual(['new_process: not a request of the protocol']);
    }
  });

  it('gives every forwarded entry a reason from the closed set with a specific one-line detail', () => {
    const details = new Set<string>();
    for (const entry of CATALOG_ENTRIES) {
      if (entry.status !== 'forwarded') continue;
      expect(Object.keys(REASON_CATEGORIES)).toContain(entry.reason.category);
      expect(entry.reason.detail.length).toBeGreaterThan(20);
      expect(entry.reason.detail).not.toMatch(/\n/);
      for (const m of entry.reason.missing ?? []) expect(Object.keys(MISSING_PRIMITIVES)).toContain(m);
      if (entry.reason.category === 'missing-primitive') expect(entry.reason.missing?.length).toBeGreaterThan(0);
      details.add(entry.reason.detail);
    }
    // Specific: no detail is copy-pasted across requests.
    const forwarded = CATALOG_ENTRIES.filter((e) => e.status === 'forwarded').length;
    expect(details.size).toBe(forwarded);
  });

  it('marks as translated exactly the requests with a tested translator (the atoms, the registry, directories/symlinks, object security and mutexes)', () => {
    const translated = CATALOG_ENTRIES.filter((e) => e.status === 'translated');
    expect(translated.map((e) => e.request).sort()).toEqual(
      ['add_atom', 'delete_atom', 'find_atom', 'get_atom_information', 'create_key', 'open_key', 'delete_key', 'flush_key', 'enum_key', 'set_key_value', 'get_key_value', 'enum_key_value', 'delete_key_value', 'rename_key',
        'load_registry', 'save_registry', 'unload_registry', 'set_registry_notification',
        'create_directory', 'open_directory', 'get_directory_entry', 'create_symlink', 'open_symlink', 'query_symlink', 'get_security_object', 'set_security_object',
        'create_mutex', 'open_mutex', 'release_mutex', 'query_mutex'].sort(),
    );
    const testDir = path.dirname(new URL(import.meta.url).pathname);
    const testsOf: Record<string, string> = { atoms: 'atoms.test.ts', registry: 'registry.test.ts', 'directories/symlinks/objects': 'namespace.test.ts', 'tokens/security': 'security.test.ts', 'sync objects': 'mutex.test.ts' };
    // Translations that need server calls run only live: their tests drive real clients through the proxy.
    const liveOnlyTests = fs.readFileSync(path.join(testDir, '../proxy/translate-registry-live.test.ts'), 'utf8');
    for (const entry of translated) {
      const tests = entry.needsServer ? liveOnlyTests : fs.readFileSync(path.join(testDir, testsOf[entry.family]), 'utf8');
      expect(tests).toContain(`${entry.request}()`);
    }
  });

  it('uses only primitives, families and categories of the closed sets', () => {
    for (const entry of CATALOG_ENTRIES) {
      for (const p of entry.primitives) expect(PRIMITIVE_CALLS).toContain(p);
      expect(FAMILIES).toContain(entry.family);
      expect(entry.domains.length).toBeGreaterThan(0);
    }
  });

  it("names every primitive call of docs/primitives.md (the union matches the contract's calls)", () => {
    const doc = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), '../../docs/primitives.md'), 'utf8');
    for (const call of PRIMITIVE_CALLS) expect(doc).toContain(`\`${call}`);
  });

  it('uses the NTSTATUS values of the generated protocol', () => {
    const expected: Array<[string, number]> = [
      ['INVALID_HANDLE', STATUS_INVALID_HANDLE],
      ['INVALID_PARAMETER', STATUS_INVALID_PARAMETER],
      ['NO_MEMORY', STATUS_NO_MEMORY],
      ['ACCESS_DENIED', STATUS_ACCESS_DENIED],
      ['OBJECT_NAME_INVALID', STATUS_OBJECT_NAME_INVALID],
      ['OBJECT_NAME_NOT_FOUND', STATUS_OBJECT_NAME_NOT_FOUND],
      ['OBJECT_NAME_COLLISION', STATUS_OBJECT_NAME_COLLISION],
      ['NOT_SUPPORTED', STATUS_NOT_SUPPORTED],
      ['NOT_IMPLEMENTED', STATUS_NOT_IMPLEMENTED],
      ['TOO_MANY_OPENED_FILES', STATUS_TOO_MANY_OPENED_FILES],
      ['WAS_LOCKED', STATUS_WAS_LOCKED],
    ];
    for (const [name, value] of expected) expect(protocol.statusName(value)).toBe(name);
  });
});
