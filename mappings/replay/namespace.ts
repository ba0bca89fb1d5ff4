// The object namespace is shared state (docs/object-namespace.md): events,
// semaphores, sections, window stations, devices ... are still created by
// wineserver, but their names live in the directories the translators
// serve. So the replay mirrors the forwarded requests that name objects
// through createNamedObject / openNamedObject (the operations those
// families' translators will use), checks that the status they would answer
// is wineserver's, and keeps a handle under wineserver's value; it also
// mirrors what changes which handles a process holds: make_temporary,
// dup_handle within a process, inheritance by a new process, devices
// created and deleted through a device manager.

import type { Protocol } from '../../requests/protocol.ts';
import { handleOwner } from '../handles.ts';
import { duplicateNamespaceHandle, makeTemporary } from '../namespace/proxy-handles.ts';
import { OBJ_INHERIT } from '../namespace/records.ts';
import { createNamedObject, openNamedObject, unicodeBytes } from '../namespace/translators.ts';
import type { TranslationContext } from '../translator.ts';
import { callContext, closeOurHandle, forgetHandle, learnHandle, ourHandle, type RecordedCall, type ReplayProcesses } from './processes.ts';

/** Forwarded requests that create a named object, with its NT type name (their creators are not access-checked). */
const MIRRORED_CREATES: Record<string, string> = {
  create_event: 'Event',
  create_semaphore: 'Semaphore',
  create_keyed_event: 'KeyedEvent',
  create_timer: 'Timer',
  create_mapping: 'Section',
};
/** Forwarded requests that open a named object of one type. */
const MIRRORED_OPENS: Record<string, string> = {
  open_event: 'Event',
  open_semaphore: 'Semaphore',
  open_keyed_event: 'KeyedEvent',
  open_timer: 'Timer',
  open_mapping: 'Section',
  open_winstation: 'WindowStation',
};

const PROCESS_CREATE_FLAGS_INHERIT_HANDLES = 0x4;
const DUPLICATE_CLOSE_SOURCE = 0x1;
const DUPLICATE_SAME_ACCESS = 0x2;
const STATUS_OBJECT_NAME_EXISTS = 0x40000000;

/** A mirrored outcome: null when our status is wineserver's, else the difference. */
export type MirrorOutcome = string | null;

/** Mirrors forwarded requests into the namespace (see the header). */
export class NamespaceMirror {
  /** Devices winedevice created, by process, manager handle and client pointer: the device manager holds them. */
  private readonly devices = new Map<string, { ctx: TranslationContext; handle: number }>();

  constructor(
    private readonly processes: ReplayProcesses,
    private readonly protocol: Protocol,
  ) {}

  /**
   * Whether the namespace mirrors requests of this type (they must be passed
   * to `mirror`): 'names' for those that create or open a named object (the
   * process needs a session), 'handles' for those that only change handles
   * the process already holds.
   */
  static mirrors(name: string): 'names' | 'handles' | null {
    if (name in MIRRORED_CREATES || name in MIRRORED_OPENS || NAMING_OTHERS.has(name)) return 'names';
    return HANDLE_CHANGES.has(name) ? 'handles' : null;
  }

  /**
   * Mirrors one forwarded request. Returns the outcome to count when the
   * request's status is comparable (a named object created or opened),
   * undefined when there is nothing to compare.
   */
  async mirror(call: RecordedCall): Promise<MirrorOutcome | undefined> {
    const { request, recorded, proc, tid } = call;
    const ctx = callContext(proc, tid);
    const body = request.body;
    const createType = MIRRORED_CREATES[request.name];
    const openType = MIRRORED_OPENS[request.name];
    let result: { status: number; handle: number } | undefined;
    if (createType) {
      const objattr = body.objattr as { rootdir?: number; name?: string } | null;
      if (!objattr || !objattr.name) return undefined; // unnamed: not in the namespace
      const rootdir = ourHandle(proc, objattr.rootdir ?? 0);
      if (rootdir === undefined) return undefined;
      result = await createNamedObject(ctx, { type: createType, access: body.access as number, objattr: { ...objattr, rootdir } as never, checkCreator: false });
    } else if (openType || request.name === 'create_winstation') {
      const rootdir = ourHandle(proc, body.rootdir);
      if (rootdir === undefined) return undefined;
      const name = unicodeBytes(body.name as never);
      if (openType) {
        result = await openNamedObject(ctx, { type: openType, access: body.access as number, attributes: body.attributes as number, rootdir, name });
      } else {
        // A window station is created like a directory entry (its creator is access-checked).
        const objattr = { rootdir, attributes: body.attributes as number, sd: null, name: name.toString('utf16le') };
        result = await createNamedObject(ctx, { type: 'WindowStation', access: body.access as number, objattr: objattr as never });
        // create_winstation does not report OBJECT_NAME_EXISTS: an existing station is a plain success.
        if (result.status === STATUS_OBJECT_NAME_EXISTS) result.status = 0;
      }
    } else if (request.name === 'create_device' || request.name === 'delete_device') {
      return this.device(call, ctx);
    } else {
      await this.handleChange(call, ctx);
      return undefined;
    }
    if (result.handle) {
      if (recorded.error >>> 0 >= 0xc0000000 || !recorded.body.handle) closeOurHandle(ctx, result.handle);
      else learnHandle(proc, recorded.body.handle, result.handle);
    }
    return this.outcome(call, result.status);
  }

