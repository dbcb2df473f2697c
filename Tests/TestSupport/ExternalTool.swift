import Foundation

/// Runs the ffmpeg command-line tools (independent makers and readers of media) for the Swift
/// test targets. Only tests use it: the engine itself never starts a process.
public enum ExternalTool {
    /// Runs `tool` (found on PATH) with `arguments` and returns its standard output.
    /// - Throws: an error naming the command when it exits with a non-zero status.
    @discardableResult
    public static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "ExternalTool", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "\(tool) \(arguments.joined(separator: " ")) failed"])
        }
        return String(decoding: data, as: UTF8.self)
    }
}
