import Glibc

/// Seconds on the monotonic clock, for deadlines.
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// A TCP socket listening on one IPv4 address.
final class ListeningSocket {
    let descriptor: Int32
    let host: String
    /// The port bound (the kernel's pick when 0 was asked for).
    let port: UInt16

    init(host: String, port: UInt16, backlog: Int32 = 128) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw SystemCallError("inet_pton(\(host))", code: EINVAL)
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemCallError("socket") }
        var one: Int32 = 1
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            let error = SystemCallError("setsockopt(SO_REUSEADDR)")
            close(fd)
            throw error
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let error = SystemCallError("bind(\(host):\(port))")
            close(fd)
            throw error
        }
        guard listen(fd, backlog) == 0 else {
            let error = SystemCallError("listen(\(host):\(port))")
            close(fd)
            throw error
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            let error = SystemCallError("getsockname")
            close(fd)
            throw error
        }
        descriptor = fd
        self.host = host
        self.port = UInt16(bigEndian: actual.sin_port)
    }

    /// Accepts one connection. nil for the failures that concern only that connection or are
    /// momentary (EINTR, EAGAIN, ECONNABORTED, EPROTO, EPERM); throws for the others (EMFILE, …).
    func accept() throws -> Int32? {
        // accept4 is a GNU extension the Glibc module does not show; hlsify never execs, so
        // setting FD_CLOEXEC just after is as good.
        let fd = Glibc.accept(descriptor, nil, nil)
        if fd >= 0 {
            guard fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 else {
                let error = SystemCallError("fcntl(F_SETFD)")
                close(fd)
                throw error
            }
            return fd
        }
        let code = errno
        switch code {
        case EINTR, EAGAIN, EWOULDBLOCK, ECONNABORTED, EPROTO, EPERM: return nil
        default: throw SystemCallError("accept", code: code)
        }
    }

    deinit { close(descriptor) }
}

/// One accepted connection, used by the one thread that serves it (the server only calls
/// shutdown(2) on its descriptor from another thread, to stop it).
final class ConnectedSocket: @unchecked Sendable {  // one serving thread uses it; others only shutdown(2) the descriptor
    enum Received: Equatable {
        case bytes(Int)
        /// The peer closed its side (or reset the connection).
        case closed
        case timedOut
    }

    let descriptor: Int32

    /// Takes ownership of `descriptor`; `sendTimeout` bounds each blocked send.
    init(descriptor: Int32, sendTimeout: Double) throws {
        self.descriptor = descriptor
        var timeout = timeval(tv_sec: Int(sendTimeout), tv_usec: 0)
        guard setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
            throw SystemCallError("setsockopt(SO_SNDTIMEO)")
        }
        var one: Int32 = 1
        guard setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SystemCallError("setsockopt(TCP_NODELAY)")
        }
    }

    deinit { close(descriptor) }

    /// Reads what has arrived, at most `maxCount` bytes, appending to `buffer`; waits until
    /// `deadline` (monotonic seconds) at most.
    func receive(into buffer: inout [UInt8], maxCount: Int, deadline: Double) throws -> Received {
        while true {
            let remaining = deadline - monotonicSeconds()
            guard remaining > 0 else { return .timedOut }
            var fds = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&fds, 1, Int32(min(remaining * 1000, 3_600_000).rounded(.up)))
            if ready < 0 {
                if errno == EINTR { continue }
                throw SystemCallError("poll")
            }
            if ready == 0 { continue }  // the loop checks the deadline again
            var chunk = [UInt8](repeating: 0, count: maxCount)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, maxCount, 0) }
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
                return .bytes(count)
            }
            if count == 0 { return .closed }
            switch errno {
            case EINTR, EAGAIN: continue
            case ECONNRESET, ENOTCONN, EPIPE: return .closed
            default: throw SystemCallError("recv")
            }
        }
    }

    /// Sends all of `bytes`; MSG_NOSIGNAL, so a vanished peer is an error (EPIPE), never SIGPIPE.
    func send(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = Glibc.send(descriptor, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if sent >= 0 {
                offset += sent
                continue
            }
            if errno == EINTR { continue }
            throw SystemCallError(errno == EAGAIN ? "send (timed out)" : "send", code: errno)
        }
    }

    func send(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try send($0) }
    }

    /// Sends what fits without blocking (for a quick refusal); errors are ignored.
    func sendWithoutWaiting(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
    }

    /// Closes the sending side, then reads and drops what the peer still sends for up to
    /// `linger` seconds, so that closing with unread request bytes does not reset the
    /// connection before the client has read the response.
    func closeGracefully(linger: Double) {
        guard shutdown(descriptor, Int32(SHUT_WR)) == 0 else { return }
        let deadline = monotonicSeconds() + linger
        var sink: [UInt8] = []
        var drained = 0
        while drained < 256 * 1024, case .bytes(let count)? = try? receive(into: &sink, maxCount: 16 * 1024, deadline: deadline) {
            drained += count
            sink.removeAll(keepingCapacity: true)
        }
    }
}
