import HLSCore
import XCTest

final class MachineLoadTests: XCTestCase {
    func testMachineBusyTimeLeavesIdleAndIOWaitOut() {
        // user nice system idle iowait irq softirq steal guest guest_nice
        let stat = "cpu  1000 20 300 9000 400 5 6 70 100 0\ncpu0 500 10 150 4500 200 2 3 35 50 0\nintr 1 2 3\n"
        XCTAssertEqual(CPUReading.machineBusySeconds(procStat: stat, ticksPerSecond: 100), (1000 + 20 + 300 + 5 + 6 + 70) / 100.0)
        XCTAssertNil(CPUReading.machineBusySeconds(procStat: "intr 1 2\n", ticksPerSecond: 100))
        XCTAssertNil(CPUReading.machineBusySeconds(procStat: "cpu  1 2 3\n", ticksPerSecond: 100))
    }

    func testProcessTimeIsCountedAfterTheNameEvenWithSpacesAndParentheses() {
        let fields = ["S", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "250", "50", "0", "0", "20", "0"]
        let stat = "4242 (a (b) c) " + fields.joined(separator: " ")
        XCTAssertEqual(CPUReading.processSeconds(stat: stat, ticksPerSecond: 100), 3.0)
        XCTAssertNil(CPUReading.processSeconds(stat: "4242 (x) S 1", ticksPerSecond: 100))
    }

    func testOthersAreTheMachinesBusyTimeLessOursOverTheWindow() {
        let before = CPUReading(machineBusy: 100, process: 10, time: 50)
        let after = CPUReading(machineBusy: 104, process: 12, time: 52)
        XCTAssertEqual(after.othersCores(since: before), 1.0)
        // Our own time counted in a later tick than the machine's never makes others negative.
        XCTAssertEqual(CPUReading(machineBusy: 101, process: 13, time: 52).othersCores(since: before), 0)
        XCTAssertNil(CPUReading(machineBusy: 101, process: 10, time: 50.1).othersCores(since: before), "too short to tell")
    }

    func testWeightsGoOnWhenQuietAndOffWhenBusyWithAGapBetween() {
        var policy = AdaptiveWeighting()
        XCTAssertFalse(policy.weighted)
        XCTAssertFalse(policy.update(othersCores: 0.3), "neither quiet nor busy: stays off")
        XCTAssertTrue(policy.update(othersCores: 0.1))
        XCTAssertTrue(policy.update(othersCores: 0.4), "in the gap: stays on")
        XCTAssertFalse(policy.update(othersCores: 1.0))
        XCTAssertFalse(policy.update(othersCores: 0.25), "not under the quiet limit")
        XCTAssertTrue(policy.update(othersCores: 0.0))
    }
}
