#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "loudness.h"
#include "true_peak.h"

/* BS.1770-4: K-weighting (a high shelf, then a high pass) designed for the sample rate, mean
 * square energy in 100 ms sub-blocks; 400 ms momentary blocks (75% overlap) for the integrated
 * loudness, 3 s short-term blocks (100 ms hop) for the loudness range. */

#define HISTORY (HLSIFY_TP_BEFORE + HLSIFY_TP_AFTER)

typedef struct { double b0, b1, b2, a1, a2; } biquad;

struct hlsify_loudness {
    int channels;
    long sub_block;                   /* samples in 100 ms */
    biquad shelf, pass;
    double state[2][4];               /* per channel: the two stages' direct form II states */
    double sums[2];                   /* squares of the current sub-block, per channel */
    long filled;                      /* samples in the current sub-block */
    double *energies;                 /* per complete sub-block: sum over channels of the mean square */
    size_t count, capacity;
    float history[2][HISTORY];        /* the last samples, for true-peak points across calls */
    int history_count;
    float *scratch;
    size_t scratch_capacity;
    float peak;                       /* largest magnitude, sample or between samples */
};

static void design(biquad *shelf, biquad *pass, double rate) {
    double f0 = 1681.974450955533, gain = 3.999843853973347, q = 0.7071752369554196;
    double k = tan(M_PI * f0 / rate), vh = pow(10.0, gain / 20.0), vb = pow(vh, 0.4996667741545416);
    double a0 = 1.0 + k / q + k * k;
    shelf->b0 = (vh + vb * k / q + k * k) / a0;
    shelf->b1 = 2.0 * (k * k - vh) / a0;
    shelf->b2 = (vh - vb * k / q + k * k) / a0;
    shelf->a1 = 2.0 * (k * k - 1.0) / a0;
    shelf->a2 = (1.0 - k / q + k * k) / a0;
    f0 = 38.13547087602444;
    q = 0.5003270373238773;
    k = tan(M_PI * f0 / rate);
    a0 = 1.0 + k / q + k * k;
    pass->b0 = 1.0;
    pass->b1 = -2.0;
    pass->b2 = 1.0;
    pass->a1 = 2.0 * (k * k - 1.0) / a0;
    pass->a2 = (1.0 - k / q + k * k) / a0;
}

static inline double run(const biquad *f, double *s, double x) {
    double w = x - f->a1 * s[0] - f->a2 * s[1];
    double y = f->b0 * w + f->b1 * s[0] + f->b2 * s[1];
    s[1] = s[0];
    s[0] = w;
    return y;
}

hlsify_loudness *hlsify_loudness_new(int sample_rate, int channels) {
    if (sample_rate < 8000 || channels < 1 || channels > 2) return NULL;
    hlsify_loudness *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->channels = channels;
    m->sub_block = sample_rate / 10;
    /* Silence before the first sample, so the points between it and its neighbours count. */
    m->history_count = HISTORY;
    design(&m->shelf, &m->pass, sample_rate);
    return m;
}

void hlsify_loudness_free(hlsify_loudness *meter) {
    if (!meter) return;
    free(meter->energies);
    free(meter->scratch);
    free(meter);
}

static int push_energy(hlsify_loudness *m, double energy) {
    if (m->count == m->capacity) {
        size_t capacity = m->capacity ? m->capacity * 2 : 1024;
        double *grown = realloc(m->energies, capacity * sizeof *grown);
        if (!grown) return -1;
        m->energies = grown;
        m->capacity = capacity;
    }
    m->energies[m->count++] = energy;
    return 0;
}

/* True-peak points of one channel: the history and `frames` new samples laid end to end. */
static int peaks(hlsify_loudness *m, int channel, const float *x, size_t frames) {
    size_t total = (size_t)m->history_count + frames;
    if (total > m->scratch_capacity) {
        float *grown = realloc(m->scratch, total * sizeof *grown);
        if (!grown) return -1;
        m->scratch = grown;
        m->scratch_capacity = total;
    }
    memcpy(m->scratch, m->history[channel], (size_t)m->history_count * sizeof(float));
    memcpy(m->scratch + m->history_count, x, frames * sizeof(float));
    for (size_t i = 0; i < frames; i++) m->peak = fmaxf(m->peak, fabsf(x[i]));
    for (long n = HLSIFY_TP_BEFORE; n + HLSIFY_TP_AFTER < (long)total; n++) {
        m->peak = fmaxf(m->peak, hlsify_true_peak_between(m->scratch, n));
    }
    return 0;
}

