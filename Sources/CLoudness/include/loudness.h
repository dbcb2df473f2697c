#ifndef HLSIFY_LOUDNESS_H
#define HLSIFY_LOUDNESS_H

#include <stddef.h>

/* EBU R128 / ITU-R BS.1770-4 loudness of planar float audio, and a true-peak limiter, for the
 * engine's loudness normalisation. Plain C so the per-sample loops run at C speed. */

typedef struct hlsify_loudness hlsify_loudness;

/* A meter for `channels` (1 or 2) channels at `sample_rate` Hz; NULL when out of memory. */
hlsify_loudness *hlsify_loudness_new(int sample_rate, int channels);
void hlsify_loudness_free(hlsify_loudness *meter);

/* Adds `frames` samples of each channel (planes[c][0 ..< frames]). Returns 0, or -1 when out of
 * memory (the meter then keeps what it had). */
int hlsify_loudness_add(hlsify_loudness *meter, const float *const *planes, size_t frames);

/* Integrated loudness (LUFS, gated as BS.1770-4 says); -HUGE_VAL when no 400 ms block is above
 * the absolute gate (silence, or less than 400 ms of audio). */
double hlsify_loudness_integrated(const hlsify_loudness *meter);

/* Loudness range (LU, EBU Tech 3342: 10th to 95th percentile of the gated 3 s short-term
 * loudness); 0 when fewer than two short-term blocks pass the gates. */
double hlsify_loudness_range(const hlsify_loudness *meter);

/* True peak (dBTP: the largest magnitude of the signal 4x oversampled); -HUGE_VAL for silence. */
double hlsify_loudness_true_peak(const hlsify_loudness *meter);

typedef struct hlsify_limiter hlsify_limiter;

/* A limiter that multiplies stereo (or mono) audio by `gain_db` and keeps its true peak at or
 * under `ceiling_dbtp`, with a lookahead of about 5 ms and a release of about 80 ms. NULL when out
 * of memory. */
hlsify_limiter *hlsify_limiter_new(int sample_rate, int channels, double gain_db, double ceiling_dbtp);
void hlsify_limiter_free(hlsify_limiter *limiter);

/* Samples after a block that `hlsify_limiter_process` should see (fewer only at the end). */
int hlsify_limiter_lookahead(const hlsify_limiter *limiter);

/* Processes `frames` samples of each channel in place (block[c]), seeing the `ahead` samples that
 * follow them (next[c][0 ..< ahead], unchanged; the next call's block starts with them). Blocks
 * must follow each other without a gap. Returns 0, or -1 when out of memory (the block is left
 * as it was). Counts the samples whose gain was lowered in `limited` (see below). */
int hlsify_limiter_process(hlsify_limiter *limiter, float *const *block, size_t frames,
                           const float *const *next, size_t ahead);

/* Samples so far whose gain the limiter lowered below `gain_db` by more than 0.1 dB. */
long long hlsify_limiter_limited_samples(const hlsify_limiter *limiter);

#endif
