/*
 * Test harness for requests/kinds: runs wineserver's own trace dumpers on
 * bytes read from stdin so our trace text can be compared with Wine's.
 * Built by wine-harness.ts against a Wine source tree; Wine's trace.c and the
 * two helpers it needs from fd.c and unicode.c are pulled in at build time
 * from that tree (nothing of Wine is kept in this repository).
 *
 * Input lines:  <kind> <current_time> <monotonic_time> <hex bytes>
 *               where <kind> is a vararg kind, a fixed type, or
 *               request:<code> / reply:<code> with a whole 64+n byte frame
 * Output:       the dumper's text on stderr, then "\n<<END>>\n".
 */
#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))
#include "trace.c"
#include <string.h>

struct thread *current;
timeout_t current_time, monotonic_time;
#include "wine_helpers.inc"

static unsigned char data[1 << 20];
static char line[1 << 21];

static int hexval(int c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

int main(void)
{
    char kind[64];
    setvbuf(stderr, NULL, _IOFBF, 1 << 20);
    while (fgets(line, sizeof line, stdin))
    {
        long long now, mono;
        const char *hex;
        size_t n = 0;
        if (sscanf(line, "%63s %lld %lld", kind, &now, &mono) != 3) continue;
        current_time = now;
        monotonic_time = mono;
        hex = strrchr(line, ' ') + 1;
        while (hex[0] && hex[0] != '\n' && hex[1] && n < sizeof(data) - 65536)
        {
            data[n++] = hexval(hex[0]) * 16 + hexval(hex[1]);
            hex += 2;
        }
        memset(data + n, 0, 65536);
        cur_data = data;
        cur_size = n;
#define VARARG_KIND(k) else if (!strcmp(kind, #k)) dump_varargs_##k("", n);
#define FIXED_KIND(func, name, type) \
        else if (!strcmp(kind, name)) { \
            static union { type v; unsigned char b[512]; } u; \
            memset(&u, 0, sizeof(u)); memcpy(&u, data, n < sizeof(type) ? n : sizeof(type)); func("", &u.v); }
        int code;
        if (sscanf(kind, "request:%d", &code) == 1 && code >= 0 && code < REQ_NB_REQUESTS && n >= 64)
        {
            /* A whole request frame: the generated dumper of that request, as trace_request calls it. */
            cur_data = data + 64;
            cur_size = n - 64;
            req_dumpers[code]( data );
        }
        else if (sscanf(kind, "reply:%d", &code) == 1 && code >= 0 && code < REQ_NB_REQUESTS && n >= 64)
        {
            cur_data = data + 64;
            cur_size = n - 64;
            if (reply_dumpers[code]) reply_dumpers[code]( data );
        }
        VARARG_KIND(unicode_str) VARARG_KIND(bytes) VARARG_KIND(string) VARARG_KIND(uints) VARARG_KIND(ints)
        VARARG_KIND(ushorts) VARARG_KIND(uints64) VARARG_KIND(user_handles) VARARG_KIND(rectangles)
        VARARG_KIND(object_attributes) VARARG_KIND(sid) VARARG_KIND(sids) VARARG_KIND(acl)
        VARARG_KIND(security_descriptor) VARARG_KIND(luid_attr) VARARG_KIND(select_op) VARARG_KIND(apc_result)
        VARARG_KIND(startup_info) VARARG_KIND(contexts) VARARG_KIND(pe_image_info) VARARG_KIND(message_data)
        VARARG_KIND(properties) VARARG_KIND(process_info) VARARG_KIND(object_types_info) VARARG_KIND(object_type_info)
        VARARG_KIND(handle_infos) VARARG_KIND(filesystem_event) VARARG_KIND(debug_event)
        VARARG_KIND(cursor_positions) VARARG_KIND(rawinput_devices)
        FIXED_KIND(dump_timeout, "timeout_t", timeout_t) FIXED_KIND(dump_abstime, "abstime_t", abstime_t)
        FIXED_KIND(dump_rectangle, "rectangle_t", rectangle_t) FIXED_KIND(dump_apc_call, "apc_call_t", apc_call_t)
        FIXED_KIND(dump_apc_result, "apc_result_t", apc_result_t) FIXED_KIND(dump_async_data, "async_data_t", async_data_t)
        FIXED_KIND(dump_irp_params, "irp_params_t", irp_params_t) FIXED_KIND(dump_luid, "struct_luid", struct luid)
        FIXED_KIND(dump_generic_map, "generic_map_t", generic_map_t) FIXED_KIND(dump_ioctl_code, "ioctl_code_t", ioctl_code_t)
        FIXED_KIND(dump_hw_input, "hw_input_t", hw_input_t)
        fputs("\n<<END>>\n", stderr);
        fflush(stderr);
    }
    return 0;
}
