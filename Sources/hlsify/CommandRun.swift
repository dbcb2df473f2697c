import ArgumentParser
import Foundation
import HLSKit
import ObjectStorage

/// How every engine command runs: the work in a task that SIGINT and SIGTERM cancel, and any
/// failure turned into one line on stderr and its sysexits code.
enum CommandRun {
    /// The value `body` returns. The reporter (if any) is finished either way.
    /// - Throws: `ExitCode` (the error's code, 70 for an unexpected one) after printing the error.
    static func run<T: Sendable>(reporter: ProgressReporter? = nil, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await body() }
        let signals = SignalCanceller(task: task)
        defer { signals.stop() }
        do {
            let value = try await task.value
            reporter?.finish(succeeded: true, last: reporter?.latest)
            return value
        } catch {
            reporter?.finish()
            switch error {
            case let error as TranscodeError:
                Console.error("hlsify: \(error)")
                throw ExitCode(error.exitCode)
            case let error as ChunkError:
                Console.error("hlsify: \(error)")
                throw ExitCode(error.exitCode)
            case let error as StorageError:
                Console.error("hlsify: \(error)")
                throw ExitCode(error.exitCode)
            default:
                Console.error("hlsify: internal error: \(error)")
                throw ExitCode(70)
            }
        }
    }

    /// `body`'s value; a storage error (bad settings) printed as one line with its exit code.
    static func storage<T>(_ body: () throws(StorageError) -> T) throws -> T {
        do { return try body() } catch {
            Console.error("hlsify: \(error)")
            throw ExitCode(error.exitCode)
        }
    }

    /// Prints `value` as pretty, sorted JSON on stdout.
    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        FileHandle.standardOutput.write(try encoder.encode(value))
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    /// The report's summary line and warnings on stderr, or the report as JSON on stdout.
    static func show(_ report: TranscodeReport, json: Bool, quiet: Bool) throws {
        if json {
            try printJSON(report)
        } else if !quiet {
            Console.error(Summary.line(report))
        }
        if !quiet { for warning in report.warnings { Console.error("hlsify: warning: \(warning)") } }
    }
}
