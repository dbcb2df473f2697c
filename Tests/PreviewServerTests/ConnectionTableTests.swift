import XCTest
@testable import PreviewServer

final class ConnectionTableTests: XCTestCase {
    private func admitted(_ table: inout ConnectionTable, _ count: Int) -> [Int] {
        (0..<count).compactMap { _ in table.admit().admittedID }
    }

    func testBelowTheCapEveryoneIsAdmitted() {
        var table = ConnectionTable(capacity: 3)
        let ids = admitted(&table, 3)
        XCTAssertEqual(Set(ids).count, 3)
        XCTAssertEqual(table.count, 3)
        XCTAssertEqual(table.phases.values.filter { $0 == .active }.count, 3)
    }

    func testAtTheCapWithNoIdleConnectionANewcomerIsRefused() {
        var table = ConnectionTable(capacity: 2)
        let ids = admitted(&table, 2)
        XCTAssertEqual(table.admit(), .full, "connections reading their first request are never evicted")
        table.becameIdle(ids[0], at: 1)
        XCTAssertTrue(table.becameActive(ids[0]), "a request began: active again")
        XCTAssertEqual(table.admit(), .full, "nor are connections answering a request")
        table.remove(ids[1])
        XCTAssertNotNil(table.admit().admittedID, "a slot freed by a connection that ended")
    }

    func testTheLongestIdleMakesRoom() {
        var table = ConnectionTable(capacity: 64)
        let ids = admitted(&table, 64)
        // 64 keep-alive clients idle after one request each, the first one idle the longest.
        for (index, id) in ids.enumerated() { table.becameIdle(id, at: 100 + Double(index)) }
        for round in 0..<3 {
            guard case .admittedEvicting(let newcomer, let evicted) = table.admit() else {
                return XCTFail("round \(round): a newcomer was refused with \(table.count) idle connections")
            }
            XCTAssertEqual(evicted, ids[round], "the one idle the longest")
            XCTAssertEqual(table.phases[newcomer], .active)
            XCTAssertNil(table.phases[evicted])
            XCTAssertTrue(table.evicted.contains(evicted))
            XCTAssertEqual(table.count, 64, "the cap holds")
            // The evicted connection's thread may have received the start of a request just
            // before: it must not answer it.
            XCTAssertFalse(table.becameActive(evicted))
            table.becameIdle(evicted, at: 1)  // ignored: it is gone
            XCTAssertNil(table.phases[evicted])
        }
        // Once its thread ends, it is forgotten.
        table.remove(ids[0])
        XCTAssertFalse(table.evicted.contains(ids[0]))
        XCTAssertEqual(table.count, 64)
    }

    func testOnlyIdleConnectionsAreEvicted() {
        var table = ConnectionTable(capacity: 3)
        let ids = admitted(&table, 3)
        table.becameIdle(ids[0], at: 5)
        table.becameIdle(ids[2], at: 7)
        XCTAssertTrue(table.becameActive(ids[0]))  // its next request began
        XCTAssertEqual(table.admit(), .admittedEvicting(id: 3, evicted: ids[2]))
        XCTAssertEqual(table.admit(), .full)
    }

    func testEvictedConnectionsStillClosingAreBounded() {
        var table = ConnectionTable(capacity: 2)
        let first = admitted(&table, 2)
        for id in first { table.becameIdle(id, at: 1) }
        let second = admitted(&table, 2)
        XCTAssertEqual(second.count, 2)
        XCTAssertEqual(table.evicted, Set(first))
        // Were the evicted threads never to end (they end at once), no more would be evicted.
        for id in second { table.becameIdle(id, at: 2) }
        XCTAssertEqual(table.admit(), .full, "no more than the cap may be closing")
        table.remove(first[0])
        XCTAssertEqual(table.admit(), .admittedEvicting(id: 4, evicted: second[0]))
    }
}
