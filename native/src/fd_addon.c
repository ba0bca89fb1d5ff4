/*
 * winekernel_fd: the few POSIX descriptor operations the proxy needs and
 * Node.js does not expose: passing descriptors over unix sockets
 * (SCM_RIGHTS), anonymous pipes and socket pairs, raw nonblocking
 * read/write on arbitrary descriptors, descriptor inspection, advisory
 * locks, and a readiness watcher on any descriptor built on libuv's poll
 * handle so that everything stays on Node's event loop.
 *
 * Conventions: every function that would block returns null (EAGAIN) instead;
 * every other failure throws an Error whose `code` is the errno name
 * ("EPIPE", "EBADF", ...) and whose `errno` is the number.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

/* Largest number of descriptors we accept in one message. Wine sends one;
 * anything beyond the first is closed so that a misbehaving peer cannot
 * make us leak descriptors. */
#define MAX_FDS_PER_MESSAGE 16
/* Largest payload of one descriptor message. Wine's are 4 or 8 bytes. */
#define MAX_FD_MESSAGE_DATA 256

#define CHECK_NAPI(env, call)                                              \
    do {                                                                   \
        if ((call) != napi_ok) {                                           \
            napi_throw_error((env), "EINTERNAL", "N-API call failed: " #call); \
            return NULL;                                                   \
        }                                                                  \
    } while (0)

static const char *errno_name(int err)
{
    switch (err) {
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case EPIPE: return "EPIPE";
    case ECONNRESET: return "ECONNRESET";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOTSOCK: return "ENOTSOCK";
    case EADDRINUSE: return "EADDRINUSE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOTDIR: return "ENOTDIR";
    case EINTR: return "EINTR";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    case EISDIR: return "EISDIR";
    case EEXIST: return "EEXIST";
    case ENOTCONN: return "ENOTCONN";
    default: return "EUNKNOWN";
    }
}

/* Throws an Error carrying the errno name as `code`; always returns NULL so
 * callers can `return throw_errno(...)`. */
static napi_value throw_errno(napi_env env, const char *what, int err)
{
    char message[256];
    napi_value code, msg, error, errno_value;

    snprintf(message, sizeof(message), "%s: %s", what, strerror(err));
    napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, code, msg, &error);
    napi_create_int32(env, err, &errno_value);
    napi_set_named_property(env, error, "errno", errno_value);
    napi_set_named_property(env, error, "code", code);
    napi_throw(env, error);
    return NULL;
}

static napi_value make_int(napi_env env, int64_t value)
{
    napi_value result;
    napi_create_int64(env, value, &result);
    return result;
}

static napi_value make_null(napi_env env)
{
    napi_value result;
    napi_get_null(env, &result);
    return result;
}

static napi_value make_bool(napi_env env, int value)
{
    napi_value result;
    napi_get_boolean(env, value, &result);
    return result;
}

static int get_args(napi_env env, napi_callback_info info, size_t wanted, napi_value *argv)
{
    size_t argc = wanted;
    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return -1;
    if (argc < wanted) {
        napi_throw_type_error(env, "EINVAL", "missing arguments");
        return -1;
    }
    return 0;
}

static int get_fd_arg(napi_env env, napi_value value, int *fd)
{
    if (napi_get_value_int32(env, value, fd) != napi_ok) {
        napi_throw_type_error(env, "EINVAL", "file descriptor must be a number");
        return -1;
    }
    return 0;
}

/* Gets a Buffer (or Uint8Array) argument's memory. */
static int get_bytes_arg(napi_env env, napi_value value, uint8_t **data, size_t *length)
{
    bool is_buffer = false, is_typedarray = false;
    napi_is_buffer(env, value, &is_buffer);
    if (is_buffer) {
        if (napi_get_buffer_info(env, value, (void **)data, length) == napi_ok) return 0;
    }
    napi_is_typedarray(env, value, &is_typedarray);
    if (is_typedarray) {
        napi_typedarray_type type;
        napi_value arraybuffer;
        size_t offset;
        if (napi_get_typedarray_info(env, value, &type, length, (void **)data, &arraybuffer, &offset) == napi_ok
            && type == napi_uint8_array)
            return 0;
    }
    napi_throw_type_error(env, "EINVAL", "expected a Buffer");
    return -1;
}

