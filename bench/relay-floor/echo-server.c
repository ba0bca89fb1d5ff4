/*
 * The C server of the relay-floor benchmark (bench/relay-floor.ts): an epoll
 * loop that answers every 64-byte message read on fd 3 with 64 bytes on fd 4,
 * as wineserver's main loop does for a request that needs no work. Returns
 * when fd 3 reaches its end.
 */
#include <sys/epoll.h>
#include <unistd.h>

enum { MESSAGE = 64, FROM_CLIENT = 3, TO_CLIENT = 4 };

int main(void)
{
    unsigned char buf[MESSAGE];
    struct epoll_event ev = { .events = EPOLLIN }, got;
    size_t have = 0;
    int ep = epoll_create1(0);
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, FROM_CLIENT, &ev) < 0) return 2;
    for (;;) {
        ssize_t n;
        if (epoll_wait(ep, &got, 1, -1) < 0) continue;
        n = read(FROM_CLIENT, buf + have, MESSAGE - have);
        if (n <= 0) return 0;
        have += (size_t)n;
        if (have < MESSAGE) continue;
        have = 0;
        if (write(TO_CLIENT, buf, MESSAGE) != MESSAGE) return 1;
    }
}
