#ifndef HLSIFY_CPOSIX_H
#define HLSIFY_CPOSIX_H

/// Atomically swaps two paths (Linux renameat2 RENAME_EXCHANGE). Returns 0, or -1 with errno set.
int hlsify_rename_exchange(const char *from, const char *to);

/// Names the calling thread (Linux keeps 15 bytes), for top, perf and /proc/PID/task/*/comm.
void hlsify_set_thread_name(const char *name);

/// Adds `increment` (0…19) to the calling thread's nice value (Linux keeps one per thread).
/// Returns 0, or -1 with errno set.
int hlsify_lower_thread_priority(int increment);

/// The calling thread's kernel id (gettid).
int hlsify_thread_id(void);

/// The nice value of thread `tid` of this process into `nice`. Returns 0, or -1 with errno set.
int hlsify_thread_nice(int tid, int *nice);

/// Sets the nice value of thread `tid` of this process (clamped to -20…19). Returns 0, or -1
/// with errno set (EACCES: raising a priority needs CAP_SYS_NICE or a large enough RLIMIT_NICE).
int hlsify_set_thread_nice(int tid, int nice);

/// Whether this process may set a thread's nice value as low as `nice` (raise its priority back):
/// CAP_SYS_NICE in its effective capabilities, or RLIMIT_NICE allows it (20 - rlim_cur <= nice).
int hlsify_may_lower_nice_to(int nice);

/// Opens `path` with O_PATH | O_CLOEXEC: a descriptor that locates the file (for fstat, and
/// /proc/self/fd/N) without opening it, so a device is not touched and a FIFO never blocks.
/// Returns the descriptor, or -1 with errno set.
int hlsify_open_path(const char *path);

#endif
