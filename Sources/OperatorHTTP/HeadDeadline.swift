import NIOCore
import NIOHTTPTypes

/// Closes a connection whose first request head does not arrive whole within `first` seconds of
/// the connection opening, or whose next one not within `between` seconds of the previous
/// response's end (an idle keep-alive connection): a client that sends its request line and
/// headers a byte at a time (slow loris) cannot hold a connection open.
final class HeadDeadline: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let first: TimeAmount
    private let between: TimeAmount
    private var timer: Scheduled<Void>?

    init(first: Int64, between: Int64) {
        self.first = .seconds(first)
        self.between = .seconds(between)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, first) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, first)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            timer?.cancel()
            timer = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { arm(context, between) }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext, _ timeout: TimeAmount) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }
}
