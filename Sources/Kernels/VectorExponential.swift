#if arch(x86_64) && !PORTABLE_KERNELS
import _Builtin_intrinsics.intel
#endif

// ggml's vectorized single-precision exponential, as its AVX-512 build evaluates it (`ggml_v_expf` under
// `__AVX512F__` in ggml-cpu.c, llama.cpp b4748, "adapted from ARM limited optimized routines"): x is reduced to
// n·ln2 + b with n an integer (rounded by adding and subtracting 1.5·2^23) and |b| ≤ ln2/2, e^b comes from a
// degree-5 polynomial, and the result is scaled by 2^n (`vscalefps`). llama.cpp evaluates SiLU and the
// attention softmax with it. It differs from the C library's `expf` by an ulp on some inputs, and we reproduce
// llama.cpp's logits bit for bit (Docs/Fidelity.md), so we evaluate the same operations in the same order:
// each line is one rounding, each `addingProduct` one fused multiply-add, as the intrinsics are.
//
// (ggml's AVX2 variant ends differently, k + k·j with the polynomial's 1 left out, and so rounds differently;
// the AVX-512 one is what our reference was recorded with.)

/// e^x in 16 lanes, bit for bit as ggml's AVX-512 `ggml_v_expf`. Overflows to +inf above about 88.7 and
/// flushes to 0 below about -103.9, with subnormal results rounded once, as `vscalefps` does.
@inline(__always)
package func ggmlExp(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let shift = SIMD16<Float>(repeating: 0x1.8p23)
    let z = shift.addingProduct(x, SIMD16(repeating: 0x1.715476p+0))
    let n = z - shift
    // b = x - n·ln2, ln2 split into a high and a low part, each taken off with one fused operation.
    let high = x.addingProduct(-n, SIMD16(repeating: 0x1.62e4p-1))
    let b = high.addingProduct(-n, SIMD16(repeating: 0x1.7f7d1cp-20))
    let u = b * b
    let odd = SIMD16<Float>(repeating: 0x1.573e2ep-5).addingProduct(SIMD16(repeating: 0x1.0e4020p-7), b)
    let even = SIMD16<Float>(repeating: 0x1.fffdb6p-2).addingProduct(SIMD16(repeating: 0x1.555e66p-3), b)
    let linear = SIMD16<Float>(repeating: 1).addingProduct(SIMD16(repeating: 0x1.ffffecp-1), b)
    let j = linear.addingProduct(even.addingProduct(odd, u), u)
    return scaleByPowerOfTwo(j, n)
}

/// `vscalefps` for the exponents `ggmlExp` produces: j·2^n rounded once; |n| > 192 gives +inf for n > 0 and
/// 0 otherwise (ggml's blend; j is never 0 or infinite there).
@inline(__always)
private func scaleByPowerOfTwo(_ j: SIMD16<Float>, _ n: SIMD16<Float>) -> SIMD16<Float> {
    // 2^n is a normal float for -126 ≤ n ≤ 127, and then one multiplication is the exactly rounded j·2^n,
    // subnormal results included. That is every lane in practice (|x| < 87).
    let inRange = (n .>= -126) .& (n .<= 127)
    // An element loop, not `SIMD16<Int32>(_:)`: the standard library's generic conversion is an out-of-line call.
    // The values are integers in [-126, 127] here, so the conversion is exact and cannot trap.
    let clamped = n.replacing(with: 0, where: .!inRange)
    #if arch(x86_64) && !PORTABLE_KERNELS
    // vcvttps2dq: the element loop below compiled to sixteen scalar conversions with range checks here.
    let exponent = SIMD16<Int32>(
        lowHalf: unsafeBitCast(_mm256_cvttps_epi32(clamped.lowHalf), to: SIMD8<Int32>.self),
        highHalf: unsafeBitCast(_mm256_cvttps_epi32(clamped.highHalf), to: SIMD8<Int32>.self)) &+ 127
    #else
    var exponent = SIMD16<Int32>()
    for l in 0..<16 { exponent[l] = Int32(clamped[l]) &+ 127 }
    #endif
    let power = unsafeBitCast(SIMD16<UInt32>(truncatingIfNeeded: exponent) &<< 23, to: SIMD16<Float>.self)
    var result = j * power
    if _slowPath(!all(inRange)) {
        for l in 0..<16 where !inRange[l] {
            let e = n[l]
            if e > 192 || e < -192 {
                result[l] = e > 0 ? .infinity : 0  // including x = ±inf, where j is NaN
            } else if e.isNaN {
                result[l] = .nan
            } else {
                // Exact in double, then one rounding to float.
                result[l] = Float(Double(j[l]) * Double(sign: .plus, exponent: Int(e), significand: 1))
            }
        }
    }
    return result
}
