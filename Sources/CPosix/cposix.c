#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "cposix.h"

int hlsify_rename_exchange(const char *from, const char *to) {
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE);
}

void hlsify_set_thread_name(const char *name) {
    char shortName[16];
    strncpy(shortName, name, sizeof shortName - 1);
    shortName[sizeof shortName - 1] = 0;
    pthread_setname_np(pthread_self(), shortName);
}

int hlsify_lower_thread_priority(int increment) {
    pid_t thread = (pid_t)syscall(SYS_gettid);
    errno = 0;
    int current = getpriority(PRIO_PROCESS, (id_t)thread);
    if (current == -1 && errno != 0) return -1;
    int target = current + increment;
    if (target > 19) target = 19;
    return setpriority(PRIO_PROCESS, (id_t)thread, target);
}

int hlsify_thread_id(void) {
    return (int)syscall(SYS_gettid);
}

int hlsify_thread_nice(int tid, int *nice) {
    errno = 0;
    int value = getpriority(PRIO_PROCESS, (id_t)tid);
    if (value == -1 && errno != 0) return -1;
    *nice = value;
    return 0;
}

int hlsify_set_thread_nice(int tid, int nice) {
    if (nice < -20) nice = -20;
    if (nice > 19) nice = 19;
    return setpriority(PRIO_PROCESS, (id_t)tid, nice);
}

int hlsify_may_lower_nice_to(int nice) {
    // CAP_SYS_NICE in the effective set (root has it, but not in a container that drops it).
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    if (syscall(SYS_capget, &header, data) == 0
        && (data[CAP_SYS_NICE / 32].effective & (1u << (CAP_SYS_NICE % 32)))) return 1;
    struct rlimit limit;
    if (getrlimit(RLIMIT_NICE, &limit) != 0) return 0;
    if (limit.rlim_cur == RLIM_INFINITY) return 1;
    return 20 - (long)limit.rlim_cur <= nice;
}

int hlsify_open_path(const char *path) {
    return open(path, O_PATH | O_CLOEXEC);
}