  private outcome(call: RecordedCall, status: number): MirrorOutcome {
    if (status === call.recorded.error) return null;
    const { protocol } = this;
    return `${protocol.formatRequest(call.tid, call.request)}\n  recorded: ${protocol.formatReply(call.tid, call.recorded)}\n  namespace status: ${protocol.statusName(status)}`;
  }

  /** Devices have no handle in the creating process: the device manager keeps them, by the client's pointer. */
  private async device(call: RecordedCall, ctx: TranslationContext): Promise<MirrorOutcome | undefined> {
    const { request, recorded, proc } = call;
    const body = request.body as { rootdir?: number; manager: number; user_ptr?: unknown; device?: unknown; name?: unknown };
    const key = `${proc.pid}:${body.manager >>> 0}:${String(body.user_ptr ?? body.device)}`;
    if (request.name === 'delete_device') {
      const held = this.devices.get(key);
      if (held) closeOurHandle(held.ctx, held.handle);
      this.devices.delete(key);
      return undefined;
    }
    const name = unicodeBytes(body.name as never);
    const rootdir = ourHandle(proc, body.rootdir);
    if (!name.length || rootdir === undefined) return undefined;
    const objattr = { rootdir, attributes: 0, sd: null, name: name.toString('utf16le') };
    const result = await createNamedObject(ctx, { type: 'Device', access: 0, objattr: objattr as never, checkCreator: false });
    if (result.handle) {
      if (recorded.error === 0) this.devices.set(key, { ctx, handle: result.handle });
      else closeOurHandle(ctx, result.handle);
    }
    return this.outcome(call, result.status);
  }

  /** Requests that change which of the replay's objects a process holds. */
  private async handleChange(call: RecordedCall, ctx: TranslationContext): Promise<void> {
    const { request, recorded, proc } = call;
    if (request.name === 'close_handle') {
      if (recorded.error === 0) forgetHandle(proc, request.body.handle);
    } else if (request.name === 'make_temporary') {
      const ours = ourHandle(proc, request.body.handle);
      if (ours && handleOwner(ours) === 'proxy') await makeTemporary(ctx, ours);
    } else if (request.name === 'dup_handle' && recorded.error === 0) {
      const body = request.body as { src_process: number; src_handle: number; dst_process: number; access: number; attributes: number; options: number };
      const source = ourHandle(proc, body.src_handle);
      const fromCaller = handleOwner(body.src_process) === 'pseudo';
      if (!source || handleOwner(source) !== 'proxy' || !fromCaller) return;
      if (handleOwner(body.dst_process) === 'pseudo' && recorded.body.handle) {
        const access = body.options & DUPLICATE_SAME_ACCESS ? null : body.access;
        const copy = duplicateNamespaceHandle(ctx, source, ctx, access, body.attributes & OBJ_INHERIT);
        if (copy) learnHandle(proc, recorded.body.handle, copy);
      }
      if (body.options & DUPLICATE_CLOSE_SOURCE) forgetHandle(proc, body.src_handle);
    } else if (request.name === 'new_process' && recorded.error === 0 && recorded.body.pid) {
      // The child starts with copies of the parent's inheritable handles, at the same values (parent_process 0: the caller).
      const body = request.body as { flags: number; handles: unknown; parent_process: number };
      if (!(body.flags & PROCESS_CREATE_FLAGS_INHERIT_HANDLES) || handleOwner(body.parent_process) === 'server') return;
      const listed = uintList(body.handles);
      const child = this.processes.get(recorded.body.pid as number);
      for (const [recordedValue, ourValue] of proc.handles) {
        const entry = proc.ctx.handles.get(ourValue);
        if (!entry || !(entry.flags & OBJ_INHERIT)) continue;
        if (listed.length && !listed.includes(recordedValue)) continue;
        const copy = duplicateNamespaceHandle(proc.ctx, ourValue, child.ctx, null, entry.flags);
        if (copy) child.handles.set(recordedValue, copy);
      }
    }
  }
}

/** Other forwarded requests that put names into the namespace (compared) or take them out. */
const NAMING_OTHERS = new Set(['create_winstation', 'create_device', 'delete_device']);
/** Forwarded requests mirrored for their effect on the handles a process holds (not compared). */
const HANDLE_CHANGES = new Set(['close_handle', 'make_temporary', 'dup_handle', 'new_process']);

/** A decoded `uints` vararg as numbers. */
function uintList(value: unknown): number[] {
  if (Array.isArray(value)) return value.map((v) => Number(v) >>> 0);
  const inner = (value as { items?: unknown } | null)?.items;
  return Array.isArray(inner) ? inner.map((v) => Number(v) >>> 0) : [];
}