int hlsify_loudness_add(hlsify_loudness *m, const float *const *planes, size_t frames) {
    if (!frames) return 0;
    for (int c = 0; c < m->channels; c++) {
        if (peaks(m, c, planes[c], frames) != 0) return -1;
    }
    size_t total = (size_t)m->history_count + frames;
    int keep = total < HISTORY ? (int)total : HISTORY;
    for (int c = 0; c < m->channels; c++) {
        /* The scratch holds the last channel's samples only: take the tail from history + planes. */
        float tail[HISTORY];
        for (int i = 0; i < keep; i++) {
            size_t index = total - (size_t)keep + (size_t)i;
            tail[i] = index < (size_t)m->history_count ? m->history[c][index] : planes[c][index - (size_t)m->history_count];
        }
        memcpy(m->history[c], tail, (size_t)keep * sizeof(float));
    }
    m->history_count = keep;
    for (size_t i = 0; i < frames; i++) {
        for (int c = 0; c < m->channels; c++) {
            double y = run(&m->pass, m->state[c] + 2, run(&m->shelf, m->state[c], planes[c][i]));
            m->sums[c] += y * y;
        }
        if (++m->filled == m->sub_block) {
            double energy = 0;
            for (int c = 0; c < m->channels; c++) {
                energy += m->sums[c] / (double)m->sub_block;
                m->sums[c] = 0;
            }
            m->filled = 0;
            if (push_energy(m, energy) != 0) return -1;
        }
    }
    return 0;
}

static double lufs(double energy) { return -0.691 + 10.0 * log10(energy); }

/* Mean energy of the blocks of `length` sub-blocks (hop one sub-block) whose loudness is above
 * `gate`; *blocks gets how many there were. */
static double gated_mean(const hlsify_loudness *m, size_t length, double gate, size_t *blocks) {
    double sum = 0, window = 0;
    size_t n = 0;
    for (size_t i = 0; i < m->count; i++) {
        window += m->energies[i];
        if (i >= length) window -= m->energies[i - length];
        if (i + 1 < length) continue;
        double energy = window / (double)length;
        if (energy > 0 && lufs(energy) > gate) {
            sum += energy;
            n++;
        }
    }
    *blocks = n;
    return n ? sum / (double)n : 0;
}

double hlsify_loudness_integrated(const hlsify_loudness *m) {
    size_t blocks;
    double absolute = gated_mean(m, 4, -70.0, &blocks);
    if (!blocks) return -HUGE_VAL;
    double relative = lufs(absolute) - 10.0;
    double gated = gated_mean(m, 4, relative > -70.0 ? relative : -70.0, &blocks);
    return blocks ? lufs(gated) : -HUGE_VAL;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double hlsify_loudness_range(const hlsify_loudness *m) {
    const size_t length = 30;
    size_t blocks;
    double absolute = gated_mean(m, length, -70.0, &blocks);
    if (blocks < 2) return 0;
    double gate = lufs(absolute) - 20.0;
    if (gate < -70.0) gate = -70.0;
    double *values = malloc(blocks * sizeof *values);
    if (!values) return 0;
    size_t n = 0;
    double window = 0;
    for (size_t i = 0; i < m->count; i++) {
        window += m->energies[i];
        if (i >= length) window -= m->energies[i - length];
        if (i + 1 < length) continue;
        double energy = window / (double)length;
        if (energy > 0 && lufs(energy) > gate && n < blocks) values[n++] = lufs(energy);
    }
    double range = 0;
    if (n >= 2) {
        qsort(values, n, sizeof *values, compare);
        size_t low = (size_t)((double)(n - 1) * 0.10 + 0.5), high = (size_t)((double)(n - 1) * 0.95 + 0.5);
        range = values[high] - values[low];
    }
    free(values);
    return range;
}

double hlsify_loudness_true_peak(const hlsify_loudness *m) {
    /* The last samples' points, with silence after them. */
    float peak = m->peak;
    for (int c = 0; c < m->channels; c++) {
        float tail[2 * HISTORY + 1] = {0};
        memcpy(tail, m->history[c], (size_t)m->history_count * sizeof(float));
        for (long n = m->history_count - HLSIFY_TP_AFTER; n < m->history_count; n++) {
            if (n >= HLSIFY_TP_BEFORE) peak = fmaxf(peak, hlsify_true_peak_between(tail, n));
        }
    }
    return peak > 0 ? 20.0 * log10(peak) : -HUGE_VAL;
}
