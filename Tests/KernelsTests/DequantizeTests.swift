import GGUF
import Kernels
import Testing

/// Properties every format's kernel must have beyond matching the reference: block independence, any source
/// alignment, no writes past `count`, and format metadata consistent with the GGUF reader's.
@Suite struct DequantizeTests {
    /// Deterministic bytes (SplitMix64), so failures reproduce.
    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return UInt8(truncatingIfNeeded: z ^ (z >> 31))
        }
    }

    @Test(arguments: WeightFormat.allCases)
    func wholeRowEqualsBlockByBlockAndLeavesTheRestAlone(_ format: WeightFormat) {
        let blocks = 37  // odd, and more than any unrolling or vector width
        let raw = Self.randomBytes(blocks * format.blockByteCount, seed: UInt64(format.ggmlTypeID) + 1)
        let count = blocks * format.blockSize
        let sentinel = Float(bitPattern: 0x7FC0_1234)
        var whole = [Float](repeating: sentinel, count: count + 8)
        var pieces = [Float](repeating: sentinel, count: count)
        raw.withUnsafeBytes { source in
            whole.withUnsafeMutableBufferPointer {
                dequantize(format, source.baseAddress!, count: count, into: $0.baseAddress!)
            }
            pieces.withUnsafeMutableBufferPointer { out in
                for b in 0..<blocks {
                    dequantize(
                        format, source.baseAddress! + b * format.blockByteCount, count: format.blockSize,
                        into: out.baseAddress! + b * format.blockSize)
                }
            }
        }
        #expect(whole[..<count].map(\.bitPattern) == pieces.map(\.bitPattern))
        #expect(whole[count...].allSatisfy { $0.bitPattern == sentinel.bitPattern }, "wrote past count")
        #expect(!pieces.contains { $0.bitPattern == sentinel.bitPattern }, "left an element unwritten")
    }

    @Test(arguments: WeightFormat.allCases)
    func sourceAlignmentDoesNotMatter(_ format: WeightFormat) {
        // Rows inside a tensor start at multiples of the block size in bytes (18, 34, 210…), so kernels must
        // accept any address.
        let blocks = 3
        let raw = Self.randomBytes(blocks * format.blockByteCount, seed: 99)
        let count = blocks * format.blockSize
        let aligned = dequantized(format, raw, count: count)
        for shift in 1...3 {
            let shifted = dequantized(format, Array(repeating: 0xAA, count: shift) + raw, count: count, skipping: shift)
            #expect(shifted.map(\.bitPattern) == aligned.map(\.bitPattern), "shift \(shift)")
        }
    }

    @Test(arguments: WeightFormat.allCases)
    func zeroCountWritesNothing(_ format: WeightFormat) {
        var out: [Float] = [42]
        let raw = [UInt8](repeating: 0xFF, count: format.blockByteCount)
        raw.withUnsafeBytes { source in
            out.withUnsafeMutableBufferPointer {
                dequantize(format, source.baseAddress!, count: 0, into: $0.baseAddress!)
            }
        }
        #expect(out == [42])
    }

    @Test(arguments: WeightFormat.allCases)
    func formatAgreesWithTheGGUFReader(_ format: WeightFormat) throws {
        let type = try #require(GGMLType(rawValue: format.ggmlTypeID))
        #expect(type.blockSize == format.blockSize)
        #expect(type.blockByteCount == format.blockByteCount)
        #expect(WeightFormat(ggmlTypeID: format.ggmlTypeID) == format)
        #expect(QuantFixture.fileName(for: format) == type.name.lowercased().replacingK() + ".bin")
    }

    @Test func unsupportedTypeIDsHaveNoFormat() {
        for id: UInt32 in [4, 5, 9, 15, 16, 20, 24, 28, 31, 39, 1000, .max] {
            #expect(WeightFormat(ggmlTypeID: id) == nil, "\(id)")
        }
    }

    @Test func byteCountRejectsPartialBlocksAndOverflow() {
        #expect(WeightFormat.q4_K.byteCount(forElements: 512) == 288)
        #expect(WeightFormat.q4_0.byteCount(forElements: 33) == nil)
        #expect(WeightFormat.f16.byteCount(forElements: -2) == nil)
        #expect(WeightFormat.f32.byteCount(forElements: Int.max) == nil)
        #expect(WeightFormat.q8_0.byteCount(forElements: 0) == 0)
    }
}

extension String {
    /// ggml spells the k-quants with a capital K (`Q4_K` → `q4_K`), like our case names.
    fileprivate func replacingK() -> String { hasSuffix("_k") ? String(dropLast()) + "K" : self }
}

/// Dequantizes `raw` from byte `skipping` onwards.
private func dequantized(_ format: WeightFormat, _ raw: [UInt8], count: Int, skipping: Int) -> [Float] {
    var out = [Float](repeating: .nan, count: count)
    raw.withUnsafeBytes { source in
        out.withUnsafeMutableBufferPointer {
            dequantize(format, source.baseAddress! + skipping, count: count, into: $0.baseAddress!)
        }
    }
    return out
}
