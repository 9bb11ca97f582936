import Foundation
import Kernels
import Testing

/// `ggmlExp` must be ggml's AVX-512 `ggml_v_expf` lane for lane. The reference here evaluates the same
/// operations one float at a time (each `addingProduct` one fused multiply-add), so any change in the vector
/// code's rounding, conversions or range handling shows up as a differing bit pattern.
@Suite struct VectorExponentialTests {
    static func scalarReference(_ x: Float) -> Float {
        let shift: Float = 0x1.8p23
        let n = shift.addingProduct(x, 0x1.715476p+0) - shift
        let b = x.addingProduct(-n, 0x1.62e4p-1).addingProduct(-n, 0x1.7f7d1cp-20)
        let u = b * b
        let odd = Float(0x1.573e2ep-5).addingProduct(0x1.0e4020p-7, b)
        let even = Float(0x1.fffdb6p-2).addingProduct(0x1.555e66p-3, b)
        let j = Float(1).addingProduct(0x1.ffffecp-1, b).addingProduct(even.addingProduct(odd, u), u)
        if n.isNaN { return .nan }
        if n > 192 { return .infinity }
        if n < -192 { return 0 }
        // j · 2^n rounded once.
        return Float(Double(j) * Double(sign: .plus, exponent: Int(n), significand: 1))
    }

    @Test func matchesTheScalarEvaluationBitForBit() {
        var inputs: [Float] = stride(from: Float(-110), through: 92, by: 0.0371).map { $0 }
        inputs += [0, -0.0, 1, -1, 88.72, 88.73, -87.3, -103.9, -104, .infinity, -.infinity, .nan, 1e-30, -1e-30]
        while inputs.count % 16 != 0 { inputs.append(0.5) }
        var mismatches: [Float] = []
        for start in stride(from: 0, to: inputs.count, by: 16) {
            var v = SIMD16<Float>()
            for l in 0..<16 { v[l] = inputs[start + l] }
            let e = ggmlExp(v)
            for l in 0..<16 {
                let expected = Self.scalarReference(v[l])
                let same = e[l].bitPattern == expected.bitPattern || (e[l].isNaN && expected.isNaN)
                if !same { mismatches.append(v[l]) }
            }
        }
        #expect(mismatches.isEmpty, "differs at \(mismatches.prefix(8))")
        // And the reference is an exponential: within an ulp or two of the correctly rounded values.
        let check = ggmlExp(SIMD16(-20, -5, -1, -0.5, 0, 0.25, 1, 2, 3, 5, 10, 20, 40, 60, 80, 88))
        for (l, x) in [-20, -5, -1, -0.5, 0, 0.25, 1, 2, 3, 5, 10, 20, 40, 60, 80, 88].enumerated() {
            let exact = Float(exp(Double(x)))
            #expect(abs(check[l] - exact) <= 2 * exact.ulp, "e^\(x)")
        }
    }
}
