// The 32-element 4-bit formats.
//
// Block layouts (ggml `block_q4_0`, `block_q4_1`):
// ```
// q4_0 (18 bytes): | d: f16 | qs: 16 bytes |
// q4_1 (20 bytes): | d: f16 | m: f16 | qs: 16 bytes |
// ```
// Element j < 16 is the low nibble of qs[j]; element j + 16 is its high nibble.

/// Dequantizes `blockCount` q4_0 blocks: `x = d · (q − 8)`.
///
/// - Parameters:
///   - source: the first block; any alignment; `18 × blockCount` bytes readable.
///   - output: room for `32 × blockCount` floats.
package func dequantizeQ4_0(_ source: UnsafeRawPointer, blockCount: Int, into output: UnsafeMutablePointer<Float>) {
    for b in 0..<blockCount {
        // Safe because block b lies within the 18 × blockCount bytes the caller guarantees, and every offset
        // below is inside the 18-byte block; the output slice y[0..<32] is inside 32 × blockCount floats.
        let block = source + b &* 18
        let y = output + b &* 32
        let d = loadHalf(block, 0)
        for j in 0..<16 {
            let byte = block.load(fromByteOffset: 2 &+ j, as: UInt8.self)
            y[j] = d * Float(Int32(byte & 0x0F) &- 8)
            y[j &+ 16] = d * Float(Int32(byte >> 4) &- 8)
        }
    }
}

/// Dequantizes `blockCount` q4_1 blocks: `x = d · q + m`.
///
/// - Parameters:
///   - source: the first block; any alignment; `20 × blockCount` bytes readable.
///   - output: room for `32 × blockCount` floats.
package func dequantizeQ4_1(_ source: UnsafeRawPointer, blockCount: Int, into output: UnsafeMutablePointer<Float>) {
    for b in 0..<blockCount {
        // Safe because block b lies within the 20 × blockCount bytes the caller guarantees, and every offset
        // below is inside the 20-byte block; the output slice y[0..<32] is inside 32 × blockCount floats.
        let block = source + b &* 20
        let y = output + b &* 32
        let d = loadHalf(block, 0)
        let m = loadHalf(block, 2)
        for j in 0..<16 {
            let byte = block.load(fromByteOffset: 4 &+ j, as: UInt8.self)
            // Multiply, then add: two roundings, as ggml and numpy compute it (Swift never fuses them).
            y[j] = d * Float(byte & 0x0F) + m
            y[j &+ 16] = d * Float(byte >> 4) + m
        }
    }
}
