import Foundation
import XCTest
@testable import TranscodeQueue

final class JobEventTests: XCTestCase {
    private let fixedDate = Date(timeIntervalSince1970: 1_780_000_000.25)

    private func object(_ event: JobEvent, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let json = try JSONSerialization.jsonObject(with: event.jsonBody())
        return try XCTUnwrap(json as? [String: Any], file: file, line: line)
    }

    private let common: Set<String> = ["eventId", "jobId", "workerId", "attempt", "state", "timestamp"]

    func testEveryEventCarriesTheCommonFields() throws {
        let event = JobEvent.started(jobId: "lecture-42", input: "in.mp4", output: "lecture-42", workerId: "w1", attempt: 2)
        let body = try object(event)
        XCTAssertTrue(common.isSubset(of: Set(body.keys)))
        XCTAssertEqual(body["jobId"] as? String, "lecture-42")
        XCTAssertEqual(body["workerId"] as? String, "w1")
        XCTAssertEqual(body["attempt"] as? Int, 2)
        XCTAssertEqual(body["state"] as? String, "started")
        XCTAssertEqual(body["input"] as? String, "in.mp4")
        XCTAssertEqual(body["output"] as? String, "lecture-42")
        XCTAssertEqual(event.routingKey, "job.started")
        XCTAssertNotNil(UUID(uuidString: try XCTUnwrap(body["eventId"] as? String)))
    }

