// The atom bridge (docs/translation.md, "Live atoms: the atom bridge"): the
// proxy owns the global atom table for the session (mappings/atoms.ts on the
// primitives), while wineserver keeps serving window classes and window
// properties, which in Wine live in the same table. Every request that carries
// an atom between a client and wineserver goes through here: it is sent to
// wineserver by a server call with the proxy's atom numbers rewritten to
// wineserver's, and its reply rewritten back. Clients only ever see the
// proxy's numbers.
//
// The pairing: a proxy atom and a wineserver atom with the same name (case-
// insensitively, as both tables compare) are bridged. A bridged proxy atom
// records its server atom (AtomRecord.server), and the bridge holds exactly
// one reference of its own on the server atom, so that wineserver cannot free
// the number and give it to another name while the pair exists. Bridging
// happens when wineserver puts a name into its table (create_class, a
// property set by name), when a request needs wineserver to take a reference
// on a proxy atom (a class registered by atom, SetClassLong(GCW_ATOM), a
// property set by atom), and when a reply names a server atom the bridge has
// not seen (its name is asked from wineserver).
//
// Reference counts. In Wine, one count covers add_atom's references and those
// classes (two each: atom and base atom) and properties (one) hold. Here the
// proxy record counts add_atom's references and wineserver's count covers the
// classes and properties plus the bridge's own reference, so an atom's count
// is `record.count + serverCount - 1`, read from wineserver (a server call)
// whenever a client asks for it. A delete_atom beyond add_atom's references
// (Wine would take a class's) lowers the proxy's count below zero rather
// than touching wineserver's, whose references then always match what its
// classes and properties took, so the bridge's own reference is never
// released by anyone but the bridge. An atom exists while the sum is
// positive; wineserver drops its references without telling anyone (a window
// destroyed, a process gone with its classes), so a bridged atom with no
// add_atom reference left is checked when a client looks at it (find_atom,
// get_atom_information, delete_atom, a request that would grab it) and right
// after the requests that release references (destroy_class,
// remove_window_property, set_class_info changing the atom): if the sum is
// zero, the pair is dropped, freeing both numbers.
//
// Every operation of the bridge (and the four atom requests) runs alone per
// proxy (`exclusive`), so no pairing changes between a rewritten request and
// wineserver's answer to it. Only live: the server calls need ctx.server.

import {
  ATOM_TRANSLATORS,
  MIN_STRING_ATOM,
  MAX_ATOM_NAME_UNITS,
  atomInformation,
  atomNameBytes,
  unicodeValue,
  withAtomTable,
  type AtomRecord,
} from './atoms.ts';
import { STATUS_INVALID_HANDLE, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS, STATUS_WAS_LOCKED } from './ntstatus.ts';
import type { PrimitiveCall, ServerChannel, TranslatedEntry, TranslatedReply, TranslationContext } from './translator.ts';
import type { PropertyData } from '../requests/kinds/arrays.ts';
import type { ElementList } from '../requests/kinds/element-list.ts';
import type { UnicodeStr } from '../requests/kinds/text.ts';
import { WinekernelError } from '../errors/winekernel-error.ts';

/**
 * A server atom no table ever holds (wineserver's string atoms end at
 * 0xffff): what a request carries for a proxy atom wineserver cannot know,
 * so that wineserver fails it as Wine fails an unknown atom.
 */
export const NO_SERVER_ATOM = 0x10000;

/** SET_CLASS_ATOM of set_class_info's flags (protocol.def). */
const SET_CLASS_ATOM = 0x0001;

export class AtomBridgeError extends WinekernelError<'WK_ATOM_BRIDGE_NO_SERVER' | 'WK_ATOM_BRIDGE_SERVER_REFUSED'> {}

/**
 * The requests that carry atoms between a client and wineserver (atom_t
 * fields, property lists, names wineserver adds to its table), with how each
 * is bridged. docs/translation.md lists them; the coverage report prints them.
 */
