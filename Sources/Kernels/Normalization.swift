#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// RMS normalization of `rows` rows of `count` floats: `y = x / sqrt(mean(x²) + epsilon) * weight`.
///
/// Input and output may be the same buffer.
package func rmsNorm(
    _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, count: Int, rows: Int, epsilon: Float,
    into y: UnsafeMutablePointer<Float>
) {
    for r in 0..<rows {
        let xr = x + r &* count
        let yr = y + r &* count
        // Squares summed in double, then scaled and weighted in two roundings, as ggml's rms_norm and mul do.
        var sum: Double = 0
        for i in 0..<count { sum += Double(xr[i] * xr[i]) }
        let mean = Float(sum / Double(count))
        let scale = 1 / (mean + epsilon).squareRoot()
        for i in 0..<count {
            yr[i] = (xr[i] * scale) * weight[i]
        }
    }
}

/// `y[i] += x[i]` over `count` elements (the residual connection).
package func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { y[i] += x[i] }
}

/// SwiGLU: `gate[i] = silu(gate[i]) * up[i]` over `count` elements, where silu(x) = x / (1 + e^-x).
///
/// As llama.cpp computes it (`ggml_vec_silu_f32`, then a separate multiplication): 16 elements at a time with
/// ggml's vector exponential, `x / (1 + exp(0 - x))` rounded, then times `up`; a tail of fewer than 16 with
/// the C library's `expf`, as ggml's scalar loop does.
package func swiGLU(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
    let g = UnsafeMutableRawPointer(gate)
    let u = UnsafeRawPointer(up)
    var i = 0
    while i &+ 16 <= count {
        let x = g.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
        let silu = x / (1 + ggmlExp(SIMD16<Float>() - x))
        g.storeBytes(of: silu * u.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self),
                     toByteOffset: i &* 4, as: SIMD16<Float>.self)
        i &+= 16
    }
    while i < count {
        let x = gate[i]
        gate[i] = x / (1 + expf(-x)) * up[i]
        i &+= 1
    }
}
