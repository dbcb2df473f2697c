import CFFmpeg

/// libavfilter's bwdif deinterlacer (one output frame per input frame, fields detected from each
/// frame's flags) as a filter graph `buffer → bwdif → buffersink`; `deinit` frees the graph.
/// Apple's HLS authoring spec (1.14) wants progressive pictures: an interlaced source's fields
/// would otherwise be encoded as frames and comb on every player. Costs one filtered copy of each
/// decoded frame, made once for the whole ladder.
final class Deinterlacer {
    private var graph: UnsafeMutablePointer<AVFilterGraph>?
    private let source: UnsafeMutablePointer<AVFilterContext>
    private let sink: UnsafeMutablePointer<AVFilterContext>

    /// - Throws: `LibAVError` naming the libavfilter call that failed.
    init(width: Int, height: Int, pixelFormat: Int32, timeBase: AVRational, sampleAspect: AVRational) throws {
        guard let graph = avfilter_graph_alloc() else { throw LibAVError.allocation("avfilter_graph_alloc") }
        self.graph = graph
        graph.pointee.nb_threads = 1
        let sar = sampleAspect.num > 0 && sampleAspect.den > 0 ? sampleAspect : AVRational(num: 1, den: 1)
        let arguments = "video_size=\(width)x\(height):pix_fmt=\(pixelFormat):time_base=\(timeBase.num)/\(timeBase.den)"
            + ":pixel_aspect=\(sar.num)/\(sar.den)"
        var source: UnsafeMutablePointer<AVFilterContext>?
        var sink: UnsafeMutablePointer<AVFilterContext>?
        var filter: UnsafeMutablePointer<AVFilterContext>?
        do {
            try check(avfilter_graph_create_filter(&source, avfilter_get_by_name("buffer"), "in", arguments, nil, graph),
                      "avfilter_graph_create_filter(buffer)")
            try check(avfilter_graph_create_filter(&filter, avfilter_get_by_name("bwdif"), "deinterlace",
                                                   "mode=send_frame:parity=auto:deint=all", nil, graph),
                      "avfilter_graph_create_filter(bwdif)")
            try check(avfilter_graph_create_filter(&sink, avfilter_get_by_name("buffersink"), "out", nil, nil, graph),
                      "avfilter_graph_create_filter(buffersink)")
            try check(avfilter_link(source, 0, filter, 0), "avfilter_link(buffer, bwdif)")
            try check(avfilter_link(filter, 0, sink, 0), "avfilter_link(bwdif, buffersink)")
            try check(avfilter_graph_config(graph, nil), "avfilter_graph_config")
        } catch {
            avfilter_graph_free(&self.graph)
            throw error
        }
        guard let source, let sink else {
            avfilter_graph_free(&self.graph)
            throw LibAVError.allocation("avfilter_graph_create_filter")
        }
        self.source = source
        self.sink = sink
    }

    deinit {
        avfilter_graph_free(&graph)
    }

    /// Hands one decoded frame (nil at the end, to flush) to the filter; the graph keeps its own
    /// reference, `frame` is left as it was.
    func push(_ frame: Frame?) throws {
        try check(av_buffersrc_add_frame_flags(source, frame?.pointer, Int32(AV_BUFFERSRC_FLAG_KEEP_REF)),
                  "av_buffersrc_add_frame_flags")
    }

    /// The next deinterlaced frame into `frame` (unreferenced first); false when the filter needs
    /// more input or is drained.
    func pull(into frame: Frame) throws -> Bool {
        frame.unref()
        let result = av_buffersink_get_frame(sink, frame.pointer)
        if result == hlsify_averror_eagain() || result == hlsify_averror_eof() { return false }
        try check(result, "av_buffersink_get_frame")
        return true
    }
}
