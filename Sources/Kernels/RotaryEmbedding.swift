#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rotary position embedding as GGUF's llama models expect it ("normal" mode: the converter permuted Q and K
/// so that adjacent pairs (x[2i], x[2i+1]) rotate together).
///
/// The rotation angle of pair `i` at position `p` is `p * scale * base^(-2i/dimensions) / factor[i]`; `scale`
/// is the linear context-scaling factor (1 when unscaled) and `factors` the optional per-pair frequency
/// divisors of Llama 3.1-style models (`rope_freqs.weight`).
package struct RotaryEmbedding: Sendable {
    /// Rotated dimensions per head (pairs are `dimensions / 2`); the rest of each head passes through.
    package let dimensions: Int
    private let thetaScale: Float
    private let positionScale: Float
    private let frequencyFactors: [Float]?

    /// Creates the rotation for `dimensions` rotated dimensions.
    package init(dimensions: Int, base: Double, positionScale: Double = 1, frequencyFactors: [Float]? = nil) {
        self.dimensions = dimensions
        // In single precision and iterated, exactly as ggml builds its rotation cache, so that angles match
        // llama.cpp's to the last bit.
        thetaScale = powf(Float(base), -2 / Float(dimensions))
        self.positionScale = Float(positionScale)
        self.frequencyFactors = frequencyFactors
    }

    /// Writes the cosines and sines for `position` into `table` (`dimensions` floats: cos, sin per pair).
    package func fillTable(position: Int, into table: UnsafeMutablePointer<Float>) {
        var theta = Float(position)
        for i in 0..<(dimensions / 2) {
            let factor = frequencyFactors?[i] ?? 1
            let angle = positionScale * (theta / factor)
            table[2 &* i] = cosf(angle)
            table[2 &* i &+ 1] = sinf(angle)
            theta *= thetaScale
        }
    }
    /// Rotates `heads` consecutive heads of `headDimension` floats in place using a table from `fillTable`.
    package func apply(
        _ x: UnsafeMutablePointer<Float>, heads: Int, headDimension: Int, table: UnsafePointer<Float>
    ) {
        let pairs = dimensions / 2
        for h in 0..<heads {
            let v = x + h &* headDimension
            for i in 0..<pairs {
                let c = table[2 &* i]
                let s = table[2 &* i &+ 1]
                let a = v[2 &* i]
                let b = v[2 &* i &+ 1]
                // Each sum as GCC contracts ggml's `x0*cos - x1*sin` and `x0*sin + x1*cos` (llama.cpp's default
                // -ffp-contract=fast): the first product fused, the second rounded.
                v[2 &* i] = (-(b * s)).addingProduct(a, c)
                v[2 &* i &+ 1] = (b * c).addingProduct(a, s)
            }
        }
    }
}