export const ATOM_BRIDGED_REQUESTS: Readonly<Record<string, string>> = {
  create_class: 'class atom of a class registered by atom rewritten (wineserver takes references); reply atom rewritten; the class name and base name are paired',
  destroy_class: 'class atom (when no name) rewritten; afterwards the class atom is dropped if nothing else holds it',
  set_class_info: 'new class atom (SET_CLASS_ATOM) rewritten; reply old_atom and base_atom rewritten',
  create_window: 'class atom (when no class name) rewritten',
  get_window_children: 'class atom filter (when no class name) rewritten',
  get_window_info: "reply atom (the window class's base atom) rewritten",
  set_window_property: 'property atom (when no name) rewritten; a property name is paired once wineserver added it',
  get_window_property: 'property atom (when no name) rewritten',
  remove_window_property: 'property atom (when no name) rewritten; afterwards the atom is dropped if nothing else holds it',
  get_window_properties: 'the atom of every listed property rewritten',
};

/** Requests that use the table only inside wineserver: forwarded live as they are. */
export const ATOM_SERVER_INTERNAL_REQUESTS: Readonly<Record<string, string>> = {
  destroy_window: "releases its properties' atoms (seen through wineserver's counts)",
  get_desktop_window: "adds 'Message' for the message window (user32 registers the Message class too, which pairs it)",
};

const TABLE_PRIMITIVES: readonly PrimitiveCall[] = ['object_create', 'object_open', 'lockobject', 'unlock', 'size', 'getdata', 'setdata', 'object_list', 'object_unlink', 'object_close'];

type Body = Record<string, unknown>;

interface ServerAtom {
  count: number;
  name: Buffer;
}

function unicodeBytes(value: unknown): Buffer {
  return atomNameBytes((value ?? null) as UnicodeStr | null);
}

const isStringAtom = (atom: number) => atom >>> 0 >= MIN_STRING_ATOM;

/** One per proxy (one wineserver): the pairing of server atoms to proxy atoms and the lock over both tables. */
export class AtomBridge {
  /** Server atom → proxy atom, for every bridged pair (the records hold the other direction). */
  private readonly byServer = new Map<number, number>();
  private tail: Promise<unknown> = Promise.resolve();

  /** The four atom requests and every bridged request, as live catalog entries. */
  entries(): TranslatedEntry[] {
    return [...this.atomEntries(), ...this.bridgedEntries()];
  }

  /** Runs `fn` once every earlier operation of the bridge (of any thread of any client) has finished. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  // -------------------------------------------------------------------------
  // wineserver's side

  private server(ctx: TranslationContext): ServerChannel {
    if (!ctx.server) throw new AtomBridgeError('WK_ATOM_BRIDGE_NO_SERVER', 'the atom bridge needs server calls (live translation only)');
    return ctx.server;
  }

  /** wineserver's count and name of one of its atoms, or null if it has no such atom. */
  private async serverAtom(ctx: TranslationContext, atom: number): Promise<ServerAtom | null> {
    const reply = await this.server(ctx).call('get_atom_information', { atom }, MAX_ATOM_NAME_UNITS * 2);
    if (reply.error !== STATUS_SUCCESS) return null;
    const body = reply.body as { count: number; name: UnicodeStr };
    return { count: body.count, name: unicodeBytes(body.name) };
  }

  /** The bridge's own reference on `name` in wineserver's table: add_atom, answering the server atom. */
  private async serverHold(ctx: TranslationContext, name: Buffer): Promise<number> {
    const reply = await this.server(ctx).call('add_atom', { name: unicodeValue(name) });
    if (reply.error !== STATUS_SUCCESS) {
      throw new AtomBridgeError('WK_ATOM_BRIDGE_SERVER_REFUSED', `wineserver refused add_atom for a bridged name: status ${(reply.error >>> 0).toString(16)}`);
    }
    return (reply.body as { atom: number }).atom >>> 0;
  }

  private async serverRelease(ctx: TranslationContext, atom: number): Promise<void> {
    await this.server(ctx).call('delete_atom', { atom });
  }

  // -------------------------------------------------------------------------
  // Pairs

  private async record(ctx: TranslationContext, atom: number): Promise<AtomRecord | null> {
    return (await withAtomTable(ctx.session, 'read', false, (table) => table.get(atom))) ?? null;
  }

