#ifndef HLSIFY_PICTURE_QUALITY_H
#define HLSIFY_PICTURE_QUALITY_H

#include <stddef.h>
#include <stdint.h>

/* Picture quality of one 8-bit plane against its reference, for the engine's --measure-quality.
 * Plain C so that the per-pixel loops run at C speed in every build. */

/* Mean SSIM of plane `a` against plane `b` (both width x height, 8 bits per sample) over the
 * 8x8 windows that step by 4 pixels (x264's and FFmpeg's ssim filter's method and constants).
 * Stores the number of windows in *windows; returns 0 (and *windows = 0) when the plane is smaller
 * than 8x8 or a scratch allocation fails (*failed = 1 then). */
double hlsify_plane_ssim(const uint8_t *a, ptrdiff_t a_stride, const uint8_t *b, ptrdiff_t b_stride,
                         int width, int height, long *windows, int *failed);

/* Sum of squared differences of two 8-bit planes. */
uint64_t hlsify_plane_sse(const uint8_t *a, ptrdiff_t a_stride, const uint8_t *b, ptrdiff_t b_stride,
                          int width, int height);

#endif
