import NIOCore
import NIOEmbedded
import NIOHTTP1
import XCTest
@testable import PreviewServer

/// The preview server's connection and request policy (`ConnectionGate`, `RequestGate`) on an
/// embedded channel with NIO's real HTTP/1 decoder and encoder: bytes in, bytes out, time moved by hand.
final class ConnectionPolicyTests: XCTestCase {
    /// Answers every request with 200 and an empty body, and keeps the heads it was given.
    private final class Answerer: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        var heads: [HTTPRequestHead] = []
        /// Answer as soon as the head is in, before the body (as the server does a POST's 405).
        var answersAtHead = false

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                heads.append(head)
                if answersAtHead { answer(context) }
            case .body: break
            case .end:
                if !answersAtHead { answer(context) }
            }
        }

        private func answer(_ context: ChannelHandlerContext) {
            var headers = NIOHTTP1.HTTPHeaders([("Content-Length", "0")])
            headers.add(name: "Connection", value: heads.last?.headers["Connection"].first ?? "keep-alive")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    /// Every channel a test made, closed at its end: a channel left open keeps its pipeline (the
    /// gate holds its context, which holds the gate), which LeakSanitizer reports.
    private var channels: [EmbeddedChannel] = []

    override func tearDown() {
        for channel in channels {
            if channel.isActive { _ = try? channel.close().wait() }
            // Runs what is still scheduled (a refusal's linger close holds the channel).
            channel.embeddedEventLoop.advanceTime(by: .hours(1))
        }
        channels.removeAll()
        super.tearDown()
    }

    private let limits = ConnectionGate.Limits(headTimeout: .seconds(10), idleTimeout: .seconds(15), maxHeadSize: 1024,
                                               linger: .milliseconds(100))

    private func connection(_ registry: ConnectionRegistry) throws -> (EmbeddedChannel, Answerer) {
        let channel = EmbeddedChannel()
        channels.append(channel)
        let gate = ConnectionGate(registry: registry, limits: limits)
        let answerer = Answerer()
        try channel.pipeline.syncOperations.addHandler(gate)
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false)
        try channel.pipeline.syncOperations.addHandler(RequestGate(connection: gate, maxDiscardedBody: 100, log: nil))
        try channel.pipeline.syncOperations.addHandler(answerer)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, answerer)
    }

    private func connection() throws -> (EmbeddedChannel, Answerer) {
        try connection(ConnectionRegistry(capacity: 64, log: nil))
    }

    /// Everything written so far, as text.
    private func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let data = try channel.readOutbound(as: IOData.self) {
            guard case .byteBuffer(let buffer) = data else { continue }
            text += String(buffer: buffer)
        }
        return text
    }

    private func send(_ channel: EmbeddedChannel, _ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    func testRefusalsHaveTheirStatusAndCloseTheConnection() throws {
        let cases: [(String, String)] = [
            ("GET / HTTP/3.0\r\nHost: localhost\r\n\r\n", "505"),
            ("GET / HTTP/2.0\r\nHost: localhost\r\n\r\n", "505"),
            ("GET /\r\n\r\n", "400"),
            ("GARBAGE\r\n\r\n", "400"),
            ("GET / HTTP/1.1\r\n\r\n", "400"),
            ("GET / HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n\r\n", "400"),
            ("GET / HTTP/1.1\r\nHost: localhost\r\n folded\r\n\r\n", "400"),
            ("GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", "400"),
            ("GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n", "421"),
            ("GET / HTTP/1.0\r\nHost: evil.example:8080\r\n\r\n", "421"),
            ("GET http://evil.example/a HTTP/1.1\r\nHost: localhost\r\n\r\n", "421"),
            ("GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + String(repeating: "a", count: 2000), "431"),
            ("GET /" + String(repeating: "a", count: 2000), "431"),
        ]
        for (text, status) in cases {
            let (channel, answerer) = try connection()
            try send(channel, text)
            let reply = try written(channel)
            XCTAssertTrue(reply.hasPrefix("HTTP/1.1 \(status) "), "\(text.prefix(60)) -> \(reply.prefix(60))")
            XCTAssertTrue(reply.contains("\r\nConnection: close\r\n"), reply)
            XCTAssertTrue(answerer.heads.isEmpty, "\(text.prefix(60)) was passed on")
            // Nothing after a refusal is read: a good request that follows is not answered.
            try? send(channel, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            XCTAssertEqual(try written(channel), "", text)
            XCTAssertTrue(answerer.heads.isEmpty)
            channel.embeddedEventLoop.advanceTime(by: .seconds(1))
            XCTAssertFalse(channel.isActive, "\(text.prefix(60)): still open after the linger")
        }
    }

    func testConnectionIsNormalisedAndAbsoluteTargetsBecomeOriginForm() throws {
        let (channel, answerer) = try connection()
        try send(channel, "GET http://127.0.0.1:8080/720p/index.m3u8?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        try send(channel, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: Keep-Alive, Upgrade\r\n\r\n")
        XCTAssertEqual(answerer.heads.map(\.uri), ["/720p/index.m3u8?x=1", "/"])
        XCTAssertEqual(answerer.heads.map { $0.headers["Connection"] }, [["keep-alive"], ["keep-alive"]])
        let cases = ["GET / HTTP/1.0\r\n\r\n", "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: Close\r\n\r\n",
                     "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                     "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 101\r\n\r\n" + String(repeating: "b", count: 101)]
        for text in cases {
            let (channel, answerer) = try connection()
            try send(channel, text)
            XCTAssertEqual(answerer.heads.first?.headers["Connection"], ["close"], text)
        }
        let (keptAlive, kept) = try connection()
        try send(keptAlive, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(kept.heads.first?.headers["Connection"], ["keep-alive"])
    }

    func testAHeadBegunAndNotFinishedGets408AndASilentConnectionIsClosed() throws {
        let (slow, _) = try connection()
        try send(slow, "GET / HTTP/1.1\r\nHost: local")
        slow.embeddedEventLoop.advanceTime(by: .seconds(9))
        XCTAssertTrue(slow.isActive)
        XCTAssertEqual(try written(slow), "")
        slow.embeddedEventLoop.advanceTime(by: .seconds(1))
        XCTAssertTrue(try written(slow).hasPrefix("HTTP/1.1 408 "))

        let (silent, _) = try connection()
        silent.embeddedEventLoop.advanceTime(by: .seconds(10))
        XCTAssertEqual(try written(silent), "")
        XCTAssertFalse(silent.isActive)
    }

    func testAKeptAliveConnectionMayIdleThenHasTheHeadTimeoutFromItsFirstByte() throws {
        let (channel, answerer) = try connection()
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        try send(channel, "GET /a HTTP/1.1\r\nHost: localhost\r\n\r\n")
        XCTAssertTrue(try written(channel).hasPrefix("HTTP/1.1 200 "))
        // The head timer stopped with the head; idle from the response's end.
        channel.embeddedEventLoop.advanceTime(by: .seconds(14))
        XCTAssertTrue(channel.isActive)
        try send(channel, "GET /b HTTP/1.1\r\n")
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        try send(channel, "Host: localhost\r\n\r\n")
        XCTAssertEqual(answerer.heads.map(\.uri), ["/a", "/b"])
        channel.embeddedEventLoop.advanceTime(by: .seconds(15))
        XCTAssertFalse(channel.isActive, "idle past the idle timeout")
        XCTAssertFalse(try written(channel).contains("408"), "an idle connection is closed without an answer")
    }

    func testAtTheCapTheLongestIdleMakesRoomElseA503() throws {
        let registry = ConnectionRegistry(capacity: 2, log: nil)
        let (first, _) = try connection(registry)
        let (second, _) = try connection(registry)
        let (third, _) = try connection(registry)
        XCTAssertTrue(try written(third).hasPrefix("HTTP/1.1 503 "), "no idle connection to close")
        XCTAssertTrue(first.isActive && second.isActive)
        try send(second, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")  // answered: idle now
        _ = try written(second)
        let (fourth, _) = try connection(registry)
        XCTAssertEqual(try written(fourth), "")
        XCTAssertTrue(fourth.isActive)
        XCTAssertFalse(second.isActive, "the idle connection was closed for the newcomer")
        XCTAssertTrue(first.isActive, "a connection still reading its first request is never closed for another")
    }

    func testPipelinedRequestsAreAnsweredInOrderAndARefusalWaitsForTheAnswersBefore() throws {
        let (channel, answerer) = try connection()
        try send(channel, "GET /a HTTP/1.1\r\nHost: localhost\r\n\r\nGET /b HTTP/1.1\r\nHost: localhost\r\n\r\n"
                 + "GET /c HTTP/1.1\r\nHost: evil.example\r\n\r\nGET /d HTTP/1.1\r\nHost: localhost\r\n\r\n")
        XCTAssertEqual(answerer.heads.map(\.uri), ["/a", "/b"])
        let reply = try written(channel)
        XCTAssertEqual(reply.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }, ["200", "200", "421"], reply)
    }

    func testAClosingRequestEndsTheConnectionAfterItsResponseAndNothingAfterItIsRead() throws {
        let (channel, answerer) = try connection()
        try send(channel, "POST /a HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                 + "GET /b HTTP/1.1\r\nHost: localhost\r\n\r\n")
        XCTAssertEqual(answerer.heads.map(\.uri), ["/a"])
        XCTAssertTrue(try written(channel).hasPrefix("HTTP/1.1 200 "))
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        XCTAssertFalse(channel.isActive, "a connection whose last request was answered stays open")
    }

    func testBodyBytesAfterTheResponseAreNotTakenForTheNextHead() throws {
        let (channel, answerer) = try connection()
        answerer.answersAtHead = true
        let body = String(repeating: "b", count: 90)
        try send(channel, "POST /a HTTP/1.1\r\nHost: localhost\r\nContent-Length: 90\r\n\r\n")
        // The limits' head size is 1 KiB, the body under the 100 bytes a kept-alive request may send.
        XCTAssertEqual(answerer.heads.map(\.uri), ["/a"])
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        try send(channel, body)
        channel.embeddedEventLoop.advanceTime(by: .seconds(11))  // past a head deadline from the body's bytes
        XCTAssertTrue(channel.isActive, "the body's late bytes were taken for a slow head")
        try send(channel, "GET /b HTTP/1.1\r\nHost: localhost\r\n\r\n")
        XCTAssertEqual(answerer.heads.map(\.uri), ["/a", "/b"])
        XCTAssertEqual(try written(channel).components(separatedBy: "HTTP/1.1 200 ").count - 1, 2)
    }
}
