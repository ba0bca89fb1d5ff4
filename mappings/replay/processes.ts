// The replay's side of each recorded client process: a backend session
// attached to the replay's instance, its proxy handle table, and the map
// from the handle values wineserver gave the process to the ones the
// translators minted for the same objects (docs/replay.md, "Handles").

import type { Backend, Session } from '../../backends/primitives.ts';
import type { RecordEntry } from '../../proxy/recording/format.ts';
import type { DecodedReply, DecodedRequest, Protocol } from '../../requests/protocol.ts';
import type { RequestInfo } from '../../requests/protocol-types.ts';
import { handleOwner, ProxyHandleTable } from '../handles.ts';
import { closeNamespaceHandle, namespaceHandle } from '../namespace/proxy-handles.ts';
import { closeMutexHandle, MUTANT_TYPE } from '../sync/mutexes.ts';
import type { TranslationContext } from '../translator.ts';
import { ReplayError } from './report.ts';

export interface ReplayProcess {
  pid: number;
  /** The process's context; a call gets a copy with its thread (callContext). */
  ctx: TranslationContext;
  /** wineserver's handle value (low two bits cleared) → ours. */
  handles: Map<number, number>;
  /** The threads (Wine tids) that made calls the replay answered or mirrored. */
  threads: Set<number>;
}

/** One recorded request with its reply, the process that made it and its thread. */
export interface RecordedCall {
  request: DecodedRequest;
  recorded: DecodedReply;
  proc: ReplayProcess;
  tid: number;
  /** The reply's record. */
  record: RecordEntry;
}

/** The processes of one replay, by Wine process id, all attached to one instance. */
export class ReplayProcesses {
  private readonly byPid = new Map<number, ReplayProcess>();

  constructor(
    private readonly openSession: (pid: number) => Session,
    private readonly kernid: string,
    private readonly protocol: Protocol,
  ) {}

  /** The process, its session attached on first use. */
  get(pid: number): ReplayProcess {
    let proc = this.byPid.get(pid);
    if (!proc) {
      const session = this.openSession(pid);
      const rc = session.attach(this.kernid, 0);
      if (rc < 0) throw new ReplayError('WK_REPLAY_ATTACH', `attaching process ${pid} to instance ${this.kernid} failed (${rc})`);
      proc = { pid, ctx: { session, pid, tid: 0, handles: new ProxyHandleTable(), protocol: this.protocol }, handles: new Map(), threads: new Set() };
      this.byPid.set(pid, proc);
    }
    return proc;
  }

  find(pid: number): ReplayProcess | undefined {
    return this.byPid.get(pid);
  }

  /** The process ended: as wineserver closes its handles, ending the session closes ours and abandons its locks. */
  end(pid: number): void {
    const proc = this.byPid.get(pid);
    if (!proc) return;
    for (const [value] of [...proc.ctx.handles]) closeOurHandle(proc.ctx, value);
    proc.ctx.session.end();
    this.byPid.delete(pid);
  }

  endAll(): void {
    for (const pid of [...this.byPid.keys()]) this.end(pid);
  }
}

/** The context of one call: the process's, with the calling thread. */
export const callContext = (proc: ReplayProcess, tid: number): TranslationContext => ({ ...proc.ctx, tid });

/**
 * Our handle for a value the recorded process named: 0 and pseudo-handles
 * stand for themselves; undefined when the replay holds no object under
 * that value (wineserver's own: a file, a thread, an event never named).
 */
export function ourHandle(proc: ReplayProcess, value: unknown): number | undefined {
  const v = (value as number) >>> 0;
  if (v === 0 || handleOwner(v) === 'pseudo') return v;
  return proc.handles.get(v & ~3);
}

/** wineserver gave `recorded` where the translators (or a mirror) gave `ours`: remember it. */
export function learnHandle(proc: ReplayProcess, recorded: unknown, ours: number): void {
  const r = (recorded as number) >>> 0;
  if (r && ours) proc.handles.set(r & ~3, ours);
}

/** Closes one of our handles the way its family closes it (what close_handle does for it live). */
export function closeOurHandle(ctx: TranslationContext, value: number): void {
  const entry = ctx.handles.get(value);
  if (!entry) return;
  if (entry.type === MUTANT_TYPE) closeMutexHandle(ctx, value);
  else if (namespaceHandle(entry)) closeNamespaceHandle(ctx, value);
  else {
    // A registry key (or any other family's plain handle): forget the value, close its primitive.
    ctx.handles.release(value);
    ctx.session.close(entry.primitive);
  }
}

/** The recorded process closed `recorded`: close ours, if we hold one under it. */
export function forgetHandle(proc: ReplayProcess, recorded: unknown): void {
  const key = ((recorded as number) >>> 0) & ~3;
  const ours = proc.handles.get(key);
  if (ours === undefined) return;
  proc.handles.delete(key);
  closeOurHandle(proc.ctx, ours);
}

/**
 * The request's body with every handle it names (its obj_handle_t fields
 * and the root directory of its object attributes) replaced by ours, or
 * null when it names one the replay does not hold. `serverFields` name
 * wineserver handles the translator passes on to wineserver: kept as they are.
 */
export function mapRequestHandles(info: RequestInfo, body: Record<string, unknown>, proc: ReplayProcess, serverFields: readonly string[] = []): Record<string, unknown> | null {
  const out = { ...body };
  for (const field of info.request.fields) {
    if (field.type !== 'obj_handle_t' || typeof out[field.name] !== 'number' || serverFields.includes(field.name)) continue;
    const mine = ourHandle(proc, out[field.name]);
    if (mine === undefined) return null;
    out[field.name] = mine;
  }
  for (const vararg of info.request.varargs) {
    if (vararg.kind !== 'object_attributes') continue;
    const objattr = out[vararg.name] as { rootdir?: unknown } | null | undefined;
    if (!objattr || typeof objattr !== 'object' || typeof objattr.rootdir !== 'number' || !objattr.rootdir) continue;
    const root = ourHandle(proc, objattr.rootdir);
    if (root === undefined) return null;
    out[vararg.name] = { ...objattr, rootdir: root };
  }
  return out;
}

/** The obj_handle_t fields of a request type's reply (the handles it mints). */
export function replyHandleFields(info: RequestInfo): string[] {
  return info.reply.fields.filter((f) => f.type === 'obj_handle_t').map((f) => f.name);
}
