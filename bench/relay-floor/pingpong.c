/*
 * The client side of the relay-floor benchmark (bench/relay-floor.ts): sends
 * a 64-byte message on fd 3 and waits for a 64-byte answer on fd 4, as a Wine
 * thread does with a fixed-size request, COUNT times after WARMUP unmeasured
 * ones. Prints {"p50_ns":..,"p99_ns":..,"mean_ns":..} on stdout.
 *
 *   pingpong COUNT WARMUP
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { MESSAGE = 64, TO_SERVER = 3, FROM_SERVER = 4 };

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int exchange(unsigned char *buf)
{
    size_t got = 0;
    if (write(TO_SERVER, buf, MESSAGE) != MESSAGE) return -1;
    while (got < MESSAGE) {
        ssize_t n = read(FROM_SERVER, buf + got, MESSAGE - got);
        if (n <= 0) return -1;
        got += (size_t)n;
    }
    return 0;
}

static int compare(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    long count = argc > 1 ? atol(argv[1]) : 10000, warmup = argc > 2 ? atol(argv[2]) : 1000, i;
    unsigned char buf[MESSAGE];
    long long *times, sum = 0;
    if (count <= 0 || warmup < 0 || !(times = malloc(sizeof(*times) * (size_t)count))) return 2;
    memset(buf, 0x5a, sizeof(buf));
    for (i = 0; i < warmup; i++)
        if (exchange(buf)) return 1;
    for (i = 0; i < count; i++) {
        long long start = now_ns();
        if (exchange(buf)) return 1;
        times[i] = now_ns() - start;
        sum += times[i];
    }
    qsort(times, (size_t)count, sizeof(*times), compare);
    printf("{\"p50_ns\":%lld,\"p99_ns\":%lld,\"mean_ns\":%lld}\n", times[count / 2], times[(count * 99) / 100],
           sum / count);
    free(times);
    return 0;
}
