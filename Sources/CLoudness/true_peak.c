#include <math.h>
#include <pthread.h>

#include "true_peak.h"

#define TAPS (HLSIFY_TP_BEFORE + 1 + HLSIFY_TP_AFTER)

static float coefficients[3][TAPS];
static pthread_once_t made = PTHREAD_ONCE_INIT;

static void make_coefficients(void) {
    for (int phase = 1; phase <= 3; phase++) {
        double f = phase / 4.0, sum = 0;
        double c[TAPS];
        for (int i = 0; i < TAPS; i++) {
            double u = (i - HLSIFY_TP_BEFORE) - f;      /* distance from the point to the sample */
            double sinc = sin(M_PI * u) / (M_PI * u);
            double window = 0.5 * (1 + cos(M_PI * u / (HLSIFY_TP_AFTER + 0.5)));
            c[i] = sinc * window;
            sum += c[i];
        }
        for (int i = 0; i < TAPS; i++) coefficients[phase - 1][i] = (float)(c[i] / sum);  /* unity gain at DC */
    }
}

float hlsify_true_peak_between(const float *x, long n) {
    pthread_once(&made, make_coefficients);
    float peak = fmaxf(fabsf(x[n]), fabsf(x[n + 1]));
    const float *base = x + n - HLSIFY_TP_BEFORE;
    for (int phase = 0; phase < 3; phase++) {
        float v = 0;
        for (int i = 0; i < TAPS; i++) v += coefficients[phase][i] * base[i];
        peak = fmaxf(peak, fabsf(v));
    }
    return peak;
}
