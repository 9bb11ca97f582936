import Kernels
import TestSupport

/// One row of a dequantization reference fixture: raw blocks and the float32 values numpy decoded from them.
struct QuantFixtureRow {
    let elementCount: Int
    let raw: [UInt8]
    let expected: [Float]
}

/// A reference fixture file written by `Tests/Scripts/make_quant_fixtures.py` (format described there).
struct QuantFixture {
    let format: WeightFormat
    let ggmlTypeID: UInt32
    let rows: [QuantFixtureRow]

    /// The file name the generator uses for `format`.
    static func fileName(for format: WeightFormat) -> String {
        "\(format).bin"  // the case names are the generator's names (`q4_K`, `bf16`)
    }

    /// Loads the fixture for `format`, or nil (with the reason) when the file is missing or malformed.
    static func load(_ format: WeightFormat) -> Result<QuantFixture, FixtureError> {
        let path = Fixtures.testFixtures + "/quant/" + fileName(for: format)
        guard let bytes = Fixtures.read(path) else { return .failure(FixtureError("cannot read \(path)")) }
        var reader = LittleEndianReader(bytes: bytes)
        guard reader.bytes(4) == Array("LSQF".utf8), reader.u32() == 1, let type = reader.u32(),
            let rowCount = reader.u32()
        else { return .failure(FixtureError("\(path) has a bad header")) }
        var rows: [QuantFixtureRow] = []
        for _ in 0..<rowCount {
            guard let n = reader.u32(), let byteCount = reader.u32(), let raw = reader.bytes(Int(byteCount)),
                let floats = reader.bytes(Int(n) * 4)
            else { return .failure(FixtureError("\(path) is truncated")) }
            let expected = stride(from: 0, to: floats.count, by: 4).map { i in
                Float(bitPattern: littleEndianUInt32(floats, at: i))
            }
            rows.append(QuantFixtureRow(elementCount: Int(n), raw: raw, expected: expected))
        }
        guard reader.isAtEnd else { return .failure(FixtureError("\(path) has trailing bytes")) }
        return .success(QuantFixture(format: format, ggmlTypeID: type, rows: rows))
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Reads little-endian fields from a byte array, returning nil past the end.
private struct LittleEndianReader {
    let bytes: [UInt8]
    var position = 0

    var isAtEnd: Bool { position == bytes.count }

    mutating func bytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, count <= bytes.count - position else { return nil }
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    mutating func u32() -> UInt32? {
        bytes(4).map { littleEndianUInt32($0, at: 0) }
    }
}

private func littleEndianUInt32(_ bytes: [UInt8], at i: Int) -> UInt32 {
    var value: UInt32 = 0
    for k in 0..<4 { value |= UInt32(bytes[i + k]) << UInt32(8 * k) }
    return value
}

/// Dequantizes `raw` (a whole number of blocks of `format`) with the kernel under test, into a fresh array.
func dequantized(_ format: WeightFormat, _ raw: [UInt8], count: Int) -> [Float] {
    var out = [Float](repeating: .nan, count: count)
    raw.withUnsafeBytes { source in
        out.withUnsafeMutableBufferPointer { output in
            // An empty array may have no base address; dequantize reads and writes nothing when count is 0.
            guard let base = source.baseAddress, let target = output.baseAddress else { return }
            dequantize(format, base, count: count, into: target)
        }
    }
    return out
}
