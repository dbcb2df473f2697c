import Foundation
import Logging
import XCTest
@testable import TranscodeJobs

/// The AMQP layer against a real broker: the one `make test` starts (HLSIFY_TEST_AMQP_URL).
/// Skipped when that variable is not set (a plain `swift test` on a machine without a broker).
final class AMQPBrokerTests: XCTestCase {
    private var endpoint: AMQPEndpoint!
    private var prefix = ""
    private var logger = Logger(label: "test")

    override func setUpWithError() throws {
        guard let url = ProcessInfo.processInfo.environment["HLSIFY_TEST_AMQP_URL"], !url.isEmpty else {
            throw XCTSkip("HLSIFY_TEST_AMQP_URL is not set (make test starts a private broker and sets it)")
        }
        endpoint = try AMQPEndpoint(url: url)
        prefix = "swift-test-\(UUID().uuidString.prefix(8))"
        logger.logLevel = .warning
    }

    override func tearDownWithError() throws {
        guard let endpoint else { return }
        // Remove what the test declared.
        let connection = try AMQPConnection(endpoint: endpoint, heartbeat: 0, connectTimeout: 5, rpcTimeout: 5)
        defer { connection.close() }
        var channel: UInt16 = 1
        try connection.openChannel(channel)
        for queue in ["\(prefix).jobs", "\(prefix).jobs.dead", "\(prefix).q"] {
            do { try connection.deleteQueue(channel, name: queue) } catch {
                channel += 1
                try connection.openChannel(channel)
            }
        }
        for exchange in ["\(prefix).dead", "\(prefix).events"] {
            do { try connection.deleteExchange(channel, name: exchange) } catch {
                channel += 1
                try connection.openChannel(channel)
            }
        }
    }

    private func connect(heartbeat: Int = 0) throws -> AMQPConnection {
        try AMQPConnection(endpoint: endpoint, heartbeat: heartbeat, connectTimeout: 5, rpcTimeout: 10)
    }

    private func topology() -> Topology {
        Topology(jobsQueue: "\(prefix).jobs", deadLetterExchange: "\(prefix).dead", deadLetterQueue: "\(prefix).jobs.dead",
                 eventsExchange: "\(prefix).events")
    }

