@testable import Kernels
import Testing

/// Activation quantization against a scalar statement of ggml's x86 rule: scale max|x| / 127, quants
/// x · 127 / max rounded half to even, binary16 scale and binary16 scale · Σq, plus the per-half sums and (on
/// x86-64) the eight 8·lane sums the Q4_0 decode kernel subtracts.
@Suite struct Q8ActivationsTests {
    static func input(blocks: Int) -> [Float] {
        (0..<(blocks * 32)).map { i in
            let b = i / 32
            switch b % 6 {
            case 0: return 0  // an all-zero block
            case 1: return Float(i % 32) - 15.5  // exact halves: ties to even
            case 2: return i % 2 == 0 ? 1e-6 : -3e-7  // tiny magnitudes
            case 3: return Float((i * 7919) % 2001 - 1000) / 7.0
            case 4: return i % 32 == 5 ? -42 : Float(i % 9) * 0.01  // one dominant negative value
            default: return Float((i * 104_729) % 65_537) * 0.001 - 32
            }
        }
    }

    @Test func quantizesExactlyAsTheScalarRule() {
        let blocks = 24, rows = 2
        let x = Self.input(blocks: blocks * rows)
        let q8 = Q8Activations(rowLength: blocks * 32, rowCapacity: rows)
        defer { q8.deallocate() }
        x.withUnsafeBufferPointer { q8.quantize($0.baseAddress!, rows: rows) }
        var failures: [String] = []
        for b in 0..<(blocks * rows) {
            let values = x[(b * 32)..<(b * 32 + 32)]
            let maximum = values.map { abs($0) }.max()!
            let d = maximum / 127
            let inverse: Float = maximum == 0 ? 0 : 127 / maximum
            let q = values.map { v -> Int32 in max(-127, min(127, Int32((v * inverse).rounded(.toNearestOrEven)))) }
            for i in 0..<32 where q8.quants[b * 32 + i] != Int8(q[i]) { failures.append("block \(b) element \(i)") }
            if q8.scales[b].bitPattern != Float(Float16(d)).bitPattern { failures.append("block \(b) scale") }
            let low = q[0..<16].reduce(0, +), high = q[16..<32].reduce(0, +)
            if q8.sums[2 * b] != Int16(low) || q8.sums[2 * b + 1] != Int16(high) { failures.append("block \(b) sums") }
            if q8.blockSums[b].bitPattern != Float(Float16(d * Float(low + high))).bitPattern {
                failures.append("block \(b) block sum")
            }
            if q8.offsets[b] != 8 * (low + high) { failures.append("block \(b) offset") }
        }
        #expect(failures.isEmpty, "\(failures.prefix(6))")
        #expect((0..<(blocks * rows * 32)).contains { q8.quants[$0] == 127 || q8.quants[$0] == -127 })
    }
}
