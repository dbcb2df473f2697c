/// Windows-1252 decoding, done here so it behaves the same on every platform.
///
/// Bytes 0x00–0x7F and 0xA0–0xFF map to the same Unicode code points (as in Latin-1);
/// 0x80–0x9F map to the table below. The five bytes Windows-1252 leaves undefined
/// (0x81, 0x8D, 0x8F, 0x90, 0x9D) map to the C1 control of the same value, as browsers do.
enum Windows1252 {
    /// Code points for bytes 0x80...0x9F.
    static let highControlRange: [UInt32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ]

    /// The Unicode scalar a Windows-1252 byte stands for.
    static func scalar(for byte: UInt8) -> Unicode.Scalar {
        let value: UInt32 = (0x80...0x9F).contains(byte)
            ? highControlRange[Int(byte) - 0x80]
            : UInt32(byte)
        // Every table entry is a valid scalar.
        return Unicode.Scalar(value)!
    }

    /// Decodes every byte; never fails. Linear in the byte count.
    static func decode(_ bytes: ArraySlice<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(scalar(for: byte)) }
        return String(scalars)
    }
}