  /** The pair for `name`: the proxy atom (created without a reference if new) and wineserver's, holding the bridge's reference there. */
  private async bridgeName(ctx: TranslationContext, name: Buffer): Promise<{ atom: number; server: number } | null> {
    const known = await withAtomTable(ctx.session, 'read', false, (table) => {
      const found = table.find(name);
      return found.atom ? table.get(found.atom) : null;
    });
    if (known?.server) return { atom: known.atom, server: known.server };
    const server = await this.serverHold(ctx, name);
    const paired = this.byServer.get(server);
    if (paired !== undefined) {
      // wineserver's atom for this name is paired already, so the proxy has the name: one hold is enough.
      await this.serverRelease(ctx, server);
      return { atom: paired, server };
    }
    const bridged = await withAtomTable(ctx.session, 'write', true, (table) => table.bridge(name, server));
    if (!bridged || bridged.status !== STATUS_SUCCESS) {
      // The proxy table is full: wineserver keeps the name, clients cannot be given a number for it.
      await this.serverRelease(ctx, server);
      ctx.log?.warn({ status: bridged?.status }, 'atom bridge: no proxy atom for a name wineserver holds');
      return null;
    }
    this.byServer.set(server, bridged.atom);
    return { atom: bridged.atom, server };
  }

  /**
   * A bridged atom with no add_atom reference left: is anything in wineserver
   * (a class, a property) still holding it? If not, it is gone for everyone:
   * the bridge's reference is released and the pair dropped. True if dropped.
   */
  private async dropIfUnused(ctx: TranslationContext, record: AtomRecord): Promise<boolean> {
    const server = await this.serverAtom(ctx, record.server);
    if (server && record.count + server.count - 1 > 0) return false;
    await this.unpair(ctx, record.atom, record.server, server !== null);
    return true;
  }

  private async unpair(ctx: TranslationContext, atom: number, server: number, release: boolean): Promise<void> {
    if (release) await this.serverRelease(ctx, server);
    this.byServer.delete(server);
    await withAtomTable(ctx.session, 'write', false, (table) => {
      const record = table.get(atom);
      if (!record || record.server !== server) return;
      record.server = 0;
      table.store(record);
    });
  }

  /** After a request that may have released wineserver's last reference on a proxy atom. */
  private async dropIfUnusedAtom(ctx: TranslationContext, atom: number): Promise<void> {
    if (!isStringAtom(atom)) return;
    const record = await this.record(ctx, atom);
    if (record?.server && record.count <= 0) await this.dropIfUnused(ctx, record);
  }

  /** Proxy atom → server atom, for a request in which wineserver takes a reference on it (pairing it if needed). */
  private async toServerGrabbed(ctx: TranslationContext, atom: number): Promise<number> {
    if (!isStringAtom(atom)) return atom;
    const record = await this.record(ctx, atom);
    if (!record) return NO_SERVER_ATOM;
    if (record.server) {
      if (record.count <= 0 && (await this.dropIfUnused(ctx, record))) return NO_SERVER_ATOM;
      return record.server;
    }
    return (await this.bridgeName(ctx, record.name))?.server ?? NO_SERVER_ATOM;
  }

  /**
   * Proxy atom → server atom, for a request that only compares it with the
   * atoms of classes or properties: an unpaired atom is held by none of
   * them, so it becomes an atom wineserver matches with nothing.
   */
  private async toServerLooked(ctx: TranslationContext, atom: number): Promise<number> {
    if (!isStringAtom(atom)) return atom;
    return (await this.record(ctx, atom))?.server || NO_SERVER_ATOM;
  }

  /** Server atom in a reply → proxy atom (pairing its name, asked from wineserver, if new). */
  private async fromServer(ctx: TranslationContext, atom: number): Promise<number> {
    if (!isStringAtom(atom)) return atom;
    const known = this.byServer.get(atom >>> 0);
    if (known !== undefined) return known;
    const server = await this.serverAtom(ctx, atom);
    if (!server) {
      ctx.log?.warn({ atom }, 'atom bridge: a reply names a server atom that no longer exists');
      return 0;
    }
    return (await this.bridgeName(ctx, server.name))?.atom ?? 0;
  }

  // -------------------------------------------------------------------------
  // The four atom requests, answered by the proxy

  private atomEntries(): TranslatedEntry[] {
    const base = new Map(ATOM_TRANSLATORS.map((entry) => [entry.request, entry as TranslatedEntry]));
    const entry = (request: string, translate: TranslatedEntry['translate']): TranslatedEntry => ({ ...base.get(request)!, translate: (req, ctx) => this.exclusive(async () => translate(req, ctx)) });
    return [
      // add_atom needs no server call (a bridged atom just gains an add_atom reference).
      entry('add_atom', (request, ctx) => base.get('add_atom')!.translate(request, ctx)),
      entry('delete_atom', (request, ctx) => this.deleteAtom(ctx, request.body.atom >>> 0)),
      entry('find_atom', (request, ctx) => this.findAtom(ctx, unicodeBytes(request.body.name))),
      entry('get_atom_information', (request, ctx) => this.atomInformation(ctx, request.body.atom >>> 0, request.replySize)),
    ];
  }

