// The object namespace wineserver builds at startup (Wine 8.0,
// server/directory.c: init_directories and create_session for session 0 and
// the default session 1), in the order it creates the entries: the order
// matters, since a directory lists entries of one hash bucket most recent
// first.
//
// Every entry is created permanent in the primitives. In Wine a few of them
// are temporary (\Sessions\0, \Sessions\1, \Windows, \Sessions\1\Windows,
// \Sessions\1\BaseNamedObjects) but stay alive because permanent entries
// inside them hold a reference to their parent; nothing a client can do
// through the translated requests makes those inner entries temporary, so
// "permanent" is the same lifetime.
//
// The entries of other types (devices, events, a keyed event, sections, the
// object types and the registry's root key \REGISTRY) are listed with their type names so that lookups and
// get_directory_entry see them as a client does; the objects themselves are
// wineserver's (docs/object-namespace.md, shared state).

import { addInitialEntry, KIND_DIRECTORY, KIND_OTHER, KIND_SYMLINK, setInitialTree, type NamespaceTxn } from './store.ts';

/** The session wineserver gives the processes it starts (default_session_id). */
export const DEFAULT_SESSION_ID = 1;

/** The object types of \ObjectTypes, in wineserver's type table order. */
export const OBJECT_TYPE_NAMES = [
  'Type', 'Directory', 'SymbolicLink', 'Token', 'Job', 'Process', 'Thread', 'DebugObject', 'Event', 'Mutant',
  'Semaphore', 'Timer', 'KeyedEvent', 'WindowStation', 'Desktop', 'Device', 'IoCompletion', 'File', 'Section', 'Key',
] as const;

type Step =
  | { dir: string; hash?: number }
  | { link: string; target: string | null }
  | { other: string; type: string };

function sessionSteps(id: number): Step[] {
  const steps: Step[] = [];
  if (id === 0) steps.push({ dir: '\\BaseNamedObjects' }, { dir: '\\Sessions' }, { dir: '\\Sessions\\BNOLINKS' });
  const session = `\\Sessions\\${id}`;
  steps.push({ dir: session }, { dir: `${session}\\DosDevices` });
  let bno: string;
  let windows: string;
  if (id === 0) {
    bno = '\\BaseNamedObjects';
    windows = '\\Windows';
    steps.push({ dir: windows }, { link: `${session}\\BaseNamedObjects`, target: bno }, { link: `${session}\\Windows`, target: windows });
  } else {
    // A larger hash table: this directory holds most named objects of the session.
    bno = `${session}\\BaseNamedObjects`;
    windows = `${session}\\Windows`;
    steps.push({ dir: bno, hash: 37 }, { dir: windows });
  }
  steps.push(
    { dir: `${windows}\\WindowStations` },
    { link: `${bno}\\Global`, target: '\\BaseNamedObjects' },
    { link: `${bno}\\Local`, target: bno },
    { link: `${bno}\\Session`, target: '\\Sessions\\BNOLINKS' },
    { link: `\\Sessions\\BNOLINKS\\${id}`, target: bno },
  );
  return steps;
}

/** Every entry of the startup tree, in creation order. */
export function initialSteps(): Step[] {
  const device = (name: string): Step => ({ other: `\\Device\\${name}`, type: 'Device' });
  return [
    { dir: '\\Driver' },
    { dir: '\\Device' },
    { dir: '\\ObjectTypes' },
    { dir: '\\KernelObjects' },
    { dir: '\\??' },
    { dir: '\\NLS' },
    device('NamedPipe'),
    device('MailSlot'),
    device('Null'),
    device('ConDrv'),
    device('Afd'),
    ...sessionSteps(0),
    ...sessionSteps(DEFAULT_SESSION_ID),
    ...OBJECT_TYPE_NAMES.map((t): Step => ({ other: `\\ObjectTypes\\${t}`, type: 'Type' })),
    { link: '\\DosDevices', target: '\\??' },
    { link: '\\??\\GLOBALROOT', target: null },
    { link: '\\??\\Global', target: '\\??' },
    { link: '\\??\\NUL', target: '\\Device\\Null' },
    { link: '\\??\\PIPE', target: '\\Device\\NamedPipe' },
    { link: '\\??\\MAILSLOT', target: '\\Device\\MailSlot' },
    { link: '\\??\\CONIN$', target: '\\Device\\ConDrv\\CurrentIn' },
    { link: '\\??\\CONOUT$', target: '\\Device\\ConDrv\\CurrentOut' },
    { link: '\\??\\CON', target: '\\Device\\ConDrv\\Console' },
    ...['LowMemoryCondition', 'LowPagedPoolCondition', 'LowNonPagedPoolCondition', 'HighMemoryCondition', 'HighPagedPoolCondition', 'HighNonPagedPoolCondition'].map(
      (name): Step => ({ other: `\\KernelObjects\\${name}`, type: 'Event' }),
    ),
    { other: '\\KernelObjects\\CritSecOutOfMemoryEvent', type: 'KeyedEvent' },
    { other: '\\NLS\\NlsSectionLANG_INTL', type: 'Section' },
    { other: '\\KernelObjects\\__wine_user_shared_data', type: 'Section' },
    // The registry's root key is linked into "\" by init_registry, which runs after init_directories.
    { other: '\\REGISTRY', type: 'Key' },
  ];
}

function populate(txn: NamespaceTxn): void {
  for (const step of initialSteps()) {
    if ('dir' in step) addInitialEntry(txn, step.dir, { kind: KIND_DIRECTORY, type: 'Directory', hashSize: step.hash, sd: null });
    else if ('link' in step) {
      addInitialEntry(txn, step.link, {
        kind: KIND_SYMLINK,
        type: 'SymbolicLink',
        target: step.target === null ? Buffer.alloc(0) : Buffer.from(step.target, 'utf16le'),
        rootLink: step.target === null,
        sd: null,
      });
    } else addInitialEntry(txn, step.other, { kind: KIND_OTHER, type: step.type, sd: null });
  }
}

setInitialTree(populate);
