import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// How each preview connection's pipeline is built: `ConnectionGate` on the raw bytes, NIO's
/// HTTP/1 decoder and encoder, `RequestGate`, the conversion to HTTP types, Hummingbird's
/// connection state (graceful shutdown closes idle connections and ends busy ones after their
/// response), then Hummingbird's request loop calling `responder`.
struct PreviewChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let registry: ConnectionRegistry
    let limits: ConnectionGate.Limits
    let maxDiscardedBody: Int
    let log: (@Sendable (String) -> Void)?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let gate = ConnectionGate(registry: registry, limits: limits)
            try channel.pipeline.syncOperations.addHandler(gate)
            var decoderLimits = NIOHTTPDecoderLimitConfiguration()
            // ConnectionGate bounds the whole head; these bound what the decoder holds meanwhile.
            decoderLimits.maxHeaderFieldSize = limits.maxHeadSize
            decoderLimits.maxHeaderListSize = limits.maxHeadSize
            decoderLimits.maxHeaderFieldCount = HTTPRequest.maxFieldCount
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(), withDecoderLimitConfiguration: decoderLimits)
            try channel.pipeline.syncOperations.addHandler(RequestGate(connection: gate, maxDiscardedBody: maxDiscardedBody, log: log))
            try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}