  private async deleteAtom(ctx: TranslationContext, atom: number): Promise<TranslatedReply> {
    const done = await withAtomTable(ctx.session, 'write', false, (table) => {
      const record = table.get(atom);
      if (!record) return { status: STATUS_INVALID_HANDLE };
      if (record.pinned) return { status: STATUS_WAS_LOCKED };
      if (record.count > 0) return { status: table.release(atom), record: { ...record, count: record.count - 1 } };
      return { status: STATUS_SUCCESS, serverHeld: record };
    });
    if (!done) return { error: STATUS_OBJECT_NAME_NOT_FOUND, body: {} };
    if (done.record?.server && done.record.count <= 0) await this.dropIfUnused(ctx, done.record);
    if (done.serverHeld) {
      // Only classes and properties hold the atom. In Wine, delete_atom takes
      // one of their references away; here the proxy's count goes below zero
      // instead (the atom's count is the sum), leaving wineserver's references,
      // and the bridge's, as they are.
      const record = done.serverHeld;
      const server = await this.serverAtom(ctx, record.server);
      const count = server ? record.count + server.count - 1 : 0;
      if (count <= 0) {
        await this.unpair(ctx, record.atom, record.server, server !== null);
        return { error: STATUS_INVALID_HANDLE, body: {} };
      }
      if (count === 1) await this.unpair(ctx, record.atom, record.server, true);
      else await withAtomTable(ctx.session, 'write', false, (table) => table.store({ ...record, count: record.count - 1 }));
    }
    return { error: done.status, body: {} };
  }

  private async findAtom(ctx: TranslationContext, name: Buffer): Promise<TranslatedReply> {
    const found = await withAtomTable(ctx.session, 'read', false, (table) => {
      const result = table.find(name);
      return { ...result, record: result.atom ? table.get(result.atom) : null };
    });
    if (!found) return { error: STATUS_OBJECT_NAME_NOT_FOUND, body: { atom: 0 } };
    if (found.record?.server && found.record.count <= 0 && (await this.dropIfUnused(ctx, found.record))) {
      return { error: STATUS_OBJECT_NAME_NOT_FOUND, body: { atom: 0 } };
    }
    return { error: found.status, body: { atom: found.atom } };
  }

  private async atomInformation(ctx: TranslationContext, atom: number, replySize: number): Promise<TranslatedReply> {
    const record = await withAtomTable(ctx.session, 'read', false, (table) => table.get(atom) ?? ('missing' as const));
    const zero = { count: 0, pinned: 0, total: 0, name: '' };
    if (record === null) return { error: STATUS_OBJECT_NAME_NOT_FOUND, body: zero };
    if (record === 'missing') return { error: STATUS_INVALID_HANDLE, body: { ...zero, count: -1 } };
    let count = record.count;
    if (record.server) {
      const server = await this.serverAtom(ctx, record.server);
      const held = server ? server.count - 1 : 0;
      if (count + held <= 0) {
        await this.unpair(ctx, record.atom, record.server, server !== null);
        return { error: STATUS_INVALID_HANDLE, body: { ...zero, count: -1 } };
      }
      count += held;
    }
    return atomInformation(record, count, replySize);
  }

  // -------------------------------------------------------------------------
  // Requests served by wineserver, atoms rewritten both ways

