// Registry change notification (RegNotifyChangeKeyValue → set_registry_notification)
// for the proxy-owned registry, live only. wineserver's semantics, kept here:
//  * a watch belongs to (process, key handle); a second request on the same
//    handle adds its event to the watch and keeps the first filter/subtree;
//  * the request resets the event and answers STATUS_PENDING;
//  * a change (touch_key) with a kind in the filter fires the watches of the
//    touched key, and of each ancestor whose watch covers the subtree; firing
//    sets every event of the watch and empties it (the watch stays);
//  * closing the watching handle fires the watch and removes it.
// The events are wineserver objects in the watcher's process: at request time
// the proxy takes its own duplicate of the event handle in that process
// (mappings/server-calls.ts holdEvent); firing sets and closes it through
// server calls made by the thread whose request caused the change, which
// reaches into another process's table when needed (setAndReleaseEvent).

import { holdEvent, setAndReleaseEvent, type HeldEvent } from '../server-calls.ts';
import type { ProxyHandleEntry } from '../handles.ts';
import { isPromise, type Awaitable, type TranslatedEntry, type TranslatedReply, type TranslationContext, type Translator } from '../translator.ts';
import type { RegistryStore } from './store.ts';
import * as S from './status.ts';
import { KEY_NOTIFY, liveKeyOfHandle, registryFor } from './translators.ts';
import { WinekernelError } from '../../errors/winekernel-error.ts';

/** A handle value as tables key it (the two low bits are the application's). */
const handleKey = (value: number) => ((value >>> 0) & ~3) >>> 0;

interface Watch {
  pid: number;
  hkey: number;
  key: number;
  subtree: boolean;
  filter: number;
  events: HeldEvent[];
}

export class NotificationError extends WinekernelError<'WK_NOTIFY_NO_SERVER'> {
  constructor() {
    super('WK_NOTIFY_NO_SERVER', "set_registry_notification is translated only live: it needs server calls (the caller's event)");
  }
}

/** The watches of one proxy (one owned registry). */
export class RegistryNotifications {
  /** Watches by watched key id. */
  private readonly byKey = new Map<number, Watch[]>();
  private count = 0;

  get watchCount(): number {
    return this.count;
  }

  /** The set_registry_notification translator. */
  readonly entry: TranslatedEntry<{ hkey: number; event: number; subtree: number; filter: number }, Record<string, never>> = {
    request: 'set_registry_notification',
    family: 'registry',
    status: 'translated',
    domains: ['registry'],
    primitives: ['object_open', 'getdata', 'lockobject', 'unlock'],
    serverHandleFields: ['event'],
    needsServer: true,
    translate: async (request, ctx) => {
      if (!ctx.server) throw new NotificationError();
      const { hkey, event, subtree, filter } = request.body;
      const found = await registryFor(ctx.session).run('read', (tx) => liveKeyOfHandle(ctx, tx, hkey, KEY_NOTIFY));
      if (!found.key) return { error: found.status, body: {} };
      const held = await holdEvent(ctx.server, ctx.pid, event);
      if ('error' in held) return { error: held.error, body: {} };
      const key = found.key.id;
      let list = this.byKey.get(key);
      if (!list) this.byKey.set(key, (list = []));
      const value = handleKey(hkey);
      let watch = list.find((w) => w.pid === ctx.pid && w.hkey === value);
      if (!watch) {
        watch = { pid: ctx.pid, hkey: value, key, subtree: subtree !== 0, filter: filter >>> 0, events: [] };
        list.unshift(watch);
        this.count++;
      }
      watch.events.push(held);
      return { error: S.STATUS_PENDING, body: {} };
    },
  };

  /**
   * Wraps a translator that may change the tree: the changes it committed
   * are journaled by the store and fire the matching watches, from the
   * calling thread, before its reply goes out.
   */
  wrap<E extends Translator>(entry: E): E {
    if (entry.status !== 'translated') return entry;
    const translate = entry.translate;
    return {
      ...entry,
      translate: (request: Parameters<typeof translate>[0], ctx: TranslationContext): Awaitable<TranslatedReply> => {
        const store = registryFor(ctx.session);
        if (this.count > 0) store.journalTouches();
        const reply = translate(request, ctx);
        // Without a watch to fire, a change answered at once is answered at once (no promise).
        return isPromise(reply) ? reply.then((done) => this.afterChange(ctx, store, done)) : this.afterChange(ctx, store, reply);
      },
    };
  }

  /** The reply of a tree-changing request, once the watches its changes match have fired. */
  private afterChange(ctx: TranslationContext, store: RegistryStore, reply: TranslatedReply): Awaitable<TranslatedReply> {
    const touches = store.takeTouches();
    if (touches.length && this.count > 0) return this.fire(ctx, touches).then(() => reply);
    return reply;
  }

  private async fire(ctx: TranslationContext, touches: { chain: number[]; change: number }[]): Promise<void> {
    const due: Watch[] = [];
    for (const touch of touches) {
      touch.chain.forEach((id, depth) => {
        for (const watch of this.byKey.get(id) ?? []) {
          if ((depth === 0 || watch.subtree) && touch.change & watch.filter && watch.events.length && !due.includes(watch)) due.push(watch);
        }
      });
    }
    for (const watch of due) await this.signal(ctx, watch);
  }

  private async signal(ctx: TranslationContext, watch: Watch): Promise<void> {
    const events = watch.events.splice(0);
    if (!ctx.server) return;
    for (const held of events) {
      try {
        await setAndReleaseEvent(ctx.server, ctx.pid, held);
      } catch (error) {
        ctx.log?.warn({ err: (error as Error).message, pid: held.pid }, 'could not signal a registry notification event');
      }
    }
  }

  /**
   * close_handle of a proxy key handle: its watch fires and goes
   * (key_close_handle). Plain when the handle had no watch (nearly every
   * close), so that the close is answered in the request's call stack.
   */
  keyHandleClosed(ctx: TranslationContext, value: number, entry: ProxyHandleEntry): Promise<void> | void {
    if (entry.object === undefined) return;
    const list = this.byKey.get(entry.object);
    const at = list?.findIndex((w) => w.pid === ctx.pid && w.hkey === handleKey(value)) ?? -1;
    if (!list || at < 0) return;
    const [watch] = list.splice(at, 1);
    if (!list.length) this.byKey.delete(entry.object);
    this.count--;
    return this.signal(ctx, watch);
  }

  /** A client process ended: its watches go with its handles (its events are gone with it). */
  processEnded(pid: number): void {
    for (const [key, list] of this.byKey) {
      const kept = list.filter((w) => w.pid !== pid);
      this.count -= list.length - kept.length;
      if (kept.length) this.byKey.set(key, kept);
      else this.byKey.delete(key);
    }
  }
}
