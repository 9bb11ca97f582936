// The 32-element 8-bit format.
//
// Block layout (ggml `block_q8_0`, 34 bytes): | d: f16 | qs: 32 × int8 |

/// Dequantizes `blockCount` q8_0 blocks: `x = q · d`.
///
/// - Parameters:
///   - source: the first block; any alignment; `34 × blockCount` bytes readable.
///   - output: room for `32 × blockCount` floats.
package func dequantizeQ8_0(_ source: UnsafeRawPointer, blockCount: Int, into output: UnsafeMutablePointer<Float>) {
    for b in 0..<blockCount {
        // Safe because block b lies within the 34 × blockCount bytes the caller guarantees, and every offset
        // below is inside the 34-byte block; the output slice y[0..<32] is inside 32 × blockCount floats.
        let block = source + b &* 34
        let y = output + b &* 32
        let d = loadHalf(block, 0)
        for j in 0..<32 {
            y[j] = Float(block.load(fromByteOffset: 2 &+ j, as: Int8.self)) * d
        }
    }
}
