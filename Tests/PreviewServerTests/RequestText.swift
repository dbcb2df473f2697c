@testable import PreviewServer

/// A request from its text head (`GET / HTTP/1.1\r\nHost: a\r\n\r\n`), for tests of what comes
/// after the decoder: no validation, the server's decoder is NIO's.
func request(_ text: String) -> HTTPRequest {
    let lines = text.split(separator: "\r\n", omittingEmptySubsequences: true)
    let parts = lines[0].split(separator: " ")
    var headers = HTTPHeaders()
    for line in lines.dropFirst() {
        let colon = line.firstIndex(of: ":")!
        headers.add(String(line[..<colon]), line[line.index(after: colon)...].trimming(" "))
    }
    return HTTPRequest(method: String(parts[0]), target: String(parts[1]), minorVersion: parts[2] == "HTTP/1.0" ? 0 : 1,
                       headers: headers)
}
