// Files, sockets, pipes, mailslots, the console and devices (server/fd.c,
// file.c, change.c, sock.c, named_pipe.c, mailslot.c, serial.c, console.c,
// device.c, async.c). The open file itself maps well onto a primitive object
// with an attached native fd (the proxy opens the Unix file, attaches it,
// and hands get_native_file's fd to the client over its socket), and sharing
// modes are data read and written under a lock. What does not map is the rest
// of an fd object's life: asynchronous I/O completing later through APCs,
// events or completion ports, byte-range locks that are waited for, change
// notifications, and device drivers served through IRP queues. As every
// request below touches the same fd objects, the family moves as one domain.

import type { ForwardedEntry } from '../translator.ts';
import { family, P } from './define.ts';

const file = family('files/fds', ['fd-objects']);
const sock = family('sockets/pipes/mailslots', ['fd-objects']);
const console_ = family('console', ['fd-objects']);
const dev = family('devices/async/ioctl', ['fd-objects']);

const fdObject = [P.object, P.fd, P.lock] as const;

export const FILE_ENTRIES: ForwardedEntry[] = [
  file('create_file', 'shared-state', 'expressible as an object with the opened Unix fd attached and sharing modes checked under a lock, but the fd object is shared with async I/O', { uses: [...fdObject, P.acl], domains: ['fd-objects', 'object-namespace'] }),
  file('open_file_object', 'shared-state', "opens a file or device object relative to a directory handle or by NT name; the objects are forwarded", { uses: [P.read, P.fd], domains: ['fd-objects', 'object-namespace'] }),
  file('alloc_file_handle', 'shared-state', 'wraps a Unix fd the client sent over its socket into a file handle: attach_native_file', { uses: [P.object, P.fd] }),
  file('get_handle_unix_name', 'shared-state', 'returns the Unix path stored with a forwarded file object', { uses: [P.read] }),
  file('get_handle_fd', 'shared-state', "sends the object's Unix fd to the client (get_native_file, then the proxy's socket) with type, access and options", { uses: [P.read, P.fd] }),
  file('get_directory_cache_entry', 'missing-primitive', "allocates a slot in the client's directory lookup cache, invalidated when the directory changes", { missing: ['change-notification'], uses: [P.object] }),
  file('flush', 'device/ioctl/async', 'flushes a file through an async request (fsync for files, an IRP for devices)', { missing: ['async-io'] }),
  file('get_file_info', 'shared-state', 'file information classes computed from the fd object (fstat of the native fd, pipe and mailslot state)', { uses: [P.read, P.fd] }),
  file('get_volume_info', 'device/ioctl/async', 'volume information, answered asynchronously by the owning device', { missing: ['async-io'] }),
  file('lock_file', 'missing-primitive', 'locks a byte range shared or exclusive, waiting through the returned handle when busy', { missing: ['byte-range-lock', 'signal-wakeup'] }),
  file('unlock_file', 'missing-primitive', 'releases a byte range and wakes the lock_file waiters it unblocks', { missing: ['byte-range-lock', 'signal-wakeup'] }),
  file('read_directory_changes', 'missing-primitive', 'arms an inotify watch on a directory and completes an async when it fires', { missing: ['change-notification', 'async-io'] }),
  file('read_change', 'missing-primitive', 'returns the queued change records of a watched directory', { missing: ['change-notification'] }),
  file('set_fd_disp_info', 'shared-state', 'marks a file delete-on-close; wineserver unlinks it when the last fd object closes', { uses: [P.object, P.lock] }),
  file('set_fd_name_info', 'shared-state', 'renames or links the file behind a handle (rename(2)/link(2)) after checking sharing and replace rules', { uses: [P.object, P.fd, P.lock] }),
  file('set_fd_eof_info', 'shared-state', 'truncates the file behind a handle, refused while an image mapping uses it', { uses: [P.object, P.fd], domains: ['fd-objects', 'memory-views'] }),
  file('set_fd_completion_mode', 'shared-state', 'sets the completion flags (skip on success, skip event) of an fd object', { uses: [P.object] }),
  file('cancel_sync', 'device/ioctl/async', "cancels a thread's pending synchronous I/O", { missing: ['async-io'] }),
  file('get_serial_info', 'shared-state', 'timeouts and event mask stored with a forwarded serial port object', { uses: [P.read] }),
  file('set_serial_info', 'shared-state', 'sets timeouts and event mask of a serial port object (also cancels a pending wait)', { uses: [P.object] }),

  sock('recv_socket', 'device/ioctl/async', 'starts a receive on a socket: completes now or later through an async, with poll(2) done by wineserver', { missing: ['async-io'] }),
  sock('send_socket', 'device/ioctl/async', 'starts a send on a socket: completes now or later through an async', { missing: ['async-io'] }),
  sock('socket_send_icmp_id', 'shared-state', 'remembers an ICMP echo id/sequence pair on a socket object for the reply fix-up', { uses: [P.object] }),
  sock('socket_get_icmp_id', 'shared-state', 'looks up the ICMP id stored by socket_send_icmp_id', { uses: [P.read] }),
  sock('create_named_pipe', 'device/ioctl/async', 'named pipe instances are socketpairs whose listen, connect and flush are asynchronous ioctls', { missing: ['async-io'], uses: [P.object, P.fd], domains: ['fd-objects', 'object-namespace'] }),
  sock('set_named_pipe_info', 'shared-state', 'sets read mode and completion mode of a forwarded pipe end', { uses: [P.object] }),
  sock('create_mailslot', 'device/ioctl/async', 'a mailslot is a datagram socketpair whose reads wait asynchronously for messages', { missing: ['async-io'], uses: [P.object, P.fd], domains: ['fd-objects', 'object-namespace'] }),
  sock('set_mailslot_info', 'shared-state', 'sets the read timeout of a forwarded mailslot', { uses: [P.object] }),

  console_('get_next_console_request', 'device/ioctl/async', 'conhost takes the next console ioctl queued by clients and answers the previous one', { missing: ['message-queue', 'async-io'] }),

  dev('register_async', 'device/ioctl/async', 'queues an async read/write/wait on an fd object, completed when the fd is ready', { missing: ['async-io'] }),
  dev('cancel_async', 'device/ioctl/async', 'cancels the asyncs of an fd object (by iosb or all of a thread)', { missing: ['async-io'] }),
  dev('get_async_result', 'device/ioctl/async', "fetches an async's result and output data once it completed", { missing: ['async-io'] }),
  dev('set_async_direct_result', 'device/ioctl/async', 'reports that an async the client performed directly has completed, closing its wait handle', { missing: ['async-io'] }),
  dev('read', 'device/ioctl/async', 'a read served by wineserver for devices and pipes, possibly pending as an async', { missing: ['async-io'] }),
  dev('write', 'device/ioctl/async', 'a write served by wineserver for devices and pipes, possibly pending as an async', { missing: ['async-io'] }),
  dev('ioctl', 'device/ioctl/async', 'an ioctl routed to the fd type (sockets, pipes, consoles, mount manager) or to a device driver as an IRP', { missing: ['async-io', 'message-queue'] }),
  dev('set_irp_result', 'device/ioctl/async', 'a driver (winedevice) completes an IRP, which completes the client async', { missing: ['async-io'] }),
  dev('create_device_manager', 'device/ioctl/async', "a device manager is the IRP queue of a driver host process", { missing: ['message-queue'] }),
  dev('create_device', 'device/ioctl/async', 'creates a device object in the namespace, served by a device manager', { missing: ['message-queue'], uses: [P.object], domains: ['fd-objects', 'object-namespace'] }),
  dev('delete_device', 'device/ioctl/async', 'removes a device and fails its pending IRPs', { missing: ['message-queue'] }),
  dev('get_next_device_request', 'device/ioctl/async', 'the driver host takes the next IRP (blocking on the manager when there is none)', { missing: ['message-queue'] }),
  dev('get_kernel_object_ptr', 'device/ioctl/async', 'looks up the kernel-side pointer a driver host associated with a server object', { uses: [P.read] }),
  dev('set_kernel_object_ptr', 'device/ioctl/async', 'associates a driver-side pointer with a server object for one device manager', { uses: [P.object] }),
  dev('grab_kernel_object', 'device/ioctl/async', 'takes a reference on the server object behind a driver-side pointer', { uses: [P.read] }),
  dev('release_kernel_object', 'device/ioctl/async', 'drops a reference taken by grab_kernel_object', { uses: [P.read] }),
  dev('get_kernel_object_handle', 'device/ioctl/async', 'opens a handle to the server object behind a driver-side pointer', { uses: [P.read] }),
];
