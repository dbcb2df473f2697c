import Foundation
import Glibc

/// A small HTTP/1.1 server: one listening IPv4 socket, a thread per connection, keep-alive, GET
/// and HEAD.
///
/// At most `maxConnections` are served at once. At that cap a new client takes the place of
/// the kept-alive connection idle the longest (between a response and the next request), which
/// is shut down; only when none is idle is the newcomer answered 503 at once (see
/// `ConnectionTable`). So idle keep-alive clients, however many, never lock others out.
///
/// Every request head must arrive within `headTimeout` seconds and fit in
/// `HTTPRequest.maxHeadSize` bytes; an idle kept-alive connection is closed after `idleTimeout`;
/// a send blocked for `sendTimeout` ends the connection. Files are streamed in `chunkSize` pieces.
public final class HTTPServer: @unchecked Sendable {  // mutable state (connections, listener) is under its lock
    public struct Configuration: Sendable {
        public var host: String
        /// 0 lets the kernel pick a free port (see `port`).
        public var port: UInt16
        public var maxConnections = 64
        public var headTimeout = 10.0
        public var idleTimeout = 15.0
        public var sendTimeout = 30.0
        public var chunkSize = 64 * 1024
        /// Request bodies up to this size are read and dropped (the connection stays usable); a
        /// larger one, or a chunked one, closes the connection after the response.
        public var maxDiscardedBody = 1024 * 1024

        public init(host: String, port: UInt16) {
            self.host = host
            self.port = port
        }
    }

    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse
    /// Receives one line per request (`GET /720p/index.m3u8 200 1234`) and per connection problem.
    public typealias Logger = @Sendable (String) -> Void

    public let configuration: Configuration
    /// The port listened on.
    public var port: UInt16 { listener.port }

    private let listener: ListeningSocket
    private let handler: Handler
    private let log: Logger?
    private let wakeRead: Int32
    private let wakeWrite: Int32

    // Guarded by `state`.
    private let state = NSCondition()
    private var stopping = false
    private var table: ConnectionTable
    private var sockets: [Int: ConnectedSocket] = [:]

