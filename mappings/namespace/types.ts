// The object types that can have a name in the object namespace: their type
// names (what get_directory_entry reports) and generic mappings (how
// GENERIC_READ etc. become specific rights before an access check). Values
// from Wine 8.0's type descriptors (server/directory.c, symlink.c, event.c,
// mutex.c, semaphore.c, timer.c, completion.c, process.c (jobs), mapping.c,
// device.c, winstation.c); the table itself is ours. Directory, SymbolicLink,
// Event and Mutant are exercised against real wineserver by the tests.

import type { GenericMapping } from '../security/descriptor.ts';

export interface ObjectTypeInfo {
  /** The type name as wineserver reports it ("Directory", "Event", ...). */
  name: string;
  mapping: GenericMapping;
}

const STANDARD_RIGHTS_READ = 0x20000;
const STANDARD_RIGHTS_WRITE = 0x20000;
const STANDARD_RIGHTS_EXECUTE = 0x20000;
const STANDARD_RIGHTS_REQUIRED = 0xf0000;
const SYNCHRONIZE = 0x100000;

export const DIRECTORY_QUERY = 0x1;
export const DIRECTORY_TRAVERSE = 0x2;
export const DIRECTORY_CREATE_OBJECT = 0x4;
export const DIRECTORY_CREATE_SUBDIRECTORY = 0x8;
export const DIRECTORY_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | 0xf;
export const SYMBOLIC_LINK_QUERY = 0x1;
export const SYMBOLIC_LINK_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | 0x1;

const type = (name: string, read: number, write: number, exec: number, all: number): ObjectTypeInfo => ({ name, mapping: { read, write, exec, all } });

export const DIRECTORY_TYPE = type(
  'Directory',
  STANDARD_RIGHTS_READ | DIRECTORY_TRAVERSE | DIRECTORY_QUERY,
  STANDARD_RIGHTS_WRITE | DIRECTORY_CREATE_SUBDIRECTORY | DIRECTORY_CREATE_OBJECT,
  STANDARD_RIGHTS_EXECUTE | DIRECTORY_TRAVERSE | DIRECTORY_QUERY,
  DIRECTORY_ALL_ACCESS,
);
export const SYMLINK_TYPE = type('SymbolicLink', STANDARD_RIGHTS_READ | SYMBOLIC_LINK_QUERY, STANDARD_RIGHTS_WRITE, STANDARD_RIGHTS_EXECUTE | SYMBOLIC_LINK_QUERY, SYMBOLIC_LINK_ALL_ACCESS);

/** Types of objects other families create in the namespace (forwarded today, or translated later). */
const OTHER_TYPES: ObjectTypeInfo[] = [
  type('Event', STANDARD_RIGHTS_READ | 0x1, STANDARD_RIGHTS_WRITE | 0x2, STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x3),
  type('Mutant', STANDARD_RIGHTS_READ | 0x1, STANDARD_RIGHTS_WRITE, STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x1),
  type('Semaphore', STANDARD_RIGHTS_READ | 0x1, STANDARD_RIGHTS_WRITE | 0x2, STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x3),
  type('Timer', STANDARD_RIGHTS_READ | 0x1, STANDARD_RIGHTS_WRITE | 0x2, STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x3),
  type('KeyedEvent', STANDARD_RIGHTS_READ | 0x1, STANDARD_RIGHTS_WRITE | 0x2, STANDARD_RIGHTS_EXECUTE, STANDARD_RIGHTS_REQUIRED | 0x3),
  type('IoCompletion', STANDARD_RIGHTS_READ | 0x1, STANDARD_RIGHTS_WRITE | 0x2, STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x3),
  type('Job', STANDARD_RIGHTS_READ | 0x4, STANDARD_RIGHTS_WRITE | 0x8 | 0x2 | 0x1, STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x3f),
  type('Section', STANDARD_RIGHTS_READ | 0x1 | 0x4, STANDARD_RIGHTS_WRITE | 0x2, STANDARD_RIGHTS_EXECUTE | 0x8, STANDARD_RIGHTS_REQUIRED | 0x1f),
  // FILE_GENERIC_READ / _WRITE / _EXECUTE, FILE_ALL_ACCESS
  type('Device', STANDARD_RIGHTS_READ | SYNCHRONIZE | 0x1 | 0x8 | 0x80, STANDARD_RIGHTS_WRITE | SYNCHRONIZE | 0x2 | 0x4 | 0x10 | 0x100, STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE | 0x80 | 0x20, STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x1ff),
  type('Type', STANDARD_RIGHTS_READ, STANDARD_RIGHTS_WRITE, STANDARD_RIGHTS_EXECUTE, STANDARD_RIGHTS_REQUIRED | 0x1),
  type('WindowStation', STANDARD_RIGHTS_READ | 0x1 | 0x2 | 0x100 | 0x200, STANDARD_RIGHTS_WRITE | 0x4 | 0x8 | 0x10, STANDARD_RIGHTS_EXECUTE | 0x20 | 0x40, STANDARD_RIGHTS_REQUIRED | 0x37f),
];

const BY_NAME = new Map<string, ObjectTypeInfo>([DIRECTORY_TYPE, SYMLINK_TYPE, ...OTHER_TYPES].map((t) => [t.name, t]));

/** wineserver's fallback mapping (no_type): standard rights only. */
const NO_TYPE_MAPPING = { read: STANDARD_RIGHTS_READ, write: STANDARD_RIGHTS_WRITE, exec: STANDARD_RIGHTS_EXECUTE, all: STANDARD_RIGHTS_REQUIRED };

/** The type of that name; an unknown name gets wineserver's fallback mapping. */
export function objectType(name: string): ObjectTypeInfo {
  return BY_NAME.get(name) ?? { name, mapping: NO_TYPE_MAPPING };
}
