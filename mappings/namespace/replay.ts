// Replay verification of the namespace and object-security translators
// against a recording of real wineserver traffic (`winekernel run --record`,
// docs/fixture-format.md): every create_directory, open_directory,
// get_directory_entry, create_symlink, open_symlink, query_symlink,
// get_security_object and set_security_object of the recording is answered
// by the translators on a fresh in-process instance, in the order wineserver
// answered them, and the trace line of each reply is compared with the line
// of wineserver's recorded reply.
//
// The namespace is shared state (docs/object-namespace.md): events,
// mutexes, ... are still created by wineserver but their names live in the
// same directories. So the replay also mirrors the forwarded requests that
// name objects (create_/open_ event, mutex, semaphore, keyed event, timer,
// mapping, window station; create_device/delete_device) through createNamedObject / openNamedObject, the
// operations those families' translators will use, and checks that the
// status they would answer is wineserver's. close_handle, make_temporary,
// dup_handle within a process, handle inheritance by new processes and
// process exits are mirrored for the handles the replay holds.
//
// Handles: the translators mint proxy handle values where wineserver minted
// small ones. Each process's real→ours map is learnt from replies (a
// successful create/open maps wineserver's handle to ours); requests naming
// a real handle the replay does not hold (a registry key, a file, a
// process) are about objects outside the namespace and are counted as
// skipped, not compared.

import { createInProcessBackend } from '../../backends/inprocess/index.ts';
import { WK_ATTACH_CREATE, type Session } from '../../backends/primitives.ts';
import { RecordKind, type RecordEntry } from '../../proxy/recording/format.ts';
import type { Recording } from '../../proxy/recording/reader.ts';
import type { Protocol } from '../../requests/protocol.ts';
import { ProxyHandleTable, handleOwner } from '../handles.ts';
import { getSecurityObject, setSecurityObject } from '../security/translators.ts';
import type { TranslatedEntry, TranslationContext } from '../translator.ts';
import { closeNamespaceHandle, duplicateNamespaceHandle, makeTemporary } from './proxy-handles.ts';
import { OBJ_INHERIT } from './records.ts';
import { createNamedObject, NAMESPACE_TRANSLATORS, openNamedObject, unicodeBytes } from './translators.ts';

const TRANSLATED: Record<string, TranslatedEntry> = Object.fromEntries(
  [...NAMESPACE_TRANSLATORS, getSecurityObject, setSecurityObject].map((t) => [t.request, t]),
);

/** Forwarded requests that create a named object, with its type and whether the creator is access-checked. */
const MIRRORED_CREATES: Record<string, { type: string; checkCreator: boolean }> = {
  create_event: { type: 'Event', checkCreator: false },
  create_mutex: { type: 'Mutant', checkCreator: false },
  create_semaphore: { type: 'Semaphore', checkCreator: false },
  create_keyed_event: { type: 'KeyedEvent', checkCreator: false },
  create_timer: { type: 'Timer', checkCreator: false },
  create_mapping: { type: 'Section', checkCreator: false },
};
const MIRRORED_OPENS: Record<string, string> = {
  open_event: 'Event',
  open_mutex: 'Mutant',
  open_semaphore: 'Semaphore',
  open_keyed_event: 'KeyedEvent',
  open_timer: 'Timer',
  open_mapping: 'Section',
  open_winstation: 'WindowStation',
};

export interface ReplayReport {
  /** Translated requests answered and compared. */
  compared: number;
  /** Lines that differ: the request, wineserver's reply line and ours. */
  mismatches: string[];
  /** Translated requests skipped because they name a handle of an object outside the namespace. */
  skipped: Record<string, number>;
  /** Mirrored forwarded requests whose status the namespace reproduced, and those it did not. */
  mirrored: number;
  mirrorMismatches: string[];
  /** Replies without a handle compared byte for byte with wineserver's frame, and those that differ. */
  byteExact: number;
  byteMismatches: string[];
  /** Every compared line (wineserver's), for the record. */
  lines: string[];
}

interface ProcessState {
  ctx: TranslationContext;
  /** wineserver's handle value → ours */
  handles: Map<number, number>;
}

