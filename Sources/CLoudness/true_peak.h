#ifndef HLSIFY_TRUE_PEAK_H
#define HLSIFY_TRUE_PEAK_H

/* 4x oversampling of a band-limited signal for true-peak estimates: the values at n + 1/4,
 * n + 1/2, n + 3/4 from the 12 samples x[n-5] ... x[n+6] (a Hann-windowed sinc). */

#define HLSIFY_TP_BEFORE 5
#define HLSIFY_TP_AFTER 6

/* Largest magnitude in [x[n], x[n+1]]: the two samples and the three points between them.
 * x must be readable from x[n - 5] to x[n + 6]. */
float hlsify_true_peak_between(const float *x, long n);

#endif