/* sendFd(sock, fd, data) -> bytes sent, or null when the socket is full. */
static napi_value send_fd(napi_env env, napi_callback_info info)
{
    napi_value argv[3];
    int sock, fd;
    uint8_t *data;
    size_t length;
    struct msghdr msg;
    struct iovec iov;
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    struct cmsghdr *cmsg;
    ssize_t sent;

    if (get_args(env, info, 3, argv) || get_fd_arg(env, argv[0], &sock) || get_fd_arg(env, argv[1], &fd)
        || get_bytes_arg(env, argv[2], &data, &length))
        return NULL;
    if (length == 0) {
        /* A descriptor needs at least one byte of data to travel with. */
        napi_throw_range_error(env, "EINVAL", "descriptor message needs data");
        return NULL;
    }

    memset(&msg, 0, sizeof(msg));
    memset(&control, 0, sizeof(control));
    iov.iov_base = data;
    iov.iov_len = length;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (fd >= 0) {
        msg.msg_control = control.buf;
        msg.msg_controllen = sizeof(control.buf);
        cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    }

    do {
        sent = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return make_null(env);
        return throw_errno(env, "sendmsg", errno);
    }
    return make_int(env, sent);
}

/* recvFd(sock) -> { data: Buffer, fd: number, extraFds: number, truncated: bool }
 * or null when nothing is waiting. An empty `data` means end of stream. */
static napi_value recv_fd(napi_env env, napi_callback_info info)
{
    napi_value argv[1], result, buffer;
    int sock, fd = -1, extra = 0, truncated = 0;
    uint8_t data[MAX_FD_MESSAGE_DATA];
    struct msghdr msg;
    struct iovec iov;
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * MAX_FDS_PER_MESSAGE)];
    } control;
    struct cmsghdr *cmsg;
    ssize_t received;
    void *buffer_data;

    if (get_args(env, info, 1, argv) || get_fd_arg(env, argv[0], &sock)) return NULL;

    memset(&msg, 0, sizeof(msg));
    iov.iov_base = data;
    iov.iov_len = sizeof(data);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof(control.buf);

    do {
        received = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    } while (received < 0 && errno == EINTR);
    if (received < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return make_null(env);
        return throw_errno(env, "recvmsg", errno);
    }

    for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        size_t count, i;
        int *fds;
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
        count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        fds = (int *)CMSG_DATA(cmsg);
        for (i = 0; i < count; i++) {
            int one;
            memcpy(&one, &fds[i], sizeof(int));
            if (fd == -1) fd = one;
            else { close(one); extra++; }
        }
    }
    if (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) truncated = 1;

    CHECK_NAPI(env, napi_create_object(env, &result));
    CHECK_NAPI(env, napi_create_buffer_copy(env, (size_t)received, data, &buffer_data, &buffer));
    napi_set_named_property(env, result, "data", buffer);
    napi_set_named_property(env, result, "fd", make_int(env, fd));
    napi_set_named_property(env, result, "extraFds", make_int(env, extra));
    napi_set_named_property(env, result, "truncated", make_bool(env, truncated));
    return result;
}

static napi_value make_pair(napi_env env, int a, int b)
{
    napi_value array;
    napi_create_array_with_length(env, 2, &array);
    napi_set_element(env, array, 0, make_int(env, a));
    napi_set_element(env, array, 1, make_int(env, b));
    return array;
}

/* socketpair() -> [a, b]: a connected pair of unix stream sockets, close-on-exec. */
static napi_value socket_pair(napi_env env, napi_callback_info info)
{
    int fds[2];
    (void)info;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
        return throw_errno(env, "socketpair", errno);
    return make_pair(env, fds[0], fds[1]);
}

