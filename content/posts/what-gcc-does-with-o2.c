#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The function under study. noinline keeps it a function of its own,
   so that its assembly can be read and its calls timed. */
__attribute__((noinline))
long sum(const int *a, size_t n)
{
    long s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i];
    return s;
}

int main(void)
{
    enum { N = 1 << 16, REPS = 2000 };
    int *a = malloc(N * sizeof *a);
    if (!a)
        return 1;
    for (size_t i = 0; i < N; i++)
        a[i] = (int)(i % 7);

    struct timespec t0, t1;
    long total = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int r = 0; r < REPS; r++) {
        a[r % N] += 1;  /* a new input every time: no call can be skipped */
        total += sum(a, N);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);

    double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
    printf("checksum %ld, %.2f ns per element\n", total, ns / ((double)N * REPS));
    free(a);
    return 0;
}
