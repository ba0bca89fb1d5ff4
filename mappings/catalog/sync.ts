// Waitable objects (server/event.c, mutex.c, semaphore.c, timer.c,
// completion.c and select in thread.c). Their state is a few words of data;
// what the primitives cannot express is waiting: select waits on up to 64
// objects of any kind at once (any or all), signals one while waiting on
// another, is interrupted by APCs, and each of these objects wakes its
// waiters when its state changes. A primitive lock waits on one object and
// only for exclusive or shared ownership. (A mutex comes closest: abandonment
// is -EOWNERDEAD. But it is owned by a thread, recursive, and waited on
// through select together with other objects.) So the whole family must be
// forwarded until a wait primitive exists, and it moves as one domain.
// Exception: mutexes. Their ownership is the primitive lock held by the
// owning thread's handle, abandonment is -EOWNERDEAD, and a select on one
// mutex alone is a lock wait; they are translated (docs/mutexes.md), and
// the domain stays split until the others follow.

import { createMutex, openMutex, queryMutexEntry, releaseMutexEntry } from '../sync/mutexes.ts';
import type { Translator } from '../translator.ts';
import { family, P } from './define.ts';

const sync = family('sync objects', ['sync-objects']);
const timer = family('timers', ['sync-objects']);
const completion = family('completion ports', ['sync-objects']);

const waitable = ['wait-multiple', 'signal-wakeup'] as const;

export const SYNC_ENTRIES: Translator[] = [
  sync('select', 'missing-primitive', 'waits for any or all of up to 64 objects, signal-and-wait, keyed-event wait/release, with timeout and alertable APC delivery', { missing: waitable, uses: [P.lock] }),
  sync('create_event', 'missing-primitive', 'the event is a word of data, but setting it must wake select calls that wait on it among other objects', { missing: waitable, uses: [P.object, P.acl], domains: ['sync-objects', 'object-namespace'] }),
  sync('event_op', 'missing-primitive', 'set, reset or pulse an event: pulse wakes the current waiters and resets, which needs the waiter list', { missing: ['signal-wakeup'], uses: [P.object, P.lock] }),
  sync('query_event', 'shared-state', 'reads the manual-reset flag and state: getdata, once events live in the primitives', { uses: [P.read] }),
  sync('open_event', 'shared-state', 'opens an event by name in the object namespace; the event itself is forwarded', { uses: [P.read], domains: ['sync-objects', 'object-namespace'] }),
  sync('create_keyed_event', 'missing-primitive', 'keyed events pair a waiting thread with a releasing thread by key, through select', { missing: waitable, uses: [P.object], domains: ['sync-objects', 'object-namespace'] }),
  sync('open_keyed_event', 'shared-state', 'opens a keyed event by name; the keyed event itself is forwarded', { uses: [P.read], domains: ['sync-objects', 'object-namespace'] }),
  // Mutexes are translated (mappings/sync/mutexes.ts, docs/mutexes.md); a select on one proxy mutex is answered by selectOnMutex.
  createMutex,
  releaseMutexEntry,
  openMutex,
  queryMutexEntry,
  sync('create_semaphore', 'missing-primitive', 'a counter whose release must wake as many select waiters as it adds', { missing: waitable, uses: [P.object], domains: ['sync-objects', 'object-namespace'] }),
  sync('release_semaphore', 'missing-primitive', 'adds to the count (STATUS_SEMAPHORE_LIMIT_EXCEEDED over max) and wakes waiters', { missing: ['signal-wakeup'], uses: [P.object, P.lock] }),
  sync('query_semaphore', 'shared-state', 'reads current and maximum count: getdata, once semaphores live in the primitives', { uses: [P.read] }),
  sync('open_semaphore', 'shared-state', 'opens a semaphore by name; the semaphore itself is forwarded', { uses: [P.read], domains: ['sync-objects', 'object-namespace'] }),

  timer('create_timer', 'missing-primitive', 'a waitable timer signals itself when its deadline passes and wakes select waiters', { missing: ['timer', ...waitable], uses: [P.object], domains: ['sync-objects', 'object-namespace'] }),
  timer('open_timer', 'shared-state', 'opens a timer by name; the timer itself is forwarded', { uses: [P.read], domains: ['sync-objects', 'object-namespace'] }),
  timer('set_timer', 'missing-primitive', 'arms a one-shot or periodic deadline that signals the timer and queues a completion APC to the setting thread', { missing: ['timer', 'signal-wakeup'] }),
  timer('cancel_timer', 'missing-primitive', 'disarms the deadline and drops the queued APC', { missing: ['timer'] }),
  timer('get_timer_info', 'shared-state', 'reads remaining time and signalled state: data of a forwarded timer', { uses: [P.read] }),

  completion('create_completion', 'missing-primitive', 'an I/O completion port is a packet queue threads block on (remove_completion waits through select)', { missing: ['message-queue', 'wait-multiple'], uses: [P.object], domains: ['sync-objects', 'object-namespace'] }),
  completion('open_completion', 'shared-state', 'opens a completion port by name; the port itself is forwarded', { uses: [P.read], domains: ['sync-objects', 'object-namespace'] }),
  completion('add_completion', 'missing-primitive', 'posts a packet and wakes one waiting thread', { missing: ['message-queue'] }),
  completion('remove_completion', 'missing-primitive', 'takes the next packet, or makes the caller wait on the port', { missing: ['message-queue', 'wait-multiple'] }),
  completion('query_completion', 'shared-state', 'reads the queue depth of a forwarded port', { uses: [P.read] }),
  completion('set_completion_info', 'shared-state', 'binds a file handle to a port and key, stored with the forwarded fd object', { uses: [P.object], domains: ['sync-objects', 'fd-objects'] }),
  completion('add_fd_completion', 'device/ioctl/async', 'posts a completion for an fd whose I/O finished synchronously', { missing: ['async-io', 'message-queue'], domains: ['sync-objects', 'fd-objects'] }),
];
