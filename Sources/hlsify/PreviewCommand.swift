import ArgumentParser
import Foundation
import Logging
import NIOCore
import ObjectStorage
import PreviewServer
import ServiceLifecycle
import Synchronization

/// `hlsify preview DIR [--port N] [--host 127.0.0.1]`
struct PreviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Serve an output folder or bucket prefix on a loopback port with a page that plays it (the browser's own HLS).",
        discussion: """
            Prints the page's URL on stdout once listening, logs one line per request on stderr \
            (unless --quiet), and serves until SIGINT or SIGTERM (exit 0). Exit codes: 64 usage, \
            66 DIR missing or without master.m3u8, 69 the address cannot be listened on (port in \
            use, …) or the bucket does not answer, 71 another operating system failure, 77 the \
            bucket refuses the credentials. A bucket prefix (s3://BUCKET/PREFIX) is read with the \
            S3 settings of `hlsify` (AWS_* variables, --s3-*); the server fetches each object \
            for the player, so no credential or signed URL reaches the page.
            """)

    @Argument(help: "An hlsify output folder (with master.m3u8), or its bucket prefix s3://BUCKET/PREFIX.")
    var dir: String

    @OptionGroup var storage: StorageArguments

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

    func run() async throws {
        let site = S3Address.isAddress(dir) ? try bucketSite() : try folderSite()

        let address = LoopbackAddress.parse(host)!
        let listening = Listening()
        let log: PreviewHTTPServer.Log? = quiet ? nil : { @Sendable line in Console.error(line) }
        let server = PreviewHTTPServer(
            configuration: PreviewHTTPServer.Configuration(host: address, port: port), log: log,
            onListening: { (boundPort: Int) in
                listening.flag.store(true, ordering: .sequentiallyConsistent)
                FileHandle.standardOutput.write(Data("http://\(address):\(boundPort)/\n".utf8))
            }, handler: { request in site.respond(to: request) })
        // SIGINT and SIGTERM: stop accepting, close idle connections, let responses under way
        // end (3 s at most), exit 0.
        var configuration = ServiceGroupConfiguration(services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: Logger(label: "hlsify.preview", factory: { _ in SwiftLogNoOpLogHandler() }))
        configuration.maximumGracefulShutdownDuration = Duration.seconds(3)
        do {
            try await ServiceGroup(configuration: configuration).run()
        } catch {
            let reason = (error as? IOError).map { SystemCallError.text($0.errnoCode) } ?? "\(error)"
            guard listening.flag.load(ordering: .sequentiallyConsistent) else {
                Console.error("hlsify: cannot serve on \(address):\(port): \(reason)")
                throw ExitCode(error is IOError ? 69 : 71)
            }
            Console.error("hlsify: preview stopped: \(reason)")
            throw ExitCode(71)
        }
        if !quiet { Console.error("hlsify: preview stopped") }
    }

    /// Whether the server got as far as listening (a failure before is a start failure).
    private final class Listening: Sendable {
        let flag = Atomic<Bool>(false)
    }

    private func folderSite() throws -> PreviewSite {
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
        return PreviewSite(files: files, title: URL(fileURLWithPath: files.root).lastPathComponent)
    }

    /// The site of a bucket prefix, once its master playlist is seen there.
    private func bucketSite() throws -> PreviewSite {
        let (prefix, client) = try CommandRun.storage { () throws(StorageError) in
            (try S3Address(parsing: dir), S3Client(configuration: try storage.configuration(ProcessInfo.processInfo.environment)))
        }
        let master = try CommandRun.storage { () throws(StorageError) in try client.head(try prefix.appending(PreviewSite.masterName)) }
        guard master != nil else {
            Console.error("hlsify: \(prefix): no \(PreviewSite.masterName) (not an hlsify output?)")
            throw ExitCode(66)
        }
        let title = prefix.lastComponent.isEmpty ? prefix.bucket : prefix.lastComponent
        return PreviewSite(content: BucketPreviewContent(client: client, prefix: prefix), title: title)
    }
}
