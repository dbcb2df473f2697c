import ArgumentParser
import Foundation
import PreviewServer

/// `hlsify preview DIR [--port N] [--host 127.0.0.1]`
struct PreviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Serve an output folder on a loopback port with a page that plays it (the browser's own HLS).",
        discussion: """
            Prints the page's URL on stdout once listening, logs one line per request on stderr \
            (unless --quiet), and serves until SIGINT or SIGTERM (exit 0). Exit codes: 64 usage, \
            66 DIR missing or without master.m3u8, 69 the address cannot be listened on (port in \
            use, …), 71 another operating system failure.
            """)

    @Argument(help: "An hlsify output folder (with master.m3u8).")
    var dir: String

    @Option(name: .long, help: "TCP port; 0 picks a free one.")
    var port: Int = 8080

    @Option(name: .long, help: "Loopback address to listen on (127.0.0.0/8 or localhost).")
    var host: String = "127.0.0.1"

    @Flag(name: .long, help: "Do not log requests on stderr.")
    var quiet = false

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard LoopbackAddress.parse(host) != nil else {
            throw ValidationError("--host must be an IPv4 loopback address (127.0.0.0/8 or localhost): preview serves this machine only")
        }
    }

    func run() throws {
        let files: StaticFiles
        do {
            files = try StaticFiles(folder: dir)
        } catch {
            Console.error("hlsify: \(dir): not a readable folder (\(error))")
            throw ExitCode(66)
        }
        guard case .file = files.open(RequestPath(components: [PreviewSite.masterName])) else {
            Console.error("hlsify: \(dir): no \(PreviewSite.masterName) (not an hlsify output folder?)")
            throw ExitCode(66)
        }
        let title = URL(fileURLWithPath: files.root).lastPathComponent
        let site = PreviewSite(files: files, title: title)

        // A client that goes away mid-response must not kill the server (sends use MSG_NOSIGNAL too).
        signal(SIGPIPE, SIG_IGN)
        let address = LoopbackAddress.parse(host)!
        var configuration = HTTPServer.Configuration(host: address, port: UInt16(port))
        configuration.maxConnections = 64
        var log: HTTPServer.Logger?
        if !quiet { log = { line in Console.error(line) } }
        let server: HTTPServer
        do {
            server = try HTTPServer(configuration: configuration, log: log) { request in site.respond(to: request) }
        } catch {
            Console.error("hlsify: cannot serve on \(address):\(port): \(error)")
            let call = (error as? SystemCallError)?.call ?? ""
            throw ExitCode(call.hasPrefix("bind") || call.hasPrefix("listen") ? 69 : 71)
        }

        let signals = SignalCanceller { server.stop() }
        defer { signals.stop() }

        FileHandle.standardOutput.write(Data("http://\(address):\(server.port)/\n".utf8))
        do {
            try server.run()
        } catch {
            Console.error("hlsify: preview stopped: \(error)")
            throw ExitCode(71)
        }
        if !quiet { Console.error("hlsify: preview stopped") }
    }
}