    /// Binds and listens at once, so that a port in use fails here, before anything is printed.
    public init(configuration: Configuration, log: Logger? = nil, handler: @escaping Handler) throws {
        self.configuration = configuration
        self.handler = handler
        self.log = log
        table = ConnectionTable(capacity: configuration.maxConnections)
        listener = try ListeningSocket(host: configuration.host, port: configuration.port)
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw SystemCallError("pipe") }
        wakeRead = pipeEnds[0]
        wakeWrite = pipeEnds[1]
        for fd in pipeEnds {
            guard fcntl(fd, F_SETFD, FD_CLOEXEC) == 0, fcntl(fd, F_SETFL, O_NONBLOCK) == 0 else {
                throw SystemCallError("fcntl(wake pipe)")
            }
        }
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    /// Accepts connections until `stop()`, then ends the open ones and waits up to `drainTimeout`
    /// seconds for their threads. Throws when accepting fails for good.
    public func run(drainTimeout: Double = 3) throws {
        defer { drain(timeout: drainTimeout) }
        var fds = [pollfd(fd: listener.descriptor, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        while !isStopping {
            fds[0].revents = 0
            fds[1].revents = 0
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                throw SystemCallError("poll")
            }
            if fds[1].revents != 0 { break }
            guard fds[0].revents != 0 else { continue }
            do {
                guard let fd = try listener.accept() else { continue }
                start(fd)
            } catch let error as SystemCallError where [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.code) {
                // Out of descriptors or memory for a moment: say so and let connections finish.
                log?("hlsify preview: \(error)")
                usleep(100_000)
            }
        }
    }

    /// Makes `run()` return. Safe from any thread and from a signal handler's dispatch source.
    public func stop() {
        state.lock()
        stopping = true
        state.unlock()
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    private var isStopping: Bool {
        state.lock()
        defer { state.unlock() }
        return stopping
    }

    // MARK: connections

    private func start(_ fd: Int32) {
        let socket: ConnectedSocket
        do {
            socket = try ConnectedSocket(descriptor: fd, sendTimeout: configuration.sendTimeout)
        } catch {
            log?("hlsify preview: \(error)")
            return  // the socket's deinit closes fd
        }
        state.lock()
        let admission = stopping ? .full : table.admit()
        guard let id = admission.admittedID else {
            state.unlock()
            let refusal = HTTPResponse.error(.serviceUnavailable, "too many connections", close: true)
            var head = refusal.head(keepAlive: false, date: Self.now())
            if case .bytes(let body) = refusal.body { head += body }
            socket.sendWithoutWaiting(head)
            socket.closeGracefully(linger: 0.05)
            return
        }
        sockets[id] = socket
        if case .admittedEvicting(_, let evicted) = admission, let idle = sockets[evicted] {
            // Its thread, waiting for a next request, sees EOF (or sees it is evicted) and ends.
            shutdown(idle.descriptor, Int32(SHUT_RDWR))
        }
        state.unlock()
        if case .admittedEvicting = admission {
            log?("hlsify preview: closed the longest-idle keep-alive connection to make room (\(configuration.maxConnections) connections)")
        }

        let thread = Thread { [self] in
            serve(socket, id: id)
            state.lock()
            table.remove(id)
            sockets[id] = nil
            state.broadcast()
            state.unlock()
        }
        thread.name = "hlsify-http"
        thread.stackSize = 512 * 1024
        thread.start()
    }

    /// Shuts down the open connections (their threads then see EOF or EPIPE) and waits for them.
    private func drain(timeout: Double) {
        state.lock()
        defer { state.unlock() }
        for socket in sockets.values { shutdown(socket.descriptor, Int32(SHUT_RDWR)) }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while !sockets.isEmpty, state.wait(until: deadline) {}
    }

    /// Reads requests and answers them until the client or a timeout ends the connection, or
    /// the connection is evicted while idle (see `ConnectionTable`).
    private func serve(_ socket: ConnectedSocket, id: Int) {
        var buffer: [UInt8] = []
        var waitingForFirstRequest = true
        while !isStopping {
            // The head: the first one within headTimeout of the accept; a later one may wait
            // idleTimeout to begin, then has headTimeout from its first byte.
            var begun = waitingForFirstRequest || !buffer.isEmpty
            if !begun { setIdle(id) }
            var deadline = monotonicSeconds() + (begun ? configuration.headTimeout : configuration.idleTimeout)
            var headLength = HTTPRequest.headLength(in: buffer)
            while headLength == nil {
                guard buffer.count <= HTTPRequest.maxHeadSize else {
                    respondAndClose(socket, .error(.headerFieldsTooLarge, "request head over \(HTTPRequest.maxHeadSize) bytes"))
                    return
                }
                let received: ConnectedSocket.Received
                do {
                    received = try socket.receive(into: &buffer, maxCount: 16 * 1024, deadline: deadline)
                } catch {
                    log?("hlsify preview: \(error)")
                    return
                }
                switch received {
                case .closed:
                    return
                case .timedOut:
                    if buffer.contains(where: { $0 != 0x0D && $0 != 0x0A }) {
                        respondAndClose(socket, .error(.requestTimeout, "the request head did not arrive in time"))
                    }
                    return
                case .bytes:
                    if !begun {
                        guard setActive(id) else { return }  // evicted: the client asks again elsewhere
                        begun = true
                        deadline = monotonicSeconds() + configuration.headTimeout
                    }
                    headLength = HTTPRequest.headLength(in: buffer)
                }
            }
            let length = headLength!
            let request: HTTPRequest
            do {
                request = try HTTPRequest.parse(head: buffer[0..<length])
            } catch let error as HTTPRequestError {
                log?("- - \(error.status.code) (\(error.message))")
                respondAndClose(socket, .error(error.status, error.message, close: true))
                return
            } catch {
                respondAndClose(socket, .error(.badRequest, nil, close: true))
                return
            }
            buffer.removeFirst(length)
            waitingForFirstRequest = false

            // Bodies are not for us: skip a small one, otherwise close after answering.
            var mustClose = request.hasChunkedBody || request.bodyLength > configuration.maxDiscardedBody
            if !mustClose, request.bodyLength > 0 {
                mustClose = !discard(request.bodyLength, from: socket, buffer: &buffer)
            }

            var response = handler(request)
            if mustClose { response.closeConnection = true }
            let keepAlive = request.keepAlive && !response.closeConnection && !isStopping
            let sent = send(response, to: socket, withBody: request.method != "HEAD", keepAlive: keepAlive)
            log?("\(request.method) \(request.target) \(response.status.code) \(response.body.length)")
            guard sent else { return }
            guard keepAlive else {
                socket.closeGracefully(linger: 0.25)
                return
            }
        }
    }

    private func setIdle(_ id: Int) {
        state.lock()
        table.becameIdle(id, at: monotonicSeconds())
        state.unlock()
    }

    /// False when the connection was evicted meanwhile.
    private func setActive(_ id: Int) -> Bool {
        state.lock()
        defer { state.unlock() }
        return table.becameActive(id)
    }

    /// Reads and drops `count` body bytes (some may already be in `buffer`); false when the
    /// client stopped sending them in time.
    private func discard(_ count: Int, from socket: ConnectedSocket, buffer: inout [UInt8]) -> Bool {
        var remaining = count
        let deadline = monotonicSeconds() + configuration.headTimeout
        while true {
            let taken = min(remaining, buffer.count)
            buffer.removeFirst(taken)
            remaining -= taken
            if remaining == 0 { return true }
            guard case .bytes? = try? socket.receive(into: &buffer, maxCount: min(remaining, 64 * 1024), deadline: deadline) else {
                return false
            }
        }
    }

    private func respondAndClose(_ socket: ConnectedSocket, _ response: HTTPResponse) {
        var closing = response
        closing.closeConnection = true
        if send(closing, to: socket, withBody: true, keepAlive: false) {
            socket.closeGracefully(linger: 0.25)
        }
    }

    /// Sends the head and, unless HEAD, the body; false when the connection failed.
    private func send(_ response: HTTPResponse, to socket: ConnectedSocket, withBody: Bool, keepAlive: Bool) -> Bool {
        do {
            var head = response.head(keepAlive: keepAlive, date: Self.now())
            switch withBody ? response.body : .none {
            case .none:
                try socket.send(head)
            case .bytes(let bytes):
                head += bytes
                try socket.send(head)
            case .file(let file, let offset, let length):
                try socket.send(head)
                try stream(file, offset: offset, length: length, to: socket)
            }
            return true
        } catch {
            log?("hlsify preview: \(error)")
            return false
        }
    }

    /// Sends `length` bytes of `file` from `offset`, `chunkSize` at a time.
    private func stream(_ file: OpenFile, offset: Int, length: Int, to socket: ConnectedSocket) throws {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: configuration.chunkSize, alignment: 16)
        defer { chunk.deallocate() }
        var position = offset, remaining = length
        while remaining > 0 {
            let wanted = UnsafeMutableRawBufferPointer(rebasing: chunk[0..<min(remaining, chunk.count)])
            let count = try file.read(at: position, into: wanted)
            // The file shrank after its size was sent: the response cannot be completed.
            guard count > 0 else { throw SystemCallError("pread(\(file.path)) (file shrank)", code: EIO) }
            try socket.send(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
            position += count
            remaining -= count
        }
    }

    static func now() -> String {
        HTTPDate.format(secondsSince1970: Int(time(nil)))
    }
}