    func testJobIdIsNullNotAbsentWhenUnknown() throws {
        let event = JobEvent.rejected(jobId: nil, reason: .notJSON, message: "the body is not JSON", workerId: "w", attempt: 1)
        let body = try object(event)
        XCTAssertTrue(body.keys.contains("jobId"))
        XCTAssertTrue(body["jobId"] is NSNull)
        XCTAssertTrue(String(decoding: event.jsonBody(), as: UTF8.self).contains(#""jobId":null"#))
        XCTAssertEqual(body["state"] as? String, "rejected")
        XCTAssertEqual(body["deadLettered"] as? Bool, true)
        let error = try XCTUnwrap(body["error"] as? [String: Any])
        XCTAssertEqual(error["reason"] as? String, "not-json")
        XCTAssertEqual(error["message"] as? String, "the body is not JSON")
        XCTAssertEqual(event.routingKey, "job.rejected")
    }

    func testTimestampIsISO8601UTCWithMilliseconds() throws {
        var event = JobEvent(state: .accepted, jobId: "a", workerId: "w", attempt: 1, eventId: "e", timestamp: fixedDate)
        event.job = TranscodeJob(jobId: "a", input: "a.mp4", output: "a")
        let body = try object(event)
        XCTAssertEqual(body["timestamp"] as? String, "2026-05-28T20:26:40.250Z")
    }

    func testAcceptedCarriesTheJob() throws {
        let job = TranscodeJob(jobId: "a", input: "a.mp4", output: "out/a", ladder: ["720p"], preset: "fast")
        let body = try object(.accepted(job, workerId: "w", attempt: 1, redelivered: true, warnings: ["w1"]))
        let carried = try XCTUnwrap(body["job"] as? [String: Any])
        XCTAssertEqual(carried["input"] as? String, "a.mp4")
        XCTAssertEqual(carried["output"] as? String, "out/a")
        XCTAssertEqual(carried["ladder"] as? [String], ["720p"])
        XCTAssertEqual(carried["preset"] as? String, "fast")
        XCTAssertEqual(body["redelivered"] as? Bool, true)
        XCTAssertEqual(body["warnings"] as? [String], ["w1"])
    }

    func testProgressAndSegmentPayloads() throws {
        let progress = try object(.progress(jobId: "a", JobEvent.Progress(fraction: 0.5, mediaSeconds: 2, elapsedSeconds: 1, fps: 60,
                                                                          speed: 2, etaSeconds: nil), workerId: "w", attempt: 1))
        let fields = try XCTUnwrap(progress["progress"] as? [String: Any])
        XCTAssertEqual(Set(fields.keys), ["fraction", "mediaSeconds", "elapsedSeconds", "fps", "speed"])
        XCTAssertEqual(fields["fraction"] as? Double, 0.5)
        XCTAssertEqual(progress["state"] as? String, "progress")

        let segment = try object(.segment(jobId: "a", JobEvent.Segment(rendition: "720p", index: 3, path: "720p/segment-00003.m4s",
                                                                       bytes: 1234, startTime: 12), workerId: "w", attempt: 1))
        let segmentFields = try XCTUnwrap(segment["segment"] as? [String: Any])
        XCTAssertEqual(segmentFields["rendition"] as? String, "720p")
        XCTAssertEqual(segmentFields["index"] as? Int, 3)
        XCTAssertEqual(segmentFields["path"] as? String, "720p/segment-00003.m4s")
        XCTAssertEqual(segmentFields["bytes"] as? Int, 1234)
        XCTAssertEqual(segmentFields["startTime"] as? Double, 12)
    }

    func testChunkPayload() throws {
        let chunk = try object(.chunk(jobId: "a", JobEvent.Chunk(name: "video-003", committed: 4, of: 6, encodeSeconds: 12.5),
                                      workerId: "w", attempt: 2))
        XCTAssertEqual(chunk["state"] as? String, "chunk")
        let fields = try XCTUnwrap(chunk["chunk"] as? [String: Any])
        XCTAssertEqual(fields["name"] as? String, "video-003")
        XCTAssertEqual(fields["committed"] as? Int, 4)
        XCTAssertEqual(fields["of"] as? Int, 6)
        XCTAssertEqual(fields["encodeSeconds"] as? Double, 12.5)
        XCTAssertEqual(JobEvent.chunk(jobId: "a", JobEvent.Chunk(name: "audio", committed: 1, of: 6, encodeSeconds: 1),
                                      workerId: "w", attempt: 1).routingKey, "job.chunk")
    }

    func testCompletedFieldsAreAtTheTopLevel() throws {
        let completion = JobEvent.Completion(
            output: "lecture", master: "lecture/master.m3u8", segmentFormat: "fmp4", segmentDuration: 4,
            renditions: [.init(name: "720p", width: 1280, height: 720, codecs: "avc1.64001f", playlist: "720p/index.m3u8",
                               bandwidth: 3_000_000, averageBandwidth: 2_500_000, segments: 3, bytes: 900_000, encodedFrames: 300)],
            audio: nil, subtitles: [], durationSeconds: 10, elapsedSeconds: 5, bytes: 1_000_000, segments: 3, speed: 2)
        let body = try object(.completed(jobId: "a", completion, workerId: "w", attempt: 1))
        XCTAssertEqual(body["state"] as? String, "completed")
        XCTAssertEqual(body["output"] as? String, "lecture")
        XCTAssertEqual(body["master"] as? String, "lecture/master.m3u8")
        XCTAssertEqual(body["durationSeconds"] as? Double, 10)
        XCTAssertEqual(body["elapsedSeconds"] as? Double, 5)
        XCTAssertEqual(body["bytes"] as? Int, 1_000_000)
        XCTAssertEqual(body["speed"] as? Double, 2)
        XCTAssertTrue(body["audio"] is NSNull)
        let renditions = try XCTUnwrap(body["renditions"] as? [[String: Any]])
        XCTAssertEqual(renditions.first?["name"] as? String, "720p")
        XCTAssertEqual(renditions.first?["bandwidth"] as? Int, 3_000_000)
        XCTAssertTrue(common.isSubset(of: Set(body.keys)))
    }

    func testFailedSaysWhetherItIsRetried() throws {
        let retried = try object(.failed(jobId: "a", reason: "transient", message: "disk full", willRetry: true, workerId: "w", attempt: 1))
        XCTAssertEqual(retried["willRetry"] as? Bool, true)
        XCTAssertEqual(retried["deadLettered"] as? Bool, false)
        let final = try object(.failed(jobId: "a", reason: "bad-media", message: "not media", willRetry: false, workerId: "w", attempt: 3))
        XCTAssertEqual(final["willRetry"] as? Bool, false)
        XCTAssertEqual(final["deadLettered"] as? Bool, true)
        XCTAssertEqual((final["error"] as? [String: Any])?["reason"] as? String, "bad-media")
        XCTAssertEqual(final["attempt"] as? Int, 3)
    }

    func testEventMessagesArePersistentJSONWithTheEventIdAsMessageId() {
        let event = JobEvent.started(jobId: "a", input: "a.mp4", output: "a", workerId: "w", attempt: 1)
        let message = EventPublisher.message(for: event, exchange: "hlsify.events")
        XCTAssertEqual(message.exchange, "hlsify.events")
        XCTAssertEqual(message.routingKey, "job.started")
        XCTAssertEqual(message.properties.deliveryMode, 2)
        XCTAssertEqual(message.properties.contentType, "application/json")
        XCTAssertEqual(message.properties.messageId, event.eventId)
        XCTAssertEqual(message.properties.headers?["x-hlsify-job-id"], .string("a"))
        XCTAssertEqual(Data(message.body), event.jsonBody())
    }

    func testMarkerRoundTrips() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("marker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let completion = JobEvent.Completion(output: "a", master: "a/master.m3u8", segmentFormat: "ts", segmentDuration: 2,
                                             renditions: [], audio: .init(codec: "aac", bitrate: 128_000, channels: 2, sampleRate: 48_000,
                                                                          segments: 2, bytes: 10),
                                             subtitles: [.init(language: "en", cues: 7)], durationSeconds: 4, elapsedSeconds: 1,
                                             bytes: 10, segments: 2, speed: 4)
        var marker = CompletionMarker(jobId: "a", workerId: "w", attempt: 2, eventPublished: false, completion: completion)
        try marker.write(in: folder)
        XCTAssertEqual(CompletionMarker.read(in: folder), marker)
        marker.eventPublished = true
        try marker.write(in: folder)
        XCTAssertEqual(CompletionMarker.read(in: folder)?.eventPublished, true)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        XCTAssertEqual(leftovers, [CompletionMarker.fileName])
        // The completion's eventId is kept; a marker written before it was kept still reads.
        marker.eventId = "e-1"
        try marker.write(in: folder)
        XCTAssertEqual(CompletionMarker.read(in: folder)?.eventId, "e-1")
        let older = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(CompletionMarker.fileName)))
        var withoutId = try XCTUnwrap(older as? [String: Any])
        withoutId.removeValue(forKey: "eventId")
        try JSONSerialization.data(withJSONObject: withoutId).write(to: folder.appendingPathComponent(CompletionMarker.fileName))
        XCTAssertNil(try XCTUnwrap(CompletionMarker.read(in: folder)).eventId)
        XCTAssertEqual(JobEvent.completed(jobId: "a", completion, workerId: "w", attempt: 3, eventId: "e-1").eventId, "e-1")
    }
}