/* pipe() -> [readEnd, writeEnd], close-on-exec. */
static napi_value make_pipe(napi_env env, napi_callback_info info)
{
    int fds[2];
    (void)info;
    if (pipe2(fds, O_CLOEXEC) < 0) return throw_errno(env, "pipe2", errno);
    return make_pair(env, fds[0], fds[1]);
}

/* dup(fd) -> new fd, close-on-exec. */
static napi_value dup_fd(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    int fd, copy;
    if (get_args(env, info, 1, argv) || get_fd_arg(env, argv[0], &fd)) return NULL;
    copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) return throw_errno(env, "dup", errno);
    return make_int(env, copy);
}

/* close(fd). Closing an already closed descriptor throws EBADF so that
 * double closes (which could hit a reused number) show up in tests. */
static napi_value close_fd(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    int fd;
    if (get_args(env, info, 1, argv) || get_fd_arg(env, argv[0], &fd)) return NULL;
    if (close(fd) < 0 && errno != EINTR) return throw_errno(env, "close", errno);
    return NULL;
}

/* setNonBlocking(fd, on = true) */
static napi_value set_non_blocking(napi_env env, napi_callback_info info)
{
    napi_value argv[2];
    size_t argc = 2;
    int fd, flags;
    bool on = true;
    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) {
        napi_throw_type_error(env, "EINVAL", "missing arguments");
        return NULL;
    }
    if (get_fd_arg(env, argv[0], &fd)) return NULL;
    if (argc > 1) napi_get_value_bool(env, argv[1], &on);
    flags = fcntl(fd, F_GETFL);
    if (flags < 0) return throw_errno(env, "fcntl(F_GETFL)", errno);
    flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    if (fcntl(fd, F_SETFL, flags) < 0) return throw_errno(env, "fcntl(F_SETFL)", errno);
    return NULL;
}

/* fdInfo(fd) -> { type, access, nonBlocking, cloexec, dev, ino } */
static napi_value fd_info(napi_env env, napi_callback_info info)
{
    napi_value argv[1], result, str;
    int fd, flags, fdflags;
    struct stat st;
    const char *type, *access;

    if (get_args(env, info, 1, argv) || get_fd_arg(env, argv[0], &fd)) return NULL;
    if (fstat(fd, &st) < 0) return throw_errno(env, "fstat", errno);
    flags = fcntl(fd, F_GETFL);
    fdflags = fcntl(fd, F_GETFD);
    if (flags < 0 || fdflags < 0) return throw_errno(env, "fcntl", errno);

    if (S_ISFIFO(st.st_mode)) type = "fifo";
    else if (S_ISSOCK(st.st_mode)) type = "socket";
    else if (S_ISREG(st.st_mode)) type = "file";
    else if (S_ISDIR(st.st_mode)) type = "directory";
    else if (S_ISCHR(st.st_mode)) type = "char";
    else if (S_ISBLK(st.st_mode)) type = "block";
    else type = "other";

    switch (flags & O_ACCMODE) {
    case O_RDONLY: access = "r"; break;
    case O_WRONLY: access = "w"; break;
    default: access = "rw"; break;
    }

    CHECK_NAPI(env, napi_create_object(env, &result));
    napi_create_string_utf8(env, type, NAPI_AUTO_LENGTH, &str);
    napi_set_named_property(env, result, "type", str);
    napi_create_string_utf8(env, access, NAPI_AUTO_LENGTH, &str);
    napi_set_named_property(env, result, "access", str);
    napi_set_named_property(env, result, "nonBlocking", make_bool(env, (flags & O_NONBLOCK) != 0));
    napi_set_named_property(env, result, "cloexec", make_bool(env, (fdflags & FD_CLOEXEC) != 0));
    napi_set_named_property(env, result, "dev", make_int(env, (int64_t)st.st_dev));
    napi_set_named_property(env, result, "ino", make_int(env, (int64_t)st.st_ino));
    return result;
}