  private bridgedEntries(): TranslatedEntry[] {
    const hasName = (body: Body, field: string) => unicodeBytes(body[field]).length > 0;
    type RequestRewrite = (body: Body, ctx: TranslationContext) => Promise<void>;
    // The request's `atom`, used only when it gives no name in `nameField`: one wineserver takes a reference on, or only compares.
    const grabbed = (nameField: string): RequestRewrite => async (body, ctx) => {
      if (!hasName(body, nameField)) body.atom = await this.toServerGrabbed(ctx, body.atom as number);
    };
    const lookedUp = (nameField: string): RequestRewrite => async (body, ctx) => {
      if (!hasName(body, nameField)) body.atom = await this.toServerLooked(ctx, body.atom as number);
    };
    // After a release by name or atom: the atom goes if nothing holds it any more.
    const released = async (reply: { error: number }, request: Body, ctx: TranslationContext) => {
      if (reply.error !== STATUS_SUCCESS) return;
      const atom = hasName(request, 'name') ? await this.proxyAtomOf(ctx, unicodeBytes(request.name)) : (request.atom as number);
      await this.dropIfUnusedAtom(ctx, atom);
    };
    return [
      this.bridged('create_class', {
        request: grabbed('name'),
        reply: async (reply, request, ctx) => {
          if (reply.error === STATUS_SUCCESS && hasName(request, 'name')) {
            // wineserver added the name (and the base name of a versioned class): pair them as Wine's table has them now.
            const name = unicodeBytes(request.name);
            await this.bridgeName(ctx, name);
            const offset = (request.name_offset as number) >>> 0;
            if (offset && offset < name.length / 2) await this.bridgeName(ctx, name.subarray(offset * 2));
          }
          reply.body.atom = await this.fromServer(ctx, reply.body.atom as number);
        },
      }),
      this.bridged('destroy_class', { request: lookedUp('name'), reply: released }),
      this.bridged('set_class_info', {
        request: async (body, ctx) => {
          if ((body.flags as number) & SET_CLASS_ATOM) body.atom = await this.toServerGrabbed(ctx, body.atom as number);
        },
        reply: async (reply, request, ctx) => {
          reply.body.old_atom = await this.fromServer(ctx, reply.body.old_atom as number);
          reply.body.base_atom = await this.fromServer(ctx, reply.body.base_atom as number);
          if (reply.error === STATUS_SUCCESS && (request.flags as number) & SET_CLASS_ATOM) await this.dropIfUnusedAtom(ctx, reply.body.old_atom as number);
        },
      }),
      this.bridged('create_window', { request: lookedUp('class') }),
      this.bridged('get_window_children', { request: lookedUp('class') }),
      this.bridged('get_window_info', {
        reply: async (reply, _request, ctx) => {
          reply.body.atom = await this.fromServer(ctx, reply.body.atom as number);
        },
      }),
      this.bridged('set_window_property', {
        request: grabbed('name'),
        reply: async (reply, request, ctx) => {
          if (reply.error === STATUS_SUCCESS && hasName(request, 'name')) await this.bridgeName(ctx, unicodeBytes(request.name));
        },
      }),
      this.bridged('get_window_property', { request: lookedUp('name') }),
      this.bridged('remove_window_property', { request: lookedUp('name'), reply: released }),
      this.bridged('get_window_properties', {
        reply: async (reply, _request, ctx) => {
          const props = reply.body.props as ElementList<PropertyData> | undefined;
          for (const prop of props?.items ?? []) prop.atom = await this.fromServer(ctx, prop.atom);
        },
      }),
    ];
  }

  /** The proxy atom of a name, or 0. */
  private async proxyAtomOf(ctx: TranslationContext, name: Buffer): Promise<number> {
    return (await withAtomTable(ctx.session, 'read', false, (table) => table.find(name).atom)) ?? 0;
  }

  /**
   * A request served by wineserver through a server call on the caller's
   * thread: `request` rewrites the body (a copy) before, `reply` the decoded
   * reply after; the reply goes to the client as wineserver gave it otherwise.
   */
  private bridged(
    request: string,
    rewrite: {
      request?: (body: Body, ctx: TranslationContext) => Promise<void>;
      reply?: (reply: { error: number; body: Body }, request: Body, ctx: TranslationContext) => Promise<void>;
    },
  ): TranslatedEntry {
    return {
      request,
      family: 'windows/messages/hooks/classes',
      status: 'translated',
      // Live, the request's window-tree side stays wineserver's: only the atom table is the proxy's.
      domains: ['global-atom-table'],
      primitives: TABLE_PRIMITIVES,
      // wineserver serves it whatever handles it names (get_window_children's desktop):
      // forwarded as it is, it would carry the proxy's atom numbers.
      liveRouting: 'any',
      needsServer: true,
      translate: (decoded, ctx) =>
        this.exclusive(async () => {
          const body: Body = { ...decoded.body };
          await rewrite.request?.(body, ctx);
          const answer = await this.server(ctx).call(request, body, decoded.replySize);
          const reply = { error: answer.error, body: { ...answer.body } };
          await rewrite.reply?.(reply, decoded.body, ctx);
          return reply;
        }),
    };
  }
}
