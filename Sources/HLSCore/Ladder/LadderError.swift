/// A rung or ladder that could not be parsed; `message` says what was wrong and what to write instead.
public struct LadderError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