/** Replays `recording` through the translators; see the header. */
export async function replayNamespace(recording: Recording, protocol: Protocol, kernid = 'namespace-replay'): Promise<ReplayReport> {
  const backend = createInProcessBackend();
  const processes = new Map<number, ProcessState>();
  const report: ReplayReport = { compared: 0, mismatches: [], skipped: {}, mirrored: 0, mirrorMismatches: [], byteExact: 0, byteMismatches: [], lines: [] };
  const pending = new Map<number, RecordEntry>();
  /** Devices winedevice created, by process, manager handle and client pointer. */
  const devices = new Map<string, { ctx: TranslationContext; handle: number }>();

  const processOf = (pid: number): ProcessState => {
    let state = processes.get(pid);
    if (!state) {
      const session: Session = backend.openSession({ pid });
      const attached = session.attach(kernid, WK_ATTACH_CREATE);
      if (attached < 0) throw new Error(`replay: attaching to ${kernid} failed (${attached})`);
      state = { ctx: { session, pid, tid: 0, handles: new ProxyHandleTable(), protocol }, handles: new Map() };
      processes.set(pid, state);
    }
    return state;
  };
  const skip = (name: string) => (report.skipped[name] = (report.skipped[name] ?? 0) + 1);

  for (const record of recording.records) {
    if (record.kind === RecordKind.ConnectionClose && record.pid) {
      // The process ended: wineserver closed its handles, the session end closes ours.
      const state = processes.get(record.pid);
      if (state) {
        state.ctx.session.end();
        processes.delete(record.pid);
      }
      continue;
    }
    if (record.kind === RecordKind.Request) {
      pending.set(record.threadKey, record);
      continue;
    }
    if (record.kind !== RecordKind.Reply) continue;
    const requestRecord = pending.get(record.threadKey);
    pending.delete(record.threadKey);
    if (!requestRecord || requestRecord.code !== record.code || !requestRecord.pid) continue;
    const request = protocol.decodeRequest(requestRecord.payload);
    const real = protocol.decodeReply(record.code, record.payload);
    const proc = processOf(requestRecord.pid);
    const tid = requestRecord.tid;
    const ours = (value: unknown): number | undefined => {
      const v = (value as number) >>> 0;
      if (!v) return 0;
      if (handleOwner(v) === 'pseudo') return undefined;
      return proc.handles.get(v & ~3);
    };
    const learn = (realHandle: unknown, ourHandle: number) => {
      const r = (realHandle as number) >>> 0;
      if (r && ourHandle) proc.handles.set(r, ourHandle);
    };

    const translator = TRANSLATED[request.name];
    if (translator) {
      const body = { ...(request.body as Record<string, unknown>) };
      let named = true;
      for (const field of ['handle', 'rootdir'] as const) {
        if (field in body) {
          const mapped = ours(body[field]);
          if (mapped === undefined) named = false;
          else body[field] = mapped;
        }
      }
      const objattr = body.objattr as { rootdir?: number } | null | undefined;
      if (objattr && typeof objattr === 'object' && 'rootdir' in objattr && objattr.rootdir) {
        const mapped = ours(objattr.rootdir);
        if (mapped === undefined) named = false;
        else body.objattr = { ...objattr, rootdir: mapped };
      }
      if (!named) {
        skip(request.name);
        continue;
      }
      const reply = await translator.translate({ ...request, body }, proc.ctx);
      const frame = protocol.encodeReply({ code: record.code, error: reply.error, body: reply.body });
      const decoded = protocol.decodeReply(record.code, frame);
      const replyBody = decoded.body as Record<string, unknown>;
      if (typeof replyBody.handle === 'number' && replyBody.handle) {
        learn(real.body.handle, replyBody.handle);
        replyBody.handle = real.body.handle;
      } else if (!Buffer.from(frame).equals(Buffer.from(record.payload))) {
        // Without a handle value to translate, the reply must be wineserver's byte for byte.
        report.byteMismatches.push(`${protocol.formatRequest(tid, request)}: reply bytes differ`);
      } else report.byteExact++;
      const wanted = protocol.formatReply(tid, real);
      const got = protocol.formatReply(tid, decoded);
      report.compared++;
      report.lines.push(wanted);
      if (wanted !== got) report.mismatches.push(`${protocol.formatRequest(tid, request)}\n  wineserver: ${wanted}\n  translator: ${got}`);
      continue;
    }

    const create = MIRRORED_CREATES[request.name];
    const openType = MIRRORED_OPENS[request.name];
    if (create || openType || request.name === 'create_winstation') {
      const body = request.body as Record<string, unknown>;
      let result: { status: number; handle: number };
      if (create) {
        if (isUnnamed(body)) continue;
        const objattr = body.objattr as { rootdir?: number } | null;
        let mapped = objattr;
        if (objattr && typeof objattr === 'object' && 'rootdir' in objattr && objattr.rootdir) {
          const root = ours(objattr.rootdir);
          if (root === undefined) continue;
          mapped = { ...objattr, rootdir: root };
        }
        result = await createNamedObject(proc.ctx, { type: create.type, access: body.access as number, objattr: mapped as never, checkCreator: create.checkCreator });
      } else {
        const rootdir = ours(body.rootdir);
        if (rootdir === undefined) continue;
        const name = unicodeBytes(body.name as never);
        if (request.name === 'create_winstation') {
          // A window station is created like a directory entry (create_named_object, alloc_handle checks the creator).
          const objattr = { rootdir, attributes: body.attributes as number, sd: null, name: name.toString('utf16le') };
          result = await createNamedObject(proc.ctx, { type: 'WindowStation', access: body.access as number, objattr: objattr as never });
          // create_winstation clears OBJECT_NAME_EXISTS: an existing station is a plain success.
          if (result.status === 0x40000000) result.status = 0;
        } else {
          result = await openNamedObject(proc.ctx, { type: openType, access: body.access as number, attributes: body.attributes as number, rootdir, name });
        }
      }
      report.mirrored++;
      if (result.status !== real.error) {
        report.mirrorMismatches.push(`${protocol.formatRequest(tid, request)}\n  wineserver: ${protocol.formatReply(tid, real)}\n  namespace status: ${result.status.toString(16)}`);
      }
      if (result.handle) {
        if (real.error >>> 0 >= 0xc0000000 || !real.body.handle) closeNamespaceHandle(proc.ctx, result.handle);
        else learn(real.body.handle, result.handle);
      }
      continue;
    }

    if (request.name === 'new_process' && real.error === 0 && real.body.pid) {
      // The child starts with copies of the parent's inheritable handles, at the same values (parent_process 0: the caller).
      const body = request.body as { flags: number; handles: unknown; parent_process: number };
      if (body.flags & PROCESS_CREATE_FLAGS_INHERIT_HANDLES && handleOwner(body.parent_process) !== 'server') {
        const listed = uintList(body.handles);
        const child = processOf(real.body.pid as number);
        for (const [realValue, ourValue] of proc.handles) {
          const entry = proc.ctx.handles.get(ourValue);
          if (!entry || !(entry.flags & OBJ_INHERIT)) continue;
          if (listed.length && !listed.includes(realValue)) continue;
          const copy = duplicateNamespaceHandle(proc.ctx, ourValue, child.ctx, null, entry.flags);
          if (copy) child.handles.set(realValue, copy);
        }
      }
      continue;
    }
    if (request.name === 'dup_handle' && real.error === 0) {
      const body = request.body as { src_process: number; src_handle: number; dst_process: number; access: number; attributes: number; options: number };
      const source = ours(body.src_handle);
      const samePid = handleOwner(body.src_process) === 'pseudo' && handleOwner(body.dst_process) === 'pseudo';
      if (source && samePid && real.body.handle) {
        const copy = duplicateNamespaceHandle(proc.ctx, source, proc.ctx, body.options & DUPLICATE_SAME_ACCESS ? null : body.access, body.attributes & OBJ_INHERIT);
        if (copy) learn(real.body.handle, copy);
      }
      if (source && body.options & DUPLICATE_CLOSE_SOURCE && handleOwner(body.src_process) === 'pseudo') {
        closeNamespaceHandle(proc.ctx, source);
        proc.handles.delete((body.src_handle >>> 0) & ~3);
      }
      continue;
    }
    if (request.name === 'create_device' || request.name === 'delete_device') {
      // Devices have no handle in the creating process: the device manager keeps them, by the client's pointer.
      const body = request.body as { rootdir?: number; manager: number; user_ptr?: unknown; device?: unknown; name?: unknown };
      const key = `${requestRecord.pid}:${body.manager >>> 0}:${String(body.user_ptr ?? body.device)}`;
      if (request.name === 'delete_device') {
        const held = devices.get(key);
        if (held) closeNamespaceHandle(held.ctx, held.handle);
        devices.delete(key);
        continue;
      }
      const name = unicodeBytes(body.name as never);
      const rootdir = ours(body.rootdir);
      if (!name.length || rootdir === undefined) continue;
      const objattr = { rootdir, attributes: 0, sd: null, name: name.toString('utf16le') };
      const result = await createNamedObject(proc.ctx, { type: 'Device', access: 0, objattr: objattr as never, checkCreator: false });
      report.mirrored++;
      if (result.status !== real.error) {
        report.mirrorMismatches.push(`${protocol.formatRequest(tid, request)}\n  wineserver: ${protocol.formatReply(tid, real)}\n  namespace status: ${result.status.toString(16)}`);
      }
      if (result.handle) {
        if (real.error === 0) devices.set(key, { ctx: proc.ctx, handle: result.handle });
        else closeNamespaceHandle(proc.ctx, result.handle);
      }
      continue;
    }
    if (request.name === 'close_handle') {
      const value = ((request.body as { handle: number }).handle >>> 0) & ~3;
      const mapped = proc.handles.get(value);
      if (mapped !== undefined && real.error === 0) {
        closeNamespaceHandle(proc.ctx, mapped);
        proc.handles.delete(value);
      }
    } else if (request.name === 'make_temporary') {
      const mapped = ours((request.body as { handle: number }).handle);
      if (mapped) await makeTemporary(proc.ctx, mapped);
    }
  }
  for (const state of processes.values()) state.ctx.session.end();
  return report;
}

const PROCESS_CREATE_FLAGS_INHERIT_HANDLES = 0x4;
const DUPLICATE_CLOSE_SOURCE = 0x1;
const DUPLICATE_SAME_ACCESS = 0x2;

/** A decoded `uints` vararg as numbers. */
function uintList(value: unknown): number[] {
  if (Array.isArray(value)) return value.map((v) => Number(v) >>> 0);
  const inner = (value as { items?: unknown } | null)?.items;
  return Array.isArray(inner) ? inner.map((v) => Number(v) >>> 0) : [];
}

function isUnnamed(body: Record<string, unknown>): boolean {
  const objattr = body.objattr as { name?: string } | null | undefined;
  return !objattr || !objattr.name;
}
