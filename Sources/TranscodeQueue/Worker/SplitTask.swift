import Foundation
import HLSKit

/// What a message on the jobs queue asks for, from its AMQP `type` (its body is always the job):
/// a job (planned, then split or transcoded whole), one time chunk of a split job, the stitch of
/// one, or its delayed fan-in check (which stitches too when every chunk is there).
enum SplitTask: Equatable {
    case job
    case chunk(ChunkName)
    case stitch
    case check

    static let chunkType = "hlsify.chunk"
    static let stitchType = "hlsify.stitch"
    static let checkType = "hlsify.check"
    static let chunkHeader = "x-hlsify-chunk"

    init(_ properties: AMQPProperties) {
        switch properties.type {
        case Self.chunkType:
            if case .string(let text)? = properties.headers?[Self.chunkHeader], let name = ChunkName(text) {
                self = .chunk(name)
            } else {
                self = .job  // a chunk message without a chunk is handled as its job (which replans)
            }
        case Self.stitchType: self = .stitch
        case Self.checkType: self = .check
        default: self = .job
        }
    }

    /// Handled with the output's lock, like a job, but stitching instead of transcoding.
    var isStitch: Bool { self == .stitch || self == .check }

    /// The message for this task of the job `jobId` whose body is `body`: persistent, the job id
    /// in its header and correlation id, a message id naming the task (`JOB:chunk:3`,
    /// `JOB:stitch`), for consumers that de-duplicate. The check goes to the check queue with a
    /// TTL of `checkDelay` seconds, after which the broker dead-letters it to the jobs queue.
    func message(jobId: String, body: [UInt8], topology: Topology, checkDelay: Double) -> AMQPOutgoingMessage {
        var headers: AMQPTable = ["x-hlsify-job-id": .string(jobId)]
        let type: String, id: String
        var queue = topology.jobsQueue
        var expiration: String?
        switch self {
        case .job:
            type = "hlsify.job"
            id = UUID().uuidString.lowercased()
        case .chunk(let name):
            type = Self.chunkType
            id = "\(jobId):chunk:\(name.argument)"
            headers[Self.chunkHeader] = .string(name.argument)
        case .stitch:
            type = Self.stitchType
            id = "\(jobId):stitch"
        case .check:
            type = Self.checkType
            id = "\(jobId):check"
            queue = topology.checkQueue
            expiration = String(max(1, Int((checkDelay * 1000).rounded())))
        }
        let properties = AMQPProperties(contentType: "application/json", headers: headers, deliveryMode: 2, correlationId: jobId,
                                        expiration: expiration, messageId: id, timestamp: UInt64(Date().timeIntervalSince1970),
                                        type: type, appId: "hlsify")
        return AMQPOutgoingMessage(exchange: "", routingKey: queue, mandatory: true, properties: properties, body: body)
    }
}
