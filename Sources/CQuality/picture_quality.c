#include "picture_quality.h"

#include <stdlib.h>

/* Sums of one 4x4 block: a, b, a*a + b*b, a*b. */
static void block_sums(const uint8_t *a, ptrdiff_t a_stride, const uint8_t *b, ptrdiff_t b_stride, int sums[4]) {
    int s1 = 0, s2 = 0, ss = 0, s12 = 0;
    for (int y = 0; y < 4; y++) {
        for (int x = 0; x < 4; x++) {
            int p = a[y * a_stride + x], q = b[y * b_stride + x];
            s1 += p;
            s2 += q;
            ss += p * p + q * q;
            s12 += p * q;
        }
    }
    sums[0] = s1; sums[1] = s2; sums[2] = ss; sums[3] = s12;
}

/* SSIM of one 8x8 window from the sums of its four 4x4 blocks (x264's ssim_end1). */
static double window_ssim(double s1, double s2, double ss, double s12) {
    const double c1 = .01 * .01 * 255 * 255 * 64;
    const double c2 = .03 * .03 * 255 * 255 * 64 * 63;
    double vars = ss * 64 - s1 * s1 - s2 * s2;
    double covar = s12 * 64 - s1 * s2;
    return (2 * s1 * s2 + c1) * (2 * covar + c2) / ((s1 * s1 + s2 * s2 + c1) * (vars + c2));
}

double hlsify_plane_ssim(const uint8_t *a, ptrdiff_t a_stride, const uint8_t *b, ptrdiff_t b_stride,
                         int width, int height, long *windows, int *failed) {
    *windows = 0;
    *failed = 0;
    int blocks_x = width / 4, blocks_y = height / 4;
    if (blocks_x < 2 || blocks_y < 2) return 0;
    /* Two rows of block sums, rolled: the row above and the current one. */
    int *rows = malloc(sizeof(int) * 4 * (size_t)blocks_x * 2);
    if (!rows) { *failed = 1; return 0; }
    int *above = rows, *current = rows + 4 * blocks_x;
    double total = 0;
    for (int by = 0; by < blocks_y; by++) {
        for (int bx = 0; bx < blocks_x; bx++) {
            block_sums(a + (ptrdiff_t)by * 4 * a_stride + bx * 4, a_stride,
                       b + (ptrdiff_t)by * 4 * b_stride + bx * 4, b_stride, current + 4 * bx);
        }
        if (by > 0) {
            for (int bx = 0; bx + 1 < blocks_x; bx++) {
                const int *p = above + 4 * bx, *q = current + 4 * bx;
                total += window_ssim(p[0] + p[4] + q[0] + q[4], p[1] + p[5] + q[1] + q[5],
                                     p[2] + p[6] + q[2] + q[6], p[3] + p[7] + q[3] + q[7]);
            }
        }
        int *swap = above; above = current; current = swap;
    }
    free(rows);
    *windows = (long)(blocks_x - 1) * (blocks_y - 1);
    return total / (double)*windows;
}

uint64_t hlsify_plane_sse(const uint8_t *a, ptrdiff_t a_stride, const uint8_t *b, ptrdiff_t b_stride,
                          int width, int height) {
    uint64_t sse = 0;
    for (int y = 0; y < height; y++) {
        const uint8_t *p = a + (ptrdiff_t)y * a_stride, *q = b + (ptrdiff_t)y * b_stride;
        uint64_t row = 0;
        for (int x = 0; x < width; x++) {
            int d = p[x] - q[x];
            row += (uint64_t)(d * d);
        }
        sse += row;
    }
    return sse;
}