/* Shared argument parsing of read/write: (fd, buffer, offset, length). */
static int get_io_args(napi_env env, napi_callback_info info, int *fd, uint8_t **data, size_t *length)
{
    napi_value argv[4];
    int64_t offset, count;
    size_t buffer_length;
    if (get_args(env, info, 4, argv) || get_fd_arg(env, argv[0], fd)
        || get_bytes_arg(env, argv[1], data, &buffer_length))
        return -1;
    if (napi_get_value_int64(env, argv[2], &offset) != napi_ok
        || napi_get_value_int64(env, argv[3], &count) != napi_ok || offset < 0 || count < 0
        || (uint64_t)offset + (uint64_t)count > buffer_length) {
        napi_throw_range_error(env, "EINVAL", "offset/length outside the buffer");
        return -1;
    }
    *data += offset;
    *length = (size_t)count;
    return 0;
}

/* read(fd, buffer, offset, length) -> bytes read (0 = end of stream), or null
 * when nothing is available. */
static napi_value read_fd(napi_env env, napi_callback_info info)
{
    int fd;
    uint8_t *data;
    size_t length;
    ssize_t done;
    if (get_io_args(env, info, &fd, &data, &length)) return NULL;
    do {
        done = read(fd, data, length);
    } while (done < 0 && errno == EINTR);
    if (done < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return make_null(env);
        return throw_errno(env, "read", errno);
    }
    return make_int(env, done);
}

/* write(fd, buffer, offset, length) -> bytes written, or null when full. */
static napi_value write_fd(napi_env env, napi_callback_info info)
{
    int fd;
    uint8_t *data;
    size_t length;
    ssize_t done;
    if (get_io_args(env, info, &fd, &data, &length)) return NULL;
    do {
        done = write(fd, data, length);
    } while (done < 0 && errno == EINTR);
    if (done < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return make_null(env);
        return throw_errno(env, "write", errno);
    }
    return make_int(env, done);
}

static int fill_unix_address(napi_env env, napi_value value, struct sockaddr_un *addr)
{
    size_t length;
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    if (napi_get_value_string_utf8(env, value, addr->sun_path, sizeof(addr->sun_path), &length) != napi_ok) {
        napi_throw_type_error(env, "EINVAL", "socket path must be a string");
        return -1;
    }
    if (length >= sizeof(addr->sun_path) - 1) {
        throw_errno(env, "socket path", ENAMETOOLONG);
        return -1;
    }
    return 0;
}

/* connectUnix(path) -> fd of a connected, nonblocking, close-on-exec socket,
 * or null when the listener's backlog is full. */
static napi_value connect_unix(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    struct sockaddr_un addr;
    int sock;
    if (get_args(env, info, 1, argv) || fill_unix_address(env, argv[0], &addr)) return NULL;
    sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (sock < 0) return throw_errno(env, "socket", errno);
    /* A unix stream connect never goes "in progress": it succeeds, or fails
     * with EAGAIN when the listener's backlog is full (try again later). */
    if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        int err = errno;
        close(sock);
        if (err == EAGAIN) return make_null(env);
        return throw_errno(env, "connect", err);
    }
    return make_int(env, sock);
}

