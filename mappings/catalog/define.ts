// Small builders that keep the catalog files readable: one line of facts per
// request type instead of a page of object literals.

import type {
  Family,
  ForwardedEntry,
  MissingPrimitive,
  PrimitiveCall,
  ReasonCategory,
  StateDomain,
} from '../translator.ts';

/** Groups of primitive calls a translation typically needs. */
export const P = {
  /** a named object holding the state: create or open, read, write, close */
  object: ['object_create', 'object_open', 'getdata', 'setdata', 'object_close'],
  /** read-only access to an existing object */
  read: ['object_open', 'size', 'getdata', 'object_close'],
  /** consistent updates across processes */
  lock: ['lockobject', 'unlock'],
  /** enumerating a namespace */
  list: ['object_list'],
  /** reading an object's full name back */
  name: ['namesize', 'getname'],
  /** removing a name / ending permanence */
  unlink: ['object_unlink'],
  /** the object's access rules */
  acl: ['setacl', 'getacl'],
  /** a unix fd kept with the object and handed back */
  fd: ['attach_native_file', 'get_native_file'],
  /** objects handed over when their process dies */
  cleanup: ['register_server', 'read_events'],
} as const satisfies Record<string, readonly PrimitiveCall[]>;

export interface ForwardOptions {
  missing?: readonly MissingPrimitive[];
  /** groups from P or single calls, flattened and de-duplicated */
  uses?: ReadonlyArray<readonly PrimitiveCall[] | PrimitiveCall>;
}

/** A family's builder: forwarded(request, category, detail, options). */
export function family(name: Family, domains: readonly StateDomain[]) {
  return (
    request: string,
    category: ReasonCategory,
    detail: string,
    options: ForwardOptions & { domains?: readonly StateDomain[] } = {},
  ): ForwardedEntry => {
    const primitives = [...new Set((options.uses ?? []).flatMap((u) => (typeof u === 'string' ? [u] : [...u])))];
    return {
      request,
      family: name,
      status: 'forwarded',
      primitives,
      domains: options.domains ?? domains,
      reason: options.missing?.length ? { category, missing: options.missing, detail } : { category, detail },
    };
  };
}
