import ArgumentParser
import Foundation
import TranscodeQueue

/// Every option can also come from an environment variable: the flag wins, then the variable,
/// then the default. The variables are named in each option's help.
enum Environment {
    static func string(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    static func resolve(_ flag: String?, _ variable: String, default fallback: String) -> String {
        flag ?? string(variable) ?? fallback
    }

    static func resolve(_ flag: String?, _ variable: String) -> String? {
        flag ?? string(variable)
    }

    /// The flag, else the variable read by `parse` (its error prefixed with `VARIABLE=text: `),
    /// else the default.
    static func resolve<Value>(_ flag: Value?, _ variable: String, default fallback: Value,
                               parse: (String) throws -> Value) throws -> Value {
        if let flag { return flag }
        guard let text = string(variable) else { return fallback }
        do { return try parse(text) } catch { throw ValidationError("\(variable)=\(text): \(error)") }
    }

    static func resolve(_ flag: Int?, _ variable: String, default fallback: Int, option: String) throws -> Int {
        try resolve(flag, variable, default: fallback) { text in
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("\(option) takes a whole number")
            }
            return value
        }
    }

    static func resolve(_ flag: Double?, _ variable: String, default fallback: Double, option: String) throws -> Double {
        try resolve(flag, variable, default: fallback) { text in
            guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                throw ValidationError("\(option) takes a number")
            }
            return value
        }
    }

    /// A value named on the command line (a segment format, a preset): the variable must hold one
    /// of `Value`'s names.
    static func resolve<Value: ExpressibleByArgument & CaseIterable>(_ flag: Value?, _ variable: String, default fallback: Value,
                                                                   option: String) throws -> Value {
        try resolve(flag, variable, default: fallback) { text in
            guard let value = Value(argument: text) else {
                throw ValidationError("\(option) must be one of \(Value.allValueStrings.joined(separator: ", "))")
            }
            return value
        }
    }
}

/// The broker and topology options shared by `run` and `submit`.
struct BrokerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Broker URL, amqp://user:password@host:port/vhost (env HLSIFY_AMQP_URL; default amqp://guest:guest@127.0.0.1:5672/).", valueName: "url"))
    var amqpUrl: String?

    @Option(name: .long, help: ArgumentHelp("Jobs queue, a durable quorum queue (env HLSIFY_JOBS_QUEUE; default hlsify.jobs).", valueName: "name"))
    var jobsQueue: String?

    @Option(name: .long, help: ArgumentHelp("Dead-letter exchange (env HLSIFY_DEAD_LETTER_EXCHANGE; default hlsify.dead).", valueName: "name"))
    var deadLetterExchange: String?

    @Option(name: .long, help: ArgumentHelp("Dead-letter queue (env HLSIFY_DEAD_LETTER_QUEUE; default hlsify.jobs.dead).", valueName: "name"))
    var deadLetterQueue: String?

    @Option(name: .long, help: ArgumentHelp("Events topic exchange (env HLSIFY_EVENTS_EXCHANGE; default hlsify.events).", valueName: "name"))
    var eventsExchange: String?

    @Option(name: .long, help: ArgumentHelp("Heartbeat asked of the broker in seconds, 0 for none (env HLSIFY_HEARTBEAT; default 30).", valueName: "seconds"))
    var heartbeat: Int?

    /// The broker's nodes: one URL, or the nodes of a cluster as URLs separated by commas.
    func endpoints() throws -> [AMQPEndpoint] {
        let url = Environment.resolve(amqpUrl, "HLSIFY_AMQP_URL", default: "amqp://guest:guest@127.0.0.1:5672/")
        do { return try AMQPEndpoint.cluster(url) } catch { throw ValidationError("--amqp-url: \(error)") }
    }

    func topology() throws -> Topology {
        let topology = Topology(
            jobsQueue: Environment.resolve(jobsQueue, "HLSIFY_JOBS_QUEUE", default: "hlsify.jobs"),
            deadLetterExchange: Environment.resolve(deadLetterExchange, "HLSIFY_DEAD_LETTER_EXCHANGE", default: "hlsify.dead"),
            deadLetterQueue: Environment.resolve(deadLetterQueue, "HLSIFY_DEAD_LETTER_QUEUE", default: "hlsify.jobs.dead"),
            eventsExchange: Environment.resolve(eventsExchange, "HLSIFY_EVENTS_EXCHANGE", default: "hlsify.events"))
        do { try topology.validate() } catch { throw ValidationError("\(error)") }
        return topology
    }

    func heartbeatSeconds() throws -> Int {
        let value = try Environment.resolve(heartbeat, "HLSIFY_HEARTBEAT", default: 30, option: "--heartbeat")
        guard (0...3600).contains(value) else { throw ValidationError("--heartbeat must be between 0 and 3600 seconds") }
        return value
    }

    func validate() throws {
        _ = try endpoints()
        _ = try topology()
        _ = try heartbeatSeconds()
    }
}