/* listenUnix(path, backlog) -> fd of a nonblocking listening socket. */
static napi_value listen_unix(napi_env env, napi_callback_info info)
{
    napi_value argv[2];
    struct sockaddr_un addr;
    int sock, backlog;
    if (get_args(env, info, 2, argv) || fill_unix_address(env, argv[0], &addr)) return NULL;
    if (napi_get_value_int32(env, argv[1], &backlog) != napi_ok) backlog = 64;
    sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (sock < 0) return throw_errno(env, "socket", errno);
    if (bind(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(sock, backlog) < 0) {
        int err = errno;
        close(sock);
        return throw_errno(env, "bind/listen", err);
    }
    return make_int(env, sock);
}

/* accept(listenFd) -> fd of a nonblocking, close-on-exec connection, or null. */
static napi_value accept_unix(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    int sock, client;
    if (get_args(env, info, 1, argv) || get_fd_arg(env, argv[0], &sock)) return NULL;
    do {
        client = accept4(sock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    } while (client < 0 && errno == EINTR);
    if (client < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED) return make_null(env);
        return throw_errno(env, "accept", errno);
    }
    return make_int(env, client);
}

/* lockFile(fd) -> true when we now hold a write lock on the first byte,
 * false when another process holds it (the wineserver "lock" convention). */
static napi_value lock_file(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    int fd;
    struct flock fl;
    if (get_args(env, info, 1, argv) || get_fd_arg(env, argv[0], &fd)) return NULL;
    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 1;
    if (fcntl(fd, F_SETLK, &fl) < 0) {
        if (errno == EAGAIN || errno == EACCES) return make_bool(env, 0);
        return throw_errno(env, "fcntl(F_SETLK)", errno);
    }
    return make_bool(env, 1);
}

/* clearCloexec(fd): lets a descriptor survive exec (for handing a socket to
 * a launched client). */
static napi_value clear_cloexec(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    int fd, flags;
    if (get_args(env, info, 1, argv) || get_fd_arg(env, argv[0], &fd)) return NULL;
    flags = fcntl(fd, F_GETFD);
    if (flags < 0 || fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0) return throw_errno(env, "fcntl(F_SETFD)", errno);
    return NULL;
}

/* clockGettime(clockId) -> bigint nanoseconds of clock_gettime(clockId).
 * Wine's clients count relative wait deadlines on CLOCK_MONOTONIC_RAW,
 * which Node does not read (process.hrtime is CLOCK_MONOTONIC). */
static napi_value clock_get_time(napi_env env, napi_callback_info info)
{
    napi_value argv[1], result;
    int32_t id;
    struct timespec ts;
    if (get_args(env, info, 1, argv)) return NULL;
    if (napi_get_value_int32(env, argv[0], &id) != napi_ok) {
        napi_throw_type_error(env, "EINVAL", "clockGettime: clock id must be a number");
        return NULL;
    }
    if (clock_gettime((clockid_t)id, &ts) < 0) return throw_errno(env, "clock_gettime", errno);
    CHECK_NAPI(env, napi_create_bigint_int64(env, (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec, &result));
    return result;
}

/* ------------------------------------------------------------------------
 * Watcher: readiness notifications for one descriptor on Node's loop.
 *
 *   const w = new Watcher(fd, (status, events) => ...);
 *   w.start(READABLE | WRITABLE); w.stop(); w.close();
 *
 * close() unregisters the descriptor from epoll synchronously, so the caller
 * may close the descriptor right after it. The descriptor itself is never
 * closed by the watcher.
 */
typedef struct {
    uv_poll_t handle;
    napi_env env;
    napi_ref callback;
    napi_ref self;
    napi_async_context async_context;
    int fd;
    int started;
    int closed;
} watcher_t;

static void watcher_handle_closed(uv_handle_t *handle)
{
    free(handle->data);
}

static void watcher_release(watcher_t *w)
{
    if (w->closed) return;
    w->closed = 1;
    if (w->callback) { napi_delete_reference(w->env, w->callback); w->callback = NULL; }
    if (w->async_context) { napi_async_destroy(w->env, w->async_context); w->async_context = NULL; }
    /* uv_close removes the descriptor from epoll right away; the memory goes
     * in the close callback. */
    w->handle.data = w;
    uv_close((uv_handle_t *)&w->handle, watcher_handle_closed);
}

static void watcher_on_event(uv_poll_t *handle, int status, int events)
{
    watcher_t *w = handle->data;
    napi_handle_scope scope;
    napi_value callback, global, argv[2], result;
    int js_events = 0;

    if (w->closed || !w->callback) return;
    if (events & UV_READABLE) js_events |= 1;
    if (events & UV_WRITABLE) js_events |= 2;
    if (events & UV_DISCONNECT) js_events |= 4;

    napi_open_handle_scope(w->env, &scope);
    napi_get_reference_value(w->env, w->callback, &callback);
    napi_get_global(w->env, &global);
    napi_create_int32(w->env, status, &argv[0]);
    napi_create_int32(w->env, js_events, &argv[1]);
    /* make_callback so that an exception in the handler reaches Node's
     * uncaught exception machinery instead of being left pending. */
    napi_make_callback(w->env, w->async_context, global, callback, 2, argv, &result);
    napi_close_handle_scope(w->env, scope);
}

static void watcher_finalize(napi_env env, void *data, void *hint)
{
    watcher_t *w = data;
    (void)env;
    (void)hint;
    if (!w) return;
    if (w->closed) return; /* memory is freed by libuv's close callback */
    watcher_release(w);
}

static watcher_t *unwrap_watcher(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv)
{
    napi_value self;
    watcher_t *w = NULL;
    if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
    if (napi_unwrap(env, self, (void **)&w) != napi_ok || !w) {
        napi_throw_error(env, "EINVAL", "not a Watcher");
        return NULL;
    }
    if (w->closed) {
        napi_throw_error(env, "EBADF", "Watcher is closed");
        return NULL;
    }
    return w;
}

static napi_value watcher_constructor(napi_env env, napi_callback_info info)
{
    napi_value argv[2], self, resource_name;
    size_t argc = 2;
    napi_valuetype type;
    watcher_t *w;
    uv_loop_t *loop;
    int fd, rc;

    CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
    if (argc < 2 || get_fd_arg(env, argv[0], &fd)) {
        if (argc < 2) napi_throw_type_error(env, "EINVAL", "new Watcher(fd, callback)");
        return NULL;
    }
    napi_typeof(env, argv[1], &type);
    if (type != napi_function) {
        napi_throw_type_error(env, "EINVAL", "callback must be a function");
        return NULL;
    }
    CHECK_NAPI(env, napi_get_uv_event_loop(env, &loop));

    w = calloc(1, sizeof(*w));
    if (!w) return throw_errno(env, "calloc", ENOMEM);
    w->env = env;
    w->fd = fd;
    rc = uv_poll_init(loop, &w->handle, fd);
    if (rc != 0) {
        free(w);
        return throw_errno(env, "uv_poll_init", -rc);
    }
    w->handle.data = w;
    napi_create_reference(env, argv[1], 1, &w->callback);
    napi_create_string_utf8(env, "winekernel.fdwatcher", NAPI_AUTO_LENGTH, &resource_name);
    napi_async_init(env, NULL, resource_name, &w->async_context);
    if (napi_wrap(env, self, w, watcher_finalize, NULL, NULL) != napi_ok) {
        watcher_release(w);
        napi_throw_error(env, "EINTERNAL", "napi_wrap failed");
        return NULL;
    }
    return self;
}

static napi_value watcher_start(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    size_t argc = 1;
    int js_events = 1, uv_events = 0, rc;
    watcher_t *w = unwrap_watcher(env, info, &argc, argv);
    if (!w) return NULL;
    if (argc > 0) napi_get_value_int32(env, argv[0], &js_events);
    if (js_events & 1) uv_events |= UV_READABLE;
    if (js_events & 2) uv_events |= UV_WRITABLE;
    if (js_events & 4) uv_events |= UV_DISCONNECT;
    if (uv_events == 0) {
        uv_poll_stop(&w->handle);
        w->started = 0;
        return NULL;
    }
    rc = uv_poll_start(&w->handle, uv_events, watcher_on_event);
    if (rc != 0) return throw_errno(env, "uv_poll_start", -rc);
    w->started = 1;
    return NULL;
}

static napi_value watcher_stop(napi_env env, napi_callback_info info)
{
    size_t argc = 0;
    watcher_t *w = unwrap_watcher(env, info, &argc, NULL);
    if (!w) return NULL;
    uv_poll_stop(&w->handle);
    w->started = 0;
    return NULL;
}

static napi_value watcher_close(napi_env env, napi_callback_info info)
{
    size_t argc = 0;
    napi_value self;
    watcher_t *w = NULL;
    if (napi_get_cb_info(env, info, &argc, NULL, &self, NULL) != napi_ok) return NULL;
    if (napi_remove_wrap(env, self, (void **)&w) != napi_ok || !w) return NULL; /* already closed */
    watcher_release(w);
    return NULL;
}

/* Keeps the loop alive only while wanted: ref(true) / ref(false). */
static napi_value watcher_ref(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    size_t argc = 1;
    bool on = true;
    watcher_t *w = unwrap_watcher(env, info, &argc, argv);
    if (!w) return NULL;
    if (argc > 0) napi_get_value_bool(env, argv[0], &on);
    if (on) uv_ref((uv_handle_t *)&w->handle);
    else uv_unref((uv_handle_t *)&w->handle);
    return NULL;
}

static napi_value init(napi_env env, napi_value exports)
{
    napi_property_descriptor functions[] = {
        { "sendFd", NULL, send_fd, NULL, NULL, NULL, napi_default, NULL },
        { "recvFd", NULL, recv_fd, NULL, NULL, NULL, napi_default, NULL },
        { "socketpair", NULL, socket_pair, NULL, NULL, NULL, napi_default, NULL },
        { "pipe", NULL, make_pipe, NULL, NULL, NULL, napi_default, NULL },
        { "dup", NULL, dup_fd, NULL, NULL, NULL, napi_default, NULL },
        { "close", NULL, close_fd, NULL, NULL, NULL, napi_default, NULL },
        { "setNonBlocking", NULL, set_non_blocking, NULL, NULL, NULL, napi_default, NULL },
        { "fdInfo", NULL, fd_info, NULL, NULL, NULL, napi_default, NULL },
        { "read", NULL, read_fd, NULL, NULL, NULL, napi_default, NULL },
        { "write", NULL, write_fd, NULL, NULL, NULL, napi_default, NULL },
        { "connectUnix", NULL, connect_unix, NULL, NULL, NULL, napi_default, NULL },
        { "listenUnix", NULL, listen_unix, NULL, NULL, NULL, napi_default, NULL },
        { "accept", NULL, accept_unix, NULL, NULL, NULL, napi_default, NULL },
        { "lockFile", NULL, lock_file, NULL, NULL, NULL, napi_default, NULL },
        { "clearCloexec", NULL, clear_cloexec, NULL, NULL, NULL, napi_default, NULL },
        { "clockGettime", NULL, clock_get_time, NULL, NULL, NULL, napi_default, NULL },
    };
    napi_property_descriptor watcher_methods[] = {
        { "start", NULL, watcher_start, NULL, NULL, NULL, napi_default, NULL },
        { "stop", NULL, watcher_stop, NULL, NULL, NULL, napi_default, NULL },
        { "close", NULL, watcher_close, NULL, NULL, NULL, napi_default, NULL },
        { "ref", NULL, watcher_ref, NULL, NULL, NULL, napi_default, NULL },
    };
    napi_value watcher_class;

    CHECK_NAPI(env, napi_define_properties(env, exports, sizeof(functions) / sizeof(functions[0]), functions));
    CHECK_NAPI(env, napi_define_class(env, "Watcher", NAPI_AUTO_LENGTH, watcher_constructor, NULL,
                                      sizeof(watcher_methods) / sizeof(watcher_methods[0]), watcher_methods,
                                      &watcher_class));
    CHECK_NAPI(env, napi_set_named_property(env, exports, "Watcher", watcher_class));
    return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
