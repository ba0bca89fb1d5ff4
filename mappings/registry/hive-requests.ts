// The hive-file requests (RegSaveKey, RegLoadKey, RegUnLoadKey) answered from
// the proxy's registry. They name a file by a wineserver handle and check a
// privilege of the caller's token, both of which only wineserver can see, so
// they are translated live only: the privilege check and the descriptor
// behind the file handle come through server calls (ctx.server,
// docs/translation.md "Server calls"), the .reg text is read and written by
// reg-file.ts exactly as wineserver's load_keys / save_all_subkeys would.
//
// wineserver's order of checks is kept: object attributes, privilege, the
// key handle, then the file.

import fs from 'node:fs';
import { callerHasPrivilege, SE_BACKUP_PRIVILEGE, SE_RESTORE_PRIVILEGE } from '../server-calls.ts';
import type { PrimitiveCall, ServerChannel, ServerFd, TranslatedEntry, TranslatedReply, TranslationContext } from '../translator.ts';
import type { ObjectAttributes } from '../../requests/kinds/object-attributes.ts';
import type { UnicodeStr } from '../../requests/kinds/text.ts';
import { dropKeyDescriptor, storeCreationDescriptor } from './key-security.ts';
import { KEY_FLAG } from './record.ts';
import { loadRegFile, saveRegFile } from './reg-file.ts';
import * as S from './status.ts';
import type { RegistryTx } from './store.ts';
import {
  createKeyPath,
  KEY_TYPE,
  liveKeyOfHandle,
  openKeyPath,
  readObjectAttributes,
  REG_NOTIFY_CHANGE_NAME,
  registryFor,
  unicodeBytes,
} from './translators.ts';
import { WinekernelError } from '../../errors/winekernel-error.ts';

const FILE_READ_DATA = 0x0001;
const FILE_WRITE_DATA = 0x0002;
/** server_fd_type: a regular file (get_file_obj accepts only file objects). */
const FD_TYPE_FILE = 1;
const FD_TYPE_DIR = 2;

export class HiveRequestError extends WinekernelError<'WK_HIVE_NO_SERVER'> {
  constructor(request: string) {
    super('WK_HIVE_NO_SERVER', `${request} is translated only live: it needs server calls (the caller's token and file handle)`);
  }
}

function serverOf(ctx: TranslationContext, request: string): ServerChannel {
  if (!ctx.server) throw new HiveRequestError(request);
  return ctx.server;
}

/** errno of a failed read/write as wineserver's file_set_error reports it. */
function statusOfFileError(error: NodeJS.ErrnoException): number {
  switch (error.code) {
    case 'ENOSPC':
      return 0xc000007f; // STATUS_DISK_FULL
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return S.STATUS_ACCESS_DENIED;
    case 'EBADF':
      return S.STATUS_INVALID_HANDLE;
    default:
      return 0xc0000185; // STATUS_IO_DEVICE_ERROR
  }
}

/** get_file_obj(handle, access) through the descriptor wineserver hands over: the descriptor or the status. */
async function fileOf(server: ServerChannel, handle: number, access: number): Promise<ServerFd | { error: number }> {
  const got = await server.handleFd(handle);
  if ('error' in got) return got;
  let status = 0;
  if (got.type !== FD_TYPE_FILE && got.type !== FD_TYPE_DIR) status = S.STATUS_OBJECT_TYPE_MISMATCH;
  else if ((got.access & access) !== access) status = S.STATUS_ACCESS_DENIED;
  if (status) {
    fs.closeSync(got.fd);
    return { error: status };
  }
  return got;
}

/** Everything from the descriptor's current position to its end (fdopen + reads share the position). */
function readRest(fd: number): Buffer {
  const chunks: Buffer[] = [];
  for (;;) {
    const chunk = Buffer.alloc(64 * 1024);
    const n = fs.readSync(fd, chunk, 0, chunk.length, null);
    if (n <= 0) break;
    chunks.push(chunk.subarray(0, n));
  }
  return Buffer.concat(chunks);
}

function writeAll(fd: number, data: Buffer): void {
  for (let at = 0; at < data.length; ) at += fs.writeSync(fd, data, at, data.length - at, null);
}

const HIVE_PRIMITIVES: readonly PrimitiveCall[] = ['object_create', 'object_open', 'getname', 'size', 'getdata', 'setdata', 'lockobject', 'unlock', 'object_unlink', 'object_close', 'get_native_file'];

/**
 * The catalog entry of one hive request. `serverHandleFields`: the fields
 * naming a wineserver handle the translator reaches through server calls
 * (the hive file), which handle routing must not count as naming a handle.
 */
function hiveEntry<Req, Rep>(
  request: string,
  serverHandleFields: readonly (keyof Req & string)[],
  translate: (body: Req, ctx: TranslationContext) => Promise<TranslatedReply<Rep>>,
): TranslatedEntry<Req, Rep> {
  return {
    request,
    family: 'registry',
    status: 'translated',
    domains: ['registry'],
    primitives: HIVE_PRIMITIVES,
    serverHandleFields,
    needsServer: true,
    translate: (req, ctx) => translate(req.body, ctx),
  };
}

const none = <T>(error: number): TranslatedReply<T> => ({ error, body: {} as T });

