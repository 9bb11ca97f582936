import Kernels
import Testing

/// Checks the binary16 and bfloat16 conversions over every bit pattern.
@Suite struct HalfPrecisionTests {
    /// A deliberately naive binary16 decoder, written from the IEEE 754 definition with a normalisation loop, so
    /// that it shares no code or trick with the kernel's select-based version.
    static func referenceFloatBits(_ h: UInt16) -> UInt32 {
        let sign = UInt32(h >> 15) << 31
        let exponent = Int((h >> 10) & 0x1F)
        var mantissa = UInt32(h & 0x3FF)
        switch exponent {
        case 0x1F:  // infinity or NaN: all-ones exponent, payload kept as numpy keeps it
            return sign | 0x7F80_0000 | mantissa << 13
        case 0:
            if mantissa == 0 { return sign }
            // Subnormal: value = mantissa · 2^-24. Shift until the implicit bit appears.
            var e = 127 - 14
            while mantissa & 0x400 == 0 {
                mantissa <<= 1
                e -= 1
            }
            return sign | UInt32(e) << 23 | (mantissa & 0x3FF) << 13
        default:
            return sign | UInt32(exponent - 15 + 127) << 23 | mantissa << 13
        }
    }

    @Test func float16MatchesReferenceForAllBitPatterns() {
        var mismatches: [UInt16] = []
        for bits in UInt16.min...UInt16.max where floatFromHalfBits(bits).bitPattern != Self.referenceFloatBits(bits) {
            mismatches.append(bits)
        }
        #expect(mismatches.isEmpty, "first: \(mismatches.prefix(8).map { String($0, radix: 16) })")
    }

    @Test func float16AgreesWithSwiftFloat16ForEveryNonNaN() {
        // A third opinion: Swift's own Float16 conversion (hardware or compiler-rt). It may quiet NaNs, so those
        // are compared only as NaN.
        var mismatches = 0
        for bits in UInt16.min...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let actual = floatFromHalfBits(bits)
            if expected.isNaN ? !actual.isNaN : actual.bitPattern != expected.bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    @Test func float16SpotValues() {
        #expect(floatFromHalfBits(0x3C00) == 1)
        #expect(floatFromHalfBits(0xC000) == -2)
        #expect(floatFromHalfBits(0x7BFF) == 65504)
        #expect(floatFromHalfBits(0x0001) == 0x1p-24)
        #expect(floatFromHalfBits(0x8000).bitPattern == 0x8000_0000)
        #expect(floatFromHalfBits(0x7C00) == .infinity)
        #expect(floatFromHalfBits(0x7C01).bitPattern == 0x7F80_2000, "signalling NaN keeps its payload, as numpy")
    }

    @Test func bulkFloat16ConversionMatchesScalarForAllBitPatterns() {
        // The bulk kernel (vectorised by the compiler) against the reference, all 65,536 patterns in one call,
        // from a source that is deliberately not 2-byte aligned.
        let patterns = (0...0xFFFF).map { UInt16($0) }
        var raw = [UInt8](repeating: 0, count: 1 + patterns.count * 2)
        for (i, p) in patterns.enumerated() {
            raw[1 + 2 * i] = UInt8(p & 0xFF)
            raw[2 + 2 * i] = UInt8(p >> 8)
        }
        var out = [Float](repeating: 0, count: patterns.count)
        raw.withUnsafeBytes { source in
            out.withUnsafeMutableBufferPointer {
                dequantize(.f16, source.baseAddress! + 1, count: patterns.count, into: $0.baseAddress!)
            }
        }
        let mismatches = patterns.indices.filter { out[$0].bitPattern != Self.referenceFloatBits(patterns[$0]) }
        #expect(mismatches.isEmpty, "first: \(mismatches.prefix(8))")
    }

    @Test func bfloat16IsTheTopHalfOfAFloatForAllBitPatterns() {
        var mismatches = 0
        for bits in UInt16.min...UInt16.max where floatFromBFloat16Bits(bits).bitPattern != UInt32(bits) << 16 {
            mismatches += 1
        }
        #expect(mismatches == 0)
    }
}
