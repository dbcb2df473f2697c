import HLSCore
import XCTest

final class FragmentSequenceTests: XCTestCase {
    /// A box of `type` around `payload`.
    private func box(_ type: String, _ payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.u32(8 + payload.count)
        bytes.text(type)
        return bytes + payload
    }

    /// moof(mfhd(sequence), traf()) followed by an mdat.
    private func fragment(sequence: Int) -> [UInt8] {
        var mfhd: [UInt8] = []
        mfhd.u32(0)  // version, flags
        mfhd.u32(sequence)
        return box("moof", box("mfhd", mfhd) + box("traf", [])) + box("mdat", [1, 2, 3])
    }

    func testRenumbersEveryFragmentInOrderAndSaysWhereTheNextStarts() throws {
        var segment = box("styp", [0, 0, 0, 0]) + fragment(sequence: 1) + fragment(sequence: 2) + fragment(sequence: 9)
        let untouched = segment
        let next = try FragmentSequence.renumber(&segment, from: 41)
        XCTAssertEqual(next, 44)
        XCTAssertEqual(try FragmentSequence.numbers(in: segment), [41, 42, 43])
        XCTAssertEqual(segment.count, untouched.count)
        // Only the four bytes of each sequence number changed.
        XCTAssertEqual(zip(segment, untouched).filter { $0 != $1 }.count, 3)
    }

    func testAMoofWithoutMfhdIsAnError() {
        var segment = box("moof", box("traf", []))
        XCTAssertThrowsError(try FragmentSequence.renumber(&segment, from: 1))
    }

    func testABrokenBoxIsAnError() {
        var segment = fragment(sequence: 1)
        segment[3] = 0xff  // moof claims more bytes than there are
        XCTAssertThrowsError(try FragmentSequence.renumber(&segment, from: 1))
    }
}
