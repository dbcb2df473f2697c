#ifndef HLSIFY_CFFMPEG_SHIM_H
#define HLSIFY_CFFMPEG_SHIM_H

#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/samplefmt.h>
#include <libavutil/sha.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>

/* Macros Swift cannot import. */
static inline int hlsify_averror(int e) { return AVERROR(e); }
static inline int hlsify_averror_eof(void) { return AVERROR_EOF; }
static inline int hlsify_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int64_t hlsify_nopts(void) { return AV_NOPTS_VALUE; }
static inline int hlsify_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int hlsify_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }
static inline int hlsify_averror_exit(void) { return AVERROR_EXIT; }

#endif
