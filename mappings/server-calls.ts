// What live translators ask wineserver through server calls (ctx.server,
// docs/translation.md "Server calls"), written once: a privilege check
// against the caller's token, and setting an event the caller's process or
// another process holds a handle to. Each helper is a short sequence of
// ordinary requests made as the calling thread.

import type { ServerChannel } from './translator.ts';
import { WinekernelError } from '../errors/winekernel-error.ts';

/** Privileges by LUID (the values wineserver's token.c gives them). */
export const SE_BACKUP_PRIVILEGE = 17;
export const SE_RESTORE_PRIVILEGE = 18;

const CURRENT_PROCESS = 0xffffffff;
const CURRENT_THREAD = 0xfffffffe;
const TOKEN_QUERY = 0x0008;
const OPEN_TOKEN_THREAD = 1;
const OPEN_TOKEN_AS_SELF = 2;
const STATUS_NO_TOKEN = 0xc000007c;
const PROCESS_DUP_HANDLE = 0x0040;
const DUPLICATE_CLOSE_SOURCE = 1;
const DUPLICATE_SAME_ACCESS = 2;
const SET_EVENT = 1;
const RESET_EVENT = 2;

export class ServerCallFailed extends WinekernelError<'WK_SERVER_CALL_FAILED'> {
  constructor(
    readonly request: string,
    readonly status: number,
  ) {
    super('WK_SERVER_CALL_FAILED', `server call ${request} failed with status ${(status >>> 0).toString(16)}`);
  }
}

async function callOk(server: ServerChannel, name: string, body: Record<string, unknown>, replySize = 0): Promise<Record<string, unknown>> {
  const reply = await server.call(name, body, replySize);
  if (reply.error !== 0) throw new ServerCallFailed(name, reply.error);
  return reply.body;
}

/**
 * wineserver's "thread single check privilege": is `luid` enabled in the
 * calling thread's impersonation token, or else in its process's token?
 */
export async function callerHasPrivilege(server: ServerChannel, luid: number): Promise<boolean> {
  let opened = await server.call('open_token', { handle: CURRENT_THREAD, access: TOKEN_QUERY, attributes: 0, flags: OPEN_TOKEN_THREAD | OPEN_TOKEN_AS_SELF });
  if (opened.error === STATUS_NO_TOKEN) opened = await server.call('open_token', { handle: CURRENT_PROCESS, access: TOKEN_QUERY, attributes: 0, flags: 0 });
  if (opened.error !== 0) throw new ServerCallFailed('open_token', opened.error);
  const token = (opened.body as { token: number }).token;
  try {
    const checked = await callOk(server, 'check_token_privileges', {
      handle: token,
      all_required: 1,
      privileges: { items: [{ luid: { low_part: luid, high_part: 0 }, attrs: 0 }], trailing: Buffer.alloc(0) },
      // Room for the one privilege it sends back (less is STATUS_BUFFER_OVERFLOW).
    }, 12);
    return (checked as { has_privileges: number }).has_privileges !== 0;
  } finally {
    await server.call('close_handle', { handle: token });
  }
}

/** An event handle the proxy keeps privately in a client process's handle table (its own duplicate). */
export interface HeldEvent {
  /** Wine process id of the process whose table holds `handle`. */
  pid: number;
  handle: number;
}

/**
 * Takes a private duplicate of the caller's event handle (so that the
 * client closing or reusing its handle value cannot make the proxy signal
 * another object later) and resets the event, as wineserver does when it
 * starts watching for a change. Returns the status wineserver answers for a
 * handle that is not an event with SYNCHRONIZE access, or the held event.
 */
export async function holdEvent(server: ServerChannel, pid: number, event: number): Promise<{ error: number } | HeldEvent> {
  const info = await server.call('get_object_info', { handle: event }, 0);
  if (info.error !== 0) return { error: info.error };
  if (!((info.body as { access: number }).access & 0x00100000 /* SYNCHRONIZE */)) return { error: 0xc0000022 /* STATUS_ACCESS_DENIED */ };
  const dup = await server.call('dup_handle', {
    src_process: CURRENT_PROCESS,
    src_handle: event,
    dst_process: CURRENT_PROCESS,
    access: 0x00100002 /* SYNCHRONIZE | EVENT_MODIFY_STATE */,
    attributes: 0,
    options: 0,
  });
  if (dup.error !== 0) return { error: dup.error };
  const handle = (dup.body as { handle: number }).handle;
  const reset = await server.call('event_op', { handle, op: RESET_EVENT });
  if (reset.error !== 0) {
    await server.call('close_handle', { handle });
    return { error: reset.error };
  }
  return { pid, handle };
}

/**
 * Sets a held event and lets it go (wineserver's notification releases the
 * events it signals), from a thread of any process: the caller's process
 * uses its own handle; for another process the handle is moved into the
 * caller's table first (duplicated with DUPLICATE_CLOSE_SOURCE).
 */
export async function setAndReleaseEvent(server: ServerChannel, callerPid: number, held: HeldEvent): Promise<void> {
  if (held.pid === callerPid) {
    await server.call('event_op', { handle: held.handle, op: SET_EVENT });
    await server.call('close_handle', { handle: held.handle });
    return;
  }
  const opened = await server.call('open_process', { pid: held.pid, access: PROCESS_DUP_HANDLE, attributes: 0 });
  // The watching process is gone: so is its handle, and nobody waits for the event.
  if (opened.error !== 0) return;
  const process = (opened.body as { handle: number }).handle;
  try {
    const moved = await server.call('dup_handle', {
      src_process: process,
      src_handle: held.handle,
      dst_process: CURRENT_PROCESS,
      access: 0,
      attributes: 0,
      options: DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE,
    });
    if (moved.error !== 0) return;
    const local = (moved.body as { handle: number }).handle;
    await server.call('event_op', { handle: local, op: SET_EVENT });
    await server.call('close_handle', { handle: local });
  } finally {
    await server.call('close_handle', { handle: process });
  }
}
