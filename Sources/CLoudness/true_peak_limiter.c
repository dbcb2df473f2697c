#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "loudness.h"
#include "true_peak.h"

/* A lookahead limiter on the true peak. For each sample n, d[n] is the gain that brings the
 * largest magnitude around it (the samples n-1 .. n+1 and the 4x oversampled points between them,
 * after `gain`) to the ceiling, or 1. The gain applied is t'[n] = min(d[n .. n+L]), released
 * exponentially back towards 1, then averaged over the last L samples: every gain in the average
 * of a peak's sample already holds that peak's d, so the average does too, and the gain moves in
 * ramps of L samples instead of steps. */

struct hlsify_limiter {
    int channels;
    int lookahead;                    /* L */
    float gain;                       /* linear */
    float ceiling;                    /* linear */
    double release;                   /* per-sample step factor towards 1 */
    float history[2][HLSIFY_TP_BEFORE + 1]; /* the last input samples before the block, gained */
    double held;                      /* t' of the previous sample */
    int started;                      /* a block was processed (the ring holds real gains) */
    double *ring;                     /* the last L values of t' */
    double ring_sum;
    int ring_at;
    long long limited;
    float *x[2];                      /* scratch: history + block + ahead, gained */
    double *d, *forward, *backward;   /* scratch: desired gains and the window minimum's halves */
    size_t capacity;
};

hlsify_limiter *hlsify_limiter_new(int sample_rate, int channels, double gain_db, double ceiling_dbtp) {
    if (sample_rate < 8000 || channels < 1 || channels > 2) return NULL;
    hlsify_limiter *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->channels = channels;
    l->lookahead = sample_rate / 200;   /* 5 ms */
    l->gain = (float)pow(10.0, gain_db / 20.0);
    l->ceiling = (float)pow(10.0, ceiling_dbtp / 20.0);
    l->release = 1.0 - exp(-1.0 / (0.080 * sample_rate));
    l->held = 1.0;
    l->ring = malloc((size_t)l->lookahead * sizeof *l->ring);
    if (!l->ring) { free(l); return NULL; }
    for (int i = 0; i < l->lookahead; i++) l->ring[i] = 1.0;
    l->ring_sum = l->lookahead;
    return l;
}

void hlsify_limiter_free(hlsify_limiter *l) {
    if (!l) return;
    free(l->ring);
    free(l->x[0]);
    free(l->x[1]);
    free(l->d);
    free(l->forward);
    free(l->backward);
    free(l);
}

int hlsify_limiter_lookahead(const hlsify_limiter *l) { return l->lookahead + HLSIFY_TP_AFTER + 2; }

long long hlsify_limiter_limited_samples(const hlsify_limiter *l) { return l->limited; }

static int reserve(hlsify_limiter *l, size_t size) {
    if (size <= l->capacity) return 0;
    for (int c = 0; c < 2; c++) {
        float *x = realloc(l->x[c], size * sizeof *x);
        if (!x) return -1;
        l->x[c] = x;
    }
    double *d = realloc(l->d, size * sizeof *d), *f, *b;
    if (!d) return -1;
    l->d = d;
    if (!(f = realloc(l->forward, size * sizeof *f))) return -1;
    l->forward = f;
    if (!(b = realloc(l->backward, size * sizeof *b))) return -1;
    l->backward = b;
    l->capacity = size;
    return 0;
}

int hlsify_limiter_process(hlsify_limiter *l, float *const *block, size_t frames, const float *const *next, size_t ahead) {
    const long before = HLSIFY_TP_BEFORE + 1, after = HLSIFY_TP_AFTER + 1;
    const size_t window = (size_t)l->lookahead + 1;
    /* x: [history | block | ahead | zeros for the interpolation's reach]; d covers block + ahead
     * + padding to a whole number of windows. */
    size_t span = frames + ahead;
    size_t padded = ((span + window - 1) / window + 1) * window;
    if (reserve(l, (size_t)before + padded + (size_t)after) != 0) return -1;
    for (int c = 0; c < l->channels; c++) {
        float *x = l->x[c];
        memcpy(x, l->history[c], (size_t)before * sizeof *x);
        for (size_t i = 0; i < frames; i++) x[before + (long)i] = block[c][i] * l->gain;
        for (size_t i = 0; i < ahead; i++) x[before + (long)(frames + i)] = next[c][i] * l->gain;
        memset(x + before + span, 0, (padded - span + (size_t)after) * sizeof *x);
    }
    for (size_t k = 0; k < padded; k++) {
        double d = 1.0;
        if (k < span) {
            float peak = 0;
            for (int c = 0; c < l->channels; c++) {
                const float *x = l->x[c];
                long n = before + (long)k;
                peak = fmaxf(peak, hlsify_true_peak_between(x, n - 1));
                peak = fmaxf(peak, hlsify_true_peak_between(x, n));
            }
            if (peak > l->ceiling) d = l->ceiling / peak;
        }
        l->d[k] = d;
    }
    /* Minimum over [n, n + L] for every n (van Herk / Gil-Werman: per window-sized piece, the
     * running minimum from its start and from its end). */
    for (size_t start = 0; start < padded; start += window) {
        l->forward[start] = l->d[start];
        for (size_t i = start + 1; i < start + window; i++) l->forward[i] = fmin(l->forward[i - 1], l->d[i]);
        size_t last = start + window - 1;
        l->backward[last] = l->d[last];
        for (size_t i = last; i-- > start;) l->backward[i] = fmin(l->backward[i + 1], l->d[i]);
    }
    if (!l->started && frames > 0) {
        /* Before the first sample there is no ramp to come down on: start at the first window's
         * gain, so the opening samples are held too. */
        double first = fmin(l->backward[0], l->forward[window - 1]);
        l->held = first;
        for (int i = 0; i < l->lookahead; i++) l->ring[i] = first;
        l->ring_sum = first * l->lookahead;
        l->started = 1;
    }
    for (size_t n = 0; n < frames; n++) {
        double target = fmin(l->backward[n], l->forward[n + window - 1]);
        double held = l->held + (1.0 - l->held) * l->release;
        held = fmin(held, target);
        l->held = held;
        l->ring_sum += held - l->ring[l->ring_at];
        l->ring[l->ring_at] = held;
        l->ring_at = (l->ring_at + 1) % l->lookahead;
        if (l->ring_at == 0) {
            /* Once a round, the sum from scratch: rounding cannot drift, and the result does not
             * depend on where the blocks are cut. */
            double sum = 0;
            for (int i = 0; i < l->lookahead; i++) sum += l->ring[i];
            l->ring_sum = sum;
        }
        double applied = l->ring_sum / l->lookahead;
        if (applied > 1.0) applied = 1.0;
        if (applied < 0.988) l->limited++;   /* more than 0.1 dB */
        for (int c = 0; c < l->channels; c++) block[c][n] = (float)(l->x[c][before + (long)n] * applied);
    }
    for (int c = 0; c < l->channels; c++) {
        for (long i = 0; i < before; i++) l->history[c][i] = l->x[c][(long)frames + i];
    }
    return 0;
}
