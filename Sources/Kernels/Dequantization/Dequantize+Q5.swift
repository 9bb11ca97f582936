// The 32-element 5-bit formats.
//
// Block layouts (ggml `block_q5_0`, `block_q5_1`):
// ```
// q5_0 (22 bytes): | d: f16 |          qh: u32 | qs: 16 bytes |
// q5_1 (24 bytes): | d: f16 | m: f16 | qh: u32 | qs: 16 bytes |
// ```
// Element j < 16 is the low nibble of qs[j]; element j + 16 is its high nibble. Bit j of qh is element j's
// fifth bit.

/// Dequantizes `blockCount` q5_0 blocks: `x = d · (q − 16)`.
///
/// - Parameters:
///   - source: the first block; any alignment; `22 × blockCount` bytes readable.
///   - output: room for `32 × blockCount` floats.
package func dequantizeQ5_0(_ source: UnsafeRawPointer, blockCount: Int, into output: UnsafeMutablePointer<Float>) {
    for b in 0..<blockCount {
        // Safe because block b lies within the 22 × blockCount bytes the caller guarantees, and every offset
        // below is inside the 22-byte block; the output slice y[0..<32] is inside 32 × blockCount floats.
        let block = source + b &* 22
        let y = output + b &* 32
        let d = loadHalf(block, 0)
        let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        for j in 0..<16 {
            let byte = UInt32(block.load(fromByteOffset: 6 &+ j, as: UInt8.self))
            let low = (byte & 0x0F) | ((qh >> UInt32(j)) & 1) << 4
            let high = (byte >> 4) | ((qh >> UInt32(j &+ 16)) & 1) << 4
            y[j] = d * Float(Int32(bitPattern: low) &- 16)
            y[j &+ 16] = d * Float(Int32(bitPattern: high) &- 16)
        }
    }
}

/// Dequantizes `blockCount` q5_1 blocks: `x = d · q + m`.
///
/// - Parameters:
///   - source: the first block; any alignment; `24 × blockCount` bytes readable.
///   - output: room for `32 × blockCount` floats.
package func dequantizeQ5_1(_ source: UnsafeRawPointer, blockCount: Int, into output: UnsafeMutablePointer<Float>) {
    for b in 0..<blockCount {
        // Safe because block b lies within the 24 × blockCount bytes the caller guarantees, and every offset
        // below is inside the 24-byte block; the output slice y[0..<32] is inside 32 × blockCount floats.
        let block = source + b &* 24
        let y = output + b &* 32
        let d = loadHalf(block, 0)
        let m = loadHalf(block, 2)
        let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        for j in 0..<16 {
            let byte = UInt32(block.load(fromByteOffset: 8 &+ j, as: UInt8.self))
            let low = (byte & 0x0F) | ((qh >> UInt32(j)) & 1) << 4
            let high = (byte >> 4) | ((qh >> UInt32(j &+ 16)) & 1) << 4
            // Multiply, then add: two roundings, as ggml and numpy compute it (Swift never fuses them).
            y[j] = d * Float(low) + m
            y[j &+ 16] = d * Float(high) + m
        }
    }
}