    /// Reads inbound frames until `match` returns a value (or 10 s pass).
    private func waitFor<T>(_ connection: AMQPConnection, _ match: (AMQPInbound) -> T?) throws -> T {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let inbound = try connection.nextInbound(timeout: 0.1), let value = match(inbound) { return value }
        }
        throw TimedOut()
    }

    // MARK: - AMQPConnection

    func testHeadersAndPropertiesRoundTripThroughTheBroker() throws {
        let connection = try connect()
        defer { connection.close() }
        try connection.openChannel(1)
        let queue = "\(prefix).q"
        try connection.declareQueue(1, name: queue, durable: false, exclusive: false, autoDelete: false)
        try connection.confirmSelect(1)
        let headers: AMQPTable = [
            "text": .string("héllo"), "count": .int(-42), "flag": .bool(true), "ratio": .double(0.25),
            "nested": .table(["inner": .string("x"), "list": .array([.int(1), .string("two"), .bool(false)])]),
            "raw": .bytes([0, 1, 2, 255]), "when": .timestamp(1_780_000_000), "price": .decimal(decimals: 2, value: 1999),
            "nothing": .void,
        ]
        let properties = AMQPProperties(contentType: "application/json", headers: headers, deliveryMode: 2, priority: 3,
                                        correlationId: "corr", replyTo: "reply", expiration: "60000", messageId: "m-1",
                                        timestamp: 1_780_000_000, type: "t", appId: "app")
        try connection.publish(1, AMQPOutgoingMessage(exchange: "", routingKey: queue, properties: properties, body: Array("body".utf8)))
        let confirmed: Bool = try waitFor(connection) {
            if case .confirm(_, 1, _, let ack) = $0 { return ack }
            return nil
        }
        XCTAssertTrue(confirmed)

        _ = try connection.consume(1, queue: queue, consumerTag: "tag")
        let delivery: AMQPDelivery = try waitFor(connection) {
            if case .delivery(_, let delivery) = $0 { return delivery }
            return nil
        }
        XCTAssertEqual(delivery.body, Array("body".utf8))
        XCTAssertEqual(delivery.routingKey, queue)
        XCTAssertEqual(delivery.consumerTag, "tag")
        XCTAssertFalse(delivery.redelivered)
        XCTAssertEqual(delivery.properties, properties)
        try connection.ack(1, deliveryTag: delivery.deliveryTag)
    }

    func testAChannelExceptionIsTypedAndTheConnectionSurvivesIt() throws {
        let connection = try connect()
        defer { connection.close() }
        try connection.openChannel(1)
        let queue = "\(prefix).q"
        try connection.declareQueue(1, name: queue, arguments: ["x-queue-type": .string("quorum")])
        do {
            try connection.declareQueue(1, name: queue, arguments: ["x-queue-type": .string("classic")])
            XCTFail("declaring a queue with other arguments must fail")
        } catch {
            guard case .channelClosed(_, 406, let text) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(text.contains("PRECONDITION_FAILED"), text)
            XCTAssertTrue(error.isBrokerException)
        }
        XCTAssertFalse(connection.isBroken)
        try connection.openChannel(2)
        do {
            try connection.declareQueue(2, name: "\(prefix).missing", passive: true)
            XCTFail("a passive declare of a missing queue must fail")
        } catch {
            XCTAssertEqual(error.replyCode, 404)
        }
        try connection.openChannel(3)
        let counts = try connection.declareQueue(3, name: queue, arguments: ["x-queue-type": .string("quorum")])
        XCTAssertEqual(counts.messages, 0)
    }

    func testHeadersTooLargeForOneFrameFailAloneAndTheConnectionCarriesOn() throws {
        let connection = try connect()
        defer { connection.close() }
        try connection.openChannel(1)
        let queue = "\(prefix).q"
        try connection.declareQueue(1, name: queue, durable: false, exclusive: false, autoDelete: false)
        try connection.confirmSelect(1)
        XCTAssertEqual(connection.frameMax, 131_072)
        func message(padding: Int) -> AMQPOutgoingMessage {
            AMQPOutgoingMessage(exchange: "", routingKey: queue,
                                properties: AMQPProperties(headers: ["x-pad": .string(String(repeating: "p", count: padding))],
                                                           deliveryMode: 2, messageId: "m-\(padding)"),
                                body: Array("{}".utf8))
        }
        // The largest padding our measure lets through, found by bisection.
        var fits = 0, tooLarge = 200_000
        while tooLarge - fits > 1 {
            let middle = (fits + tooLarge) / 2
            if AMQPConnection.contentHeaderProblem(message(padding: middle), frameMax: connection.frameMax) == nil { fits = middle } else { tooLarge = middle }
        }
        XCTAssertGreaterThan(fits, 130_000)
        // One byte more is refused here, before anything is sent, and the connection stays usable.
        XCTAssertThrowsError(try connection.publish(1, message(padding: tooLarge))) { error in
            guard case .messageTooLarge = error as? AMQPError else { return XCTFail("\(error)") }
        }
        XCTAssertFalse(connection.isBroken)
        // The largest one that fits is taken by the broker (so the measure is not too generous):
        // it is confirmed as the channel's first publication.
        try connection.publish(1, message(padding: fits))
        let confirmed: Bool = try waitFor(connection) {
            if case .confirm(_, 1, _, let ack) = $0 { return ack }
            return nil
        }
        XCTAssertTrue(confirmed)
        let counts = try connection.declareQueue(1, name: queue, durable: false, exclusive: false, autoDelete: false)
        XCTAssertEqual(counts.messages, 1)
    }

    func testTheClientFailsATooLargePublicationAloneWithoutReconnecting() async throws {
        let client = AMQPClient(configuration: AMQPClient.Configuration(endpoint: endpoint, connectionName: "test", topology: topology()),
                                logger: logger)
        client.start()
        let small = AMQPOutgoingMessage(exchange: "", routingKey: "\(prefix).jobs", mandatory: true,
                                        properties: AMQPProperties(deliveryMode: 2, messageId: "a"), body: [1])
        try await client.publish(small, policy: .once)
        let generation = client.currentGeneration
        var large = small
        large.properties.headers = ["x-pad": .string(String(repeating: "p", count: 140_000))]
        do {
            try await client.publish(large, policy: .persistent)
            XCTFail("headers larger than a frame must not count as published")
        } catch {
            guard case .tooLarge = error else { return XCTFail("\(error)") }
        }
        try await client.publish(small, policy: .once)
        XCTAssertEqual(client.currentGeneration, generation, "the connection and channel must be the same")
        await client.close()
    }

    func testWrongCredentialsAreRefusedByTheBroker() {
        var wrong = endpoint!
        wrong.password = "not-the-password"
        XCTAssertThrowsError(try AMQPConnection(endpoint: wrong, heartbeat: 0, connectTimeout: 5, rpcTimeout: 5)) { error in
            guard let error = error as? AMQPError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.replyCode, 403, "\(error)")
        }
    }

    func testAnUnreachableBrokerIsALibraryError() throws {
        var nowhere = endpoint!
        nowhere.port = try Self.closedPort()
        XCTAssertThrowsError(try AMQPConnection(endpoint: nowhere, heartbeat: 0, connectTimeout: 2, rpcTimeout: 2)) { error in
            guard case .library = error as? AMQPError else { return XCTFail("\(error)") }
            XCTAssertFalse((error as! AMQPError).isBrokerException)
        }
    }

    // MARK: - AMQPClient

    func testClientConfirmsPublicationsAndReportsUnroutableOnes() async throws {
        let client = AMQPClient(configuration: AMQPClient.Configuration(endpoint: endpoint, connectionName: "test", topology: topology()),
                                logger: logger)
        client.start()
        let toJobs = AMQPOutgoingMessage(exchange: "", routingKey: "\(prefix).jobs", mandatory: true,
                                         properties: AMQPProperties(deliveryMode: 2, messageId: "a"), body: [1])
        try await client.publish(toJobs, policy: .once)
        let nowhere = AMQPOutgoingMessage(exchange: "", routingKey: "\(prefix).no-such-queue", mandatory: true,
                                          properties: AMQPProperties(messageId: "b"), body: [2])
        do {
            try await client.publish(nowhere, policy: .once)
            XCTFail("an unroutable mandatory message must not count as confirmed")
        } catch {
            guard case .returned(312, _) = error else { return XCTFail("\(error)") }
        }
        // A publication to a missing exchange closes the channel (404): it fails, the client
        // opens another channel and the next publication goes through.
        let badExchange = AMQPOutgoingMessage(exchange: "\(prefix).no-such-exchange", routingKey: "x", properties: AMQPProperties(), body: [])
        do {
            try await client.publish(badExchange, policy: .once)
            XCTFail("publishing to a missing exchange must fail")
        } catch {
            guard case .connectionLost = error else { return XCTFail("\(error)") }
        }
        try await client.publish(toJobs, policy: .once)
        await client.close()
        do {
            try await client.publish(toJobs, policy: .once)
            XCTFail("a closed client must refuse")
        } catch {
            guard case .closed = error else { return XCTFail("\(error)") }
        }
    }

    func testAcknowledgementsForAReplacedChannelAreNotSentAndTheMessageComesBack() async throws {
        let topology = self.topology()
        let client = AMQPClient(configuration: AMQPClient.Configuration(
            endpoint: endpoint, connectionName: "test", topology: topology,
            consumer: AMQPClient.Consumer(queue: topology.jobsQueue, prefetch: 1, tag: "t")), logger: logger)
        client.start()
        defer { Task { await client.close() } }
        var deliveries = client.deliveries.makeAsyncIterator()
        let job = AMQPOutgoingMessage(exchange: "", routingKey: topology.jobsQueue, properties: AMQPProperties(deliveryMode: 2), body: [7])
        try await client.publish(job, policy: .once)
        let firstDelivery = await deliveries.next()
        let first = try XCTUnwrap(firstDelivery)
        XCTAssertEqual(first.attempt, 1)
        // Replace the channel under the delivery (a 404 from a missing exchange closes it).
        let bad = AMQPOutgoingMessage(exchange: "\(prefix).missing", routingKey: "x", properties: AMQPProperties(), body: [])
        try? await client.publish(bad, policy: .once)
        let stale = await client.settle(first, .ack)
        XCTAssertFalse(stale, "an ack on a replaced channel must not be sent")
        let secondDelivery = await deliveries.next()
        let again = try XCTUnwrap(secondDelivery)
        XCTAssertEqual(again.body, [7])
        XCTAssertTrue(again.redelivered)
        XCTAssertEqual(again.attempt, 2, "the quorum queue counts the earlier delivery")
        XCTAssertGreaterThan(again.channelGeneration, first.channelGeneration)
        let settled = await client.settle(again, .ack)
        XCTAssertTrue(settled)
    }

    func testExistingQueuesAreUsedAsTheyAre() async throws {
        // The jobs queue exists already as a classic queue: declaring it as a quorum queue would
        // fail (406); the client looks it up passively and uses it.
        let connection = try connect()
        try connection.openChannel(1)
        try connection.declareQueue(1, name: "\(prefix).jobs")
        connection.close()
        var configuration = AMQPClient.Configuration(endpoint: endpoint, connectionName: "test", topology: topology(), reconnect: nil)
        configuration.heartbeat = 0
        let client = AMQPClient(configuration: configuration, logger: logger)
        client.start()
        let job = AMQPOutgoingMessage(exchange: "", routingKey: "\(prefix).jobs", mandatory: true, properties: AMQPProperties(), body: [1])
        try await client.publish(job, policy: .once)
        XCTAssertTrue(client.isConnected)
        await client.close()
        let check = try connect()
        defer { check.close() }
        try check.openChannel(1)
        XCTAssertEqual(try check.declareQueue(1, name: "\(prefix).jobs").messages, 1, "still the classic queue, with the message")
    }

    func testAConsumerWhoseQueueIsReplacedRecoversOnceItCanBeDeclaredAgain() async throws {
        let topology = self.topology()
        var configuration = AMQPClient.Configuration(
            endpoint: endpoint, connectionName: "test", topology: topology,
            consumer: AMQPClient.Consumer(queue: topology.jobsQueue, prefetch: 1, tag: "t"),
            reconnect: Backoff(initial: 0.1, maximum: 0.2))
        configuration.heartbeat = 0
        let client = AMQPClient(configuration: configuration, logger: logger)
        client.start()
        let job = AMQPOutgoingMessage(exchange: "", routingKey: topology.jobsQueue, properties: AMQPProperties(deliveryMode: 2), body: [9])
        try await client.publish(job, policy: .once)
        var deliveries = client.deliveries.makeAsyncIterator()
        let first = await deliveries.next()
        XCTAssertEqual(first?.body, [9])
        if let first { await client.settle(first, .ack) }

        // Someone replaces the queue with an exclusive one of their own: the broker cancels our
        // consumer, and every attempt to set the channel up again now fails (405 RESOURCE_LOCKED).
        // The client must keep trying after its backoff, not crash or spin.
        let admin = try connect()
        try admin.openChannel(1)
        let before = client.currentGeneration
        try admin.deleteQueue(1, name: topology.jobsQueue)
        try admin.declareQueue(1, name: topology.jobsQueue, durable: false, exclusive: true)
        try await Task.sleep(nanoseconds: 1_000_000_000)
        XCTAssertFalse(client.isConnected)
        XCTAssertLessThan(client.currentGeneration - before, 30, "retries must wait for the backoff, not spin")
        admin.close()  // the exclusive queue goes with its connection

        try await client.publish(job, policy: .once)
        let again = await deliveries.next()
        XCTAssertEqual(again?.body, [9], "consuming again after the queue was declared anew")
        await client.close()
    }

    func testHeartbeatsKeepAnIdleClientConnected() async throws {
        var configuration = AMQPClient.Configuration(endpoint: endpoint, connectionName: "test", topology: topology(), reconnect: nil)
        configuration.heartbeat = 1
        let client = AMQPClient(configuration: configuration, logger: logger)
        client.start()
        let message = AMQPOutgoingMessage(exchange: "", routingKey: "\(prefix).jobs", properties: AMQPProperties(), body: [1])
        try await client.publish(message, policy: .once)
        let generation = client.currentGeneration
        // With a 1 s heartbeat the broker drops a silent connection after about 2 s.
        try await Task.sleep(nanoseconds: 4_000_000_000)
        XCTAssertTrue(client.isConnected)
        XCTAssertEqual(client.currentGeneration, generation, "the connection must not have been replaced")
        try await client.publish(message, policy: .once)
        await client.close()
    }

    struct TimedOut: Error {}

    /// A local TCP port with nothing listening.
    static func closedPort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw XCTSkip("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