export const saveRegistry = hiveEntry<{ hkey: number; file: number }, Record<string, never>>('save_registry', ['file'], async (body, ctx) => {
  const server = serverOf(ctx, 'save_registry');
  if (!(await callerHasPrivilege(server, SE_BACKUP_PRIVILEGE))) return none(S.STATUS_PRIVILEGE_NOT_HELD);
  const store = registryFor(ctx.session);
  const checked = await store.run('read', (tx) => liveKeyOfHandle(ctx, tx, body.hkey, 0));
  if (!checked.key) return none(checked.status);
  const file = await fileOf(server, body.file, FILE_WRITE_DATA);
  if ('error' in file) return none(file.error);
  try {
    const info = store.info();
    const text = await store.run('read', (tx) => {
      const key = liveKeyOfHandle(ctx, tx, body.hkey, 0);
      return key.key ? saveRegFile(tx, key.key.id, info.arch) : null;
    });
    if (!text) return none(S.STATUS_KEY_DELETED);
    writeAll(file.fd, text);
    return none(0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code) return none(statusOfFileError(error as NodeJS.ErrnoException));
    throw error;
  } finally {
    fs.closeSync(file.fd);
  }
});

type ObjAttr = ObjectAttributes | { malformed: true; bytes: Buffer } | null | undefined;

export const loadRegistry = hiveEntry<{ file: number; objattr: ObjAttr }, Record<string, never>>('load_registry', ['file'], async (body, ctx) => {
  const server = serverOf(ctx, 'load_registry');
  const attr = readObjectAttributes(body.objattr);
  if (!attr.attr) return none(attr.status);
  if (!(await callerHasPrivilege(server, SE_RESTORE_PRIVILEGE))) return none(S.STATUS_PRIVILEGE_NOT_HELD);
  const { rootdir, name, sd } = attr.attr;
  const store = registryFor(ctx.session);
  // The parent handle first (get_hkey_obj), then the file: read it before taking the tree lock.
  if (rootdir) {
    const parent = await store.run('read', (tx) => liveKeyOfHandle(ctx, tx, rootdir, 0));
    if (!parent.key) return none(parent.status);
  }
  const file = await fileOf(server, body.file, FILE_READ_DATA);
  if ('error' in file) {
    // wineserver creates the key before it looks at the file.
    const created = await store.run('write', (tx) => createMountPoint(ctx, tx, rootdir, name, sd));
    return none(created.status || file.error);
  }
  let text: Buffer;
  try {
    text = readRest(file.fd);
  } catch (error) {
    return none(statusOfFileError(error as NodeJS.ErrnoException));
  } finally {
    fs.closeSync(file.fd);
  }
  const info = store.info();
  return store.run('write', (tx) => {
    const created = createMountPoint(ctx, tx, rootdir, name, sd);
    if (!created.key) return none(created.status);
    const loaded = loadRegFile(tx, created.key.id, text, -1, info.arch);
    for (const warning of loaded.warnings) ctx.log?.warn({ warning }, 'load_registry: line skipped as wineserver would');
    return none(loaded.status);
  });
});

/** load_registry's create_key(parent, name, options 0, KEY_WOW64_64KEY, attributes 0, sd): a new mount point takes the descriptor. */
function createMountPoint(ctx: TranslationContext, tx: RegistryTx, rootdir: number, name: Buffer, sd: Buffer | null): { status: number; key?: ReturnType<typeof createKeyPath>['key'] } {
  let parent = null;
  if (rootdir) {
    const found = liveKeyOfHandle(ctx, tx, rootdir, 0);
    if (!found.key) return { status: found.status };
    parent = found.key;
  }
  const made = createKeyPath(tx, parent, name, 0, 0);
  if (made.created && sd) storeCreationDescriptor(tx, made.key!.id, sd);
  return made;
}

/** How many proxy handles of any process are open on key `id`. */
function keyHandleCount(ctx: TranslationContext, id: number): number {
  let count = 0;
  for (const table of ctx.allHandleTables?.() ?? [ctx.handles]) {
    for (const [, entry] of table) if (entry.type === KEY_TYPE && entry.object === id) count++;
  }
  return count;
}

/** delete_key(key, recurse = 1): subkeys first, each parent touched (REG_NOTIFY_CHANGE_NAME). */
function deleteTree(tx: RegistryTx, id: number): number {
  const header = tx.header(id);
  if (header.flags & KEY_FLAG.DELETED) return 0;
  if (!header.parent) return S.STATUS_ACCESS_DENIED;
  if (header.flags & KEY_FLAG.PREDEF) return S.STATUS_INVALID_HANDLE;
  for (;;) {
    const subkeys = tx.subkeys(id);
    if (!subkeys.length) break;
    const status = deleteTree(tx, subkeys[subkeys.length - 1].id);
    if (status) return status;
  }
  tx.unlinkKey(id);
  dropKeyDescriptor(tx, id);
  tx.touch(header.parent, REG_NOTIFY_CHANGE_NAME);
  return 0;
}

export const unloadRegistry = hiveEntry<{ parent: number; attributes: number; name: UnicodeStr }, Record<string, never>>('unload_registry', [], async (body, ctx) => {
  const server = serverOf(ctx, 'unload_registry');
  if (!(await callerHasPrivilege(server, SE_RESTORE_PRIVILEGE))) return none(S.STATUS_PRIVILEGE_NOT_HELD);
  const name = unicodeBytes(body.name);
  return registryFor(ctx.session).run('write', (tx) => {
    let parent = null;
    if (body.parent) {
      const found = liveKeyOfHandle(ctx, tx, body.parent, 0);
      if (!found.key) return none(found.status);
      parent = found.key;
    }
    const opened = openKeyPath(tx, parent, name, body.attributes >>> 0);
    if (!opened.key) return none(opened.status);
    if (keyHandleCount(ctx, opened.key.id) > 0) return none(S.STATUS_CANNOT_DELETE);
    return none(deleteTree(tx, opened.key.id));
  });
});

export const HIVE_TRANSLATORS = [saveRegistry, loadRegistry, unloadRegistry] as const;
