// The CPUs this process may run on, as its affinity mask says (`CPU_COUNT` is a macro, out of Swift's reach).
#define _GNU_SOURCE
#include "CKernels.h"
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

int compseg_affinity_cpus(void) {
    for (int n = 1024; n <= (1 << 20); n *= 2) {  // masks of machines with more CPUs than a cpu_set_t holds
        cpu_set_t *set = CPU_ALLOC(n);
        if (!set) return -1;
        size_t size = CPU_ALLOC_SIZE(n);
        CPU_ZERO_S(size, set);
        int got = sched_getaffinity(0, size, set), count = got == 0 ? CPU_COUNT_S(size, set) : -1, reason = errno;
        CPU_FREE(set);
        if (got == 0) return count;
        if (reason != EINVAL) return -1;
    }
    return -1;
}

int compseg_name_thread(const char *name) {
    char cut[16];
    strncpy(cut, name, 15);
    cut[15] = 0;
    return pthread_setname_np(pthread_self(), cut);
}
