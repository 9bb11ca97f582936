import Kernels
import Testing

/// Compares every format's kernel with numpy's dequantization in the `gguf` package (fixtures written by
/// `Tests/Scripts/make_quant_fixtures.py`).
@Suite struct DequantizationReferenceTests {
    /// Formats whose every output is one IEEE operation on exactly representable operands (a widening, or
    /// `d × integer`), so any correct decoder produces the same bits, NaN payloads included.
    static let bitExactFormats: Set<WeightFormat> = [.f32, .f16, .bf16, .q8_0, .q4_0, .q5_0]

    /// The tolerance for the other formats, which compute `(d·scale)·q − dmin·min` or `d·q + m`. The evaluation
    /// order is an implementation choice there: fused multiply-add, or folding `d·scale` differently, moves
    /// each of the two or three roundings by at most half an ulp of its operand. The fixtures keep every term
    /// below 16 in magnitude (the generator bounds the f16 scales), where an ulp is at most 2^-20, so the sum of
    /// those differences stays below 2^-18 ≈ 3.8e-6. A misread bit or layout changes a value by at least one
    /// quantization step (d ≥ 1e-4 for nearly all fixture blocks), orders of magnitude more.
    static let affineTolerance: Float = 0x1p-18

    @Test(arguments: WeightFormat.allCases)
    func matchesNumpyReference(_ format: WeightFormat) throws {
        let fixture = try QuantFixture.load(format).get()
        #expect(fixture.ggmlTypeID == format.ggmlTypeID)
        #expect(fixture.rows.count >= 4, "every format has rows of several lengths")
        for (index, row) in fixture.rows.enumerated() {
            #expect(row.elementCount % format.blockSize == 0)
            #expect(format.byteCount(forElements: row.elementCount) == row.raw.count)
            let actual = dequantized(format, row.raw, count: row.elementCount)
            try #require(actual.count == row.expected.count)
            var mismatches: [String] = []
            for (i, (got, want)) in zip(actual, row.expected).enumerated() where !Self.agree(got, want, format) {
                mismatches.append("[\(i)] \(got) (0x\(String(got.bitPattern, radix: 16))) ≠ \(want)")
            }
            #expect(mismatches.isEmpty, "\(format) row \(index): \(mismatches.prefix(5).joined(separator: "; "))")
        }
    }

    @Test func coversEveryRowLengthKind() throws {
        // Row lengths that are 1, 2, 3 and 5 blocks for every quantized format.
        for format in WeightFormat.allCases where format.blockSize > 1 {
            let lengths = Set(try QuantFixture.load(format).get().rows.map { $0.elementCount / format.blockSize })
            #expect(lengths.isSuperset(of: [1, 2, 3, 5]), "\(format): \(lengths.sorted())")
        }
    }

    @Test func fixturesContainSpecialFloat16Values() throws {
        // The F16 and BF16 fixtures must exercise zeros, subnormals, infinities and both kinds of NaN, or
        // bit-exactness means little. Classified from the raw 16-bit patterns: (exponent bits, mantissa bits).
        for (format, exponentMask, mantissaMask) in [(WeightFormat.f16, 0x7C00, 0x03FF), (.bf16, 0x7F80, 0x007F)] {
            let raw = try QuantFixture.load(format).get().rows.flatMap(\.raw)
            let patterns = stride(from: 0, to: raw.count, by: 2).map { Int(raw[$0]) | Int(raw[$0 + 1]) << 8 }
            let quietBit = (mantissaMask + 1) >> 1
            let classes = Set(patterns.map { bits -> String in
                let exponent = bits & exponentMask, mantissa = bits & mantissaMask
                switch (exponent, mantissa) {
                case (0, 0): return "zero"
                case (0, _): return "subnormal"
                case (exponentMask, 0): return "infinity"
                case (exponentMask, _): return mantissa & quietBit != 0 ? "quiet NaN" : "signalling NaN"
                default: return "normal"
                }
            })
            #expect(classes == ["zero", "subnormal", "normal", "infinity", "quiet NaN", "signalling NaN"], "\(format)")
        }
    }

    static func agree(_ got: Float, _ want: Float, _ format: WeightFormat) -> Bool {
        if bitExactFormats.contains(format) || !want.isFinite { return got.bitPattern == want.bitPattern }
        return abs(got - want) <= affineTolerance
    }
}
