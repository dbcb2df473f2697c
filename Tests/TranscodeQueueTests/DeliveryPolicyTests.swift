import Foundation
import HLSKit
import XCTest
@testable import TranscodeQueue

/// Every way the worker settles a delivery, decided without a broker.
final class DeliveryPolicyTests: XCTestCase {
    private let policy = DeliveryPolicy(maxAttempts: 3, retryDelay: 5)

    private func disposition(_ outcome: DeliveryOutcome, attempt: Int = 1) -> DeliveryDisposition {
        policy.disposition(for: outcome, attempt: attempt)
    }

    private let completion = JobEvent.Completion(output: "a", master: "a/master.m3u8", segmentFormat: "fmp4", segmentDuration: 4,
                                                 renditions: [], audio: nil, subtitles: [], durationSeconds: 4, elapsedSeconds: 2,
                                                 bytes: 10, segments: 1, speed: 2)

    // MARK: Redelivery count

    func testADeliveryPastMaxAttemptsIsExhausted() {
        XCTAssertFalse(policy.isExhausted(attempt: 1))
        XCTAssertFalse(policy.isExhausted(attempt: 3), "the last attempt is still worked on")
        XCTAssertTrue(policy.isExhausted(attempt: 4))
        XCTAssertTrue(DeliveryPolicy(maxAttempts: 1, retryDelay: 5).isExhausted(attempt: 2))
    }

    func testAnExhaustedDeliveryIsDeadLetteredWithTheCounts() {
        XCTAssertEqual(disposition(.exhausted, attempt: 4),
                       .deadLetter(reason: .attemptsExhausted,
                                   message: "delivered 4 times (the worker may have died each time); --max-attempts is 3"))
    }

    // MARK: Complete outputs

    func testACompletedOrAlreadyCompleteOutputIsAcknowledged() {
        XCTAssertEqual(disposition(.completed(completion)), .ack)
        XCTAssertEqual(disposition(.alreadyComplete, attempt: 7), .ack, "even past max attempts: the work is done")
    }

    func testAnUnconfirmedCompletionGoesBackAtOnceWithoutAFailure() {
        let result = disposition(.completionNotConfirmed, attempt: 3)
        XCTAssertEqual(result, .requeue(after: 0, cause: .completionNotConfirmed))
        XCTAssertNil(DeliveryDisposition.RequeueCause.completionNotConfirmed.failure)
    }

    // MARK: Rejected jobs

    func testARejectedJobIsDeadLetteredWithItsOwnReason() {
        for reason in DeadLetterReason.allCases where reason.isRejection {
            XCTAssertEqual(disposition(.rejected(JobRejection(reason, "why", jobId: "j")), attempt: 2),
                           .deadLetter(reason: reason, message: "why"))
        }
    }

    // MARK: Engine failures

    func testBadMediaAndMissingInputsAreDeadLetteredAtOnce() {
        XCTAssertEqual(disposition(.failed(TranscodeError.invalidInput("not a video"))),
                       .deadLetter(reason: .badMedia, message: "\(TranscodeError.invalidInput("not a video"))"))
        XCTAssertEqual(disposition(.failed(TranscodeError.inputMissing("gone"))),
                       .deadLetter(reason: .inputMissing, message: "\(TranscodeError.inputMissing("gone"))"))
    }

    func testAPassingFailureIsRetriedAfterADelayThatGrowsWithTheAttempt() {
        let error = TranscodeError.io("disk full")
        XCTAssertEqual(disposition(.failed(error), attempt: 1), .requeue(after: 5, cause: .retry(error: "\(error)")))
        XCTAssertEqual(disposition(.failed(error), attempt: 2), .requeue(after: 10, cause: .retry(error: "\(error)")))
        for passing: any Error in [TranscodeError.cannotCreateOutput("x"), TranscodeError.timeLimit("slow"),
                                   TranscodeError.outputExists("x"), CocoaError(.fileWriteOutOfSpace)] {
            guard case .requeue(_, .retry) = disposition(.failed(passing)) else { return XCTFail("\(passing) is not retried") }
        }
    }

    func testTheRetryDelayIsCapped() {
        let patient = DeliveryPolicy(maxAttempts: 100, retryDelay: 30)
        XCTAssertEqual(patient.disposition(for: .failed(TranscodeError.io("x")), attempt: 5),
                       .requeue(after: DeliveryPolicy.maximumRetryDelay, cause: .retry(error: "\(TranscodeError.io("x"))")))
    }

    func testAPassingFailureOnTheLastAttemptIsDeadLettered() {
        let error = TranscodeError.io("disk full")
        XCTAssertEqual(disposition(.failed(error), attempt: 3),
                       .deadLetter(reason: .attemptsExhausted, message: "attempt 3 of 3 failed: \(error)"))
    }

    func testARetryReportsATransientFailure() {
        let failure = DeliveryDisposition.RequeueCause.retry(error: "disk full").failure
        XCTAssertEqual(failure?.reason, "transient")
        XCTAssertEqual(failure?.message, "disk full")
    }

    // MARK: Shutdown

    func testAJobStoppedMidTranscodeGoesBackAtOnceReportedAsInterrupted() {
        for stop: any Error in [CancellationError(), TranscodeError.cancelled] {
            XCTAssertEqual(disposition(.failed(stop), attempt: 3), .requeue(after: 0, cause: .interrupted),
                           "an interruption is never the job's last attempt")
        }
        XCTAssertEqual(DeliveryDisposition.RequeueCause.interrupted.failure?.reason, "interrupted")
    }

    func testAJobStoppedBeforeItStartedGoesBackWithoutAFailure() {
        XCTAssertEqual(disposition(.stopped), .requeue(after: 0, cause: .stopped))
        XCTAssertNil(DeliveryDisposition.RequeueCause.stopped.failure)
    }

    func testADeliveryWhoseChannelClosedIsLeftForTheBroker() {
        XCTAssertEqual(disposition(.abandoned), .leaveForRedelivery)
    }

    // MARK: After the dead-letter copy

    func testTheOriginalIsAcknowledgedOnceItsCopyIsConfirmed() {
        XCTAssertEqual(DeliveryPolicy.settlement(afterCopy: nil), .ack)
    }

    func testARefusedCopyLeavesTheOriginalToTheQueuesOwnDeadLettering() {
        for refusal: AMQPPublishError in [.nacked, .returned(code: 312, text: "NO_ROUTE"), .tooLarge("headers")] {
            XCTAssertEqual(DeliveryPolicy.settlement(afterCopy: refusal), .reject(requeue: false), "\(refusal)")
        }
    }

    func testACopyLostWithItsChannelSettlesNothing() {
        for lost: AMQPPublishError in [.connectionLost("gone"), .stale, .dropped, .closed("bye")] {
            XCTAssertNil(DeliveryPolicy.settlement(afterCopy: lost), "\(lost)")
        }
    }
}
