// The window system's server side (server/window.c, queue.c, hook.c,
// class.c, winstation.c, clipboard.c, user.c). Much of it is exactly what the
// 2003 proposal had in mind: a window is an object "window:<hwnd>" whose
// data is its rectangles, styles, text and properties, and the assigned-name
// counter of the primitives even produces hwnd-like names. What the
// primitives lack is the other half: per-thread message queues that block in
// get_message and wake on posted, sent and hardware messages, paint and timer
// bits, and synchronous cross-thread sends. Because every window request
// reads or writes queue state (paint counts, focus, activation messages) or
// sits in the same tree, the family is one domain and is forwarded.

import type { ForwardedEntry } from '../translator.ts';
import { family, P } from './define.ts';

const win = family('windows/messages/hooks/classes', ['window-tree']);
const desk = family('desktops/winstations/input', ['window-tree']);
const clip = family('clipboard', ['clipboard']);

const atoms = ['window-tree', 'global-atom-table'] as const;
const queue = ['message-queue'] as const;
const windowData = [P.object, P.lock] as const;

export const USER_ENTRIES: ForwardedEntry[] = [
  win('get_msg_queue', 'window-system', "creates the calling thread's message queue and returns a handle select can wait on", { missing: ['message-queue', 'wait-multiple'] }),
  win('set_queue_fd', 'window-system', "makes wineserver poll the thread's display connection fd and wake the queue when it is readable", { missing: ['message-queue', 'signal-wakeup'] }),
  win('set_queue_mask', 'window-system', 'sets the wake and changed masks of the queue and reports whether it is already signalled', { missing: queue }),
  win('get_queue_status', 'window-system', 'reads (and optionally clears) the wake and changed bits of the queue', { missing: queue }),
  win('get_process_idle_event', 'window-system', "the event signalled when the process's threads wait for input (WaitForInputIdle)", { missing: ['signal-wakeup'] }),
  win('send_message', 'window-system', 'queues a sent, posted, notify or callback message to the thread owning a window and wakes it', { missing: queue }),
  win('post_quit_message', 'window-system', 'sets the quit flag of the queue and wakes it', { missing: queue }),
  win('send_hardware_message', 'window-system', 'routes keyboard/mouse/HID input to the right thread queue, updating key state and cursor position', { missing: queue }),
  win('get_message', 'window-system', 'takes the next matching message (sent first, then posted, hardware, paint, timer) or makes the caller wait on its queue', { missing: ['message-queue', 'wait-multiple'] }),
  win('reply_message', 'window-system', 'answers the sent message being processed and wakes its sender', { missing: queue }),
  win('accept_hardware_message', 'window-system', 'removes the hardware message that get_message returned once the client accepts it', { missing: queue }),
  win('get_message_reply', 'window-system', 'fetches the reply to a message this thread sent, or waits for it', { missing: ['message-queue', 'wait-multiple'] }),
  win('set_win_timer', 'window-system', 'arms a window timer that posts WM_TIMER/WM_SYSTIMER to the queue', { missing: ['timer', 'message-queue'] }),
  win('kill_win_timer', 'window-system', 'disarms a window timer, dropping a pending WM_TIMER from the queue', { missing: ['timer'] }),
  win('is_window_hung', 'window-system', "whether the window's thread has not read its queue for 5 seconds", { missing: queue }),

  win('create_window', 'window-system', "a window object (the proposal's own 'window:' example) linked into parent, owner and z-order, resolving the class by atom", { uses: [...windowData, 'object_unlink'], domains: atoms }),
  win('destroy_window', 'window-system', 'destroys a window and its children, releasing property atoms and clipboard ownership', { uses: [...windowData, P.unlink], domains: [...atoms, 'clipboard'] }),
  win('get_desktop_window', 'window-system', "returns (creating on demand) the desktop and message-only top windows of the thread's desktop", { uses: windowData, domains: atoms }),
  win('set_window_owner', 'window-system', 'changes the owner window (data), refusing cycles', { uses: windowData }),
  win('get_window_info', 'window-system', "ids of a window's process and thread, its class atom and flags (data of the window object)", { uses: [P.read], domains: atoms }),
  win('set_window_info', 'window-system', 'sets style, ex-style, id, instance, user data or extra bytes, returning the old values', { uses: windowData }),
  win('set_parent', 'window-system', 'moves a window under a new parent (re-linking z-order) and returns the old parent', { uses: windowData }),
  win('get_window_parents', 'window-system', 'the chain of parents up to the desktop (reads parent links)', { uses: [P.read] }),
  win('get_window_children', 'window-system', 'the children of a window filtered by class atom, thread and desktop', { uses: [P.read, P.list], domains: atoms }),
  win('get_window_children_from_point', 'window-system', 'the visible children containing a point, in z-order (geometry on the window data)', { uses: [P.read] }),
  win('get_window_tree', 'window-system', 'parent, owner, first/last/next/previous siblings and first/last child of a window', { uses: [P.read] }),
  win('set_window_pos', 'window-system', 'moves, sizes and re-orders a window, invalidating what becomes visible (queue paint counts)', { missing: queue, uses: windowData }),
  win('get_window_rectangles', 'window-system', 'window, client and visible rectangles in a chosen coordinate space', { uses: [P.read] }),
  win('get_window_text', 'window-system', 'copies the window text kept with the window object (data)', { uses: [P.read] }),
  win('set_window_text', 'window-system', 'replaces the window text kept with the window object (data)', { uses: windowData }),
  win('get_windows_offset', 'window-system', 'the offset between two windows client areas, mirroring included', { uses: [P.read] }),
  win('get_visible_region', 'window-system', 'the visible region of a window after clipping by siblings, children and parents', { uses: [P.read] }),
  win('get_surface_region', 'window-system', 'the visible region of the surface a window draws on', { uses: [P.read] }),
  win('get_window_region', 'window-system', 'the shape region of a window (data)', { uses: [P.read] }),
  win('set_window_region', 'window-system', 'sets the shape region and redraws what changes', { missing: queue, uses: windowData }),
  win('get_update_region', 'window-system', 'takes the update region to paint, clearing paint flags and the queue paint count', { missing: queue, uses: windowData }),
  win('update_window_zorder', 'window-system', 'raises a window above the siblings that cover a rectangle', { uses: windowData }),
  win('redraw_window', 'window-system', 'invalidates or validates regions of a window tree, waking the owner queues with QS_PAINT', { missing: queue, uses: windowData }),
  win('set_window_property', 'window-system', 'sets a window property by name or atom; names are added to the global atom table', { uses: windowData, domains: atoms }),
  win('remove_window_property', 'window-system', 'removes a window property and releases its atom', { uses: windowData, domains: atoms }),
  win('get_window_property', 'window-system', 'reads a window property by name (looked up in the global atom table) or atom', { uses: [P.read], domains: atoms }),
  win('get_window_properties', 'window-system', 'lists the atoms and values of all properties of a window', { uses: [P.read], domains: atoms }),
  win('get_window_layered_info', 'window-system', 'color key, alpha and flags of a layered window (data)', { uses: [P.read] }),
  win('set_window_layered_info', 'window-system', 'sets color key, alpha and flags of a layered window (data)', { uses: windowData }),
  win('alloc_user_handle', 'window-system', 'allocates a user handle (cursor, icon, menu...) in the table shared with window handles', { uses: [P.object] }),
  win('free_user_handle', 'window-system', 'frees a user handle allocated by alloc_user_handle', { uses: [P.read, P.unlink] }),
  win('set_hook', 'window-system', 'installs a hook for a thread or globally, with its module and procedure', { uses: windowData }),
  win('remove_hook', 'window-system', 'removes a hook by handle or by procedure', { uses: [P.read, P.unlink] }),
  win('start_hook_chain', 'window-system', 'finds the first hook to call for an event; out-of-process hooks are then called by sending messages', { missing: queue, uses: [P.read] }),
  win('finish_hook_chain', 'window-system', 'ends a hook chain call, freeing hooks removed meanwhile', { uses: windowData }),
  win('get_hook_info', 'window-system', 'the next hook of a chain with its procedure, module and thread', { uses: [P.read] }),
  win('create_class', 'window-system', 'registers a window class (local or global) under a string atom added to the global atom table', { uses: windowData, domains: atoms }),
  win('destroy_class', 'window-system', 'unregisters a class without windows, releasing its atoms', { uses: [P.read, P.unlink], domains: atoms }),
  win('set_class_info', 'window-system', 'changes a class atom, style, instance, extra bytes or window extra size', { uses: windowData, domains: atoms }),

  desk('create_winstation', 'window-system', 'creates a window station under \\Windows\\WindowStations with its atom table and clipboard', { uses: [P.object, P.acl], domains: ['window-tree', 'object-namespace'] }),
  desk('open_winstation', 'window-system', 'opens a window station by name under \\Windows\\WindowStations', { uses: [P.read], domains: ['window-tree', 'object-namespace'] }),
  desk('close_winstation', 'window-system', 'closes a window station handle unless it is the process window station', { uses: ['object_close'] }),
  desk('get_process_winstation', 'window-system', 'the window station handle of the calling process', { uses: [P.read] }),
  desk('set_process_winstation', 'window-system', 'sets the window station of the calling process', { uses: [P.object] }),
  desk('enum_winstation', 'window-system', 'the n-th window station name: object_list', { uses: [P.list] }),
  desk('create_desktop', 'window-system', 'creates a desktop in the process window station (with its top windows, hooks and input state)', { uses: [P.object, P.acl], domains: ['window-tree', 'object-namespace'] }),
  desk('open_desktop', 'window-system', 'opens a desktop of a window station by name', { uses: [P.read] }),
  desk('open_input_desktop', 'window-system', 'opens the desktop that receives input', { uses: [P.read] }),
  desk('close_desktop', 'window-system', 'closes a desktop handle unless a thread uses it', { uses: ['object_close'] }),
  desk('get_thread_desktop', 'window-system', 'the desktop handle a thread is attached to (in the caller handle table)', { uses: [P.read] }),
  desk('set_thread_desktop', 'window-system', 'sets the desktop of the calling thread (refused once it has windows or hooks)', { uses: [P.object] }),
  desk('enum_desktop', 'window-system', 'the n-th desktop name of a window station: object_list', { uses: [P.list] }),
  desk('set_user_object_info', 'window-system', 'reads the name and flags of a window station or desktop and sets its flags', { uses: [P.object, P.name] }),
  desk('register_hotkey', 'window-system', 'registers a hotkey that turns matching input into WM_HOTKEY for a window', { missing: queue, uses: [P.object] }),
  desk('unregister_hotkey', 'window-system', 'removes a hotkey registered by the same thread for a window and id', { uses: [P.read, P.unlink] }),
  desk('attach_thread_input', 'window-system', 'makes two threads share one input state (focus, active, capture, key state)', { missing: queue }),
  desk('get_thread_input', 'window-system', 'focus, capture, active, foreground, menu owner, caret and cursor of a thread input', { uses: [P.read] }),
  desk('get_last_input_time', 'window-system', 'time of the last hardware input of the desktop', { uses: [P.read] }),
  desk('get_key_state', 'window-system', 'the key state of the thread input or the async key state of the desktop', { uses: [P.read] }),
  desk('set_key_state', 'window-system', 'replaces the key state of the thread input (optionally the async state)', { uses: [P.object] }),
  desk('set_foreground_window', 'window-system', 'makes a window foreground, moving input focus between thread inputs and posting activation messages', { missing: queue }),
  desk('set_focus_window', 'window-system', 'sets the focus window of the thread input', { uses: [P.object] }),
  desk('set_active_window', 'window-system', 'sets the active window of the thread input', { uses: [P.object] }),
  desk('set_capture_window', 'window-system', 'sets the mouse capture window (and menu mode) of the thread input', { uses: [P.object] }),
  desk('set_caret_window', 'window-system', 'sets the caret window, size and hide state', { uses: [P.object] }),
  desk('set_caret_info', 'window-system', 'moves, shows or hides the caret, with its blink timer', { uses: [P.object] }),
  desk('set_cursor', 'window-system', 'sets cursor handle, show count, position and clip rectangle; moving it generates mouse input', { missing: queue, uses: [P.object] }),
  desk('get_cursor_history', 'window-system', 'the last 64 cursor positions of the desktop', { uses: [P.read] }),
  desk('get_rawinput_buffer', 'window-system', 'takes the queued WM_INPUT messages of the thread as a batch', { missing: queue }),
  desk('update_rawinput_devices', 'window-system', 'registers the raw input devices of the process', { uses: [P.object] }),
  desk('set_global_windows', 'window-system', 'sets or gets the shell, taskman and progman windows of the desktop', { uses: [P.object] }),

  clip('open_clipboard', 'window-system', 'takes the clipboard for a window, failing if another thread has it open', { uses: [P.object, P.lock] }),
  clip('close_clipboard', 'window-system', 'closes the clipboard and posts WM_CLIPBOARDUPDATE to the listeners', { missing: queue, uses: [P.object, P.lock] }),
  clip('empty_clipboard', 'window-system', 'empties the clipboard and makes the opener its owner', { uses: [P.object, P.lock] }),
  clip('set_clipboard_data', 'window-system', 'stores data for a format (or a delayed-render placeholder)', { uses: [P.object, P.lock] }),
  clip('get_clipboard_data', 'window-system', 'returns the data of a format, or the owner window to ask for delayed rendering', { uses: [P.read, P.lock] }),
  clip('get_clipboard_formats', 'window-system', 'lists the available formats, or tells whether one is', { uses: [P.read] }),
  clip('enum_clipboard_formats', 'window-system', 'the clipboard format that follows a given one in the list', { uses: [P.read] }),
  clip('release_clipboard', 'window-system', 'gives up clipboard ownership, dropping delayed-render formats and notifying listeners', { missing: queue, uses: [P.object, P.lock] }),
  clip('get_clipboard_info', 'window-system', 'the open window, owner, viewer and sequence number', { uses: [P.read] }),
  clip('set_clipboard_viewer', 'window-system', 'replaces the clipboard viewer window and returns the previous one', { uses: [P.object, P.lock] }),
  clip('add_clipboard_listener', 'window-system', 'adds a window to the listeners notified of clipboard changes', { uses: [P.object, P.lock] }),
  clip('remove_clipboard_listener', 'window-system', 'removes a clipboard listener window', { uses: [P.object, P.lock] }),
];
