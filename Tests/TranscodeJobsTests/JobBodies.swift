import Foundation
@testable import TranscodeJobs

/// A job message made of the required fields plus `fields` (JSON text), for tests of one field.
enum JobBodies {
    static func decode(_ fields: String, with decoder: JobDecoder = JobDecoder()) throws(JobRejection) -> TranscodeJob {
        try decoder.decode(Data(#"{"jobId": "a", "input": "a.mp4", "output": "a", \#(fields)}"#.utf8)).job
    }

    /// Why such a message is refused; nil when it is accepted.
    static func rejection(_ fields: String) -> JobRejection? {
        do {
            _ = try decode(fields)
            return nil
        } catch {
            return error
        }
    }
}
