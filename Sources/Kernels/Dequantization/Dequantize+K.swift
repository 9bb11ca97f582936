// The 256-element "k-quant" formats. Each super-block holds 8 or 16 sub-blocks with their own scales, which are
// themselves quantized against the super-block's f16 scale(s).
//
// Element numbering shared by q2_K, q3_K and q6_K: the 256 elements are two halves of 128; within a half,
// element `32·j + l` (j < 4, l < 32) takes bits `2j ..< 2j+2` of the half's byte l (a byte holds the same
// position of four groups).

/// Dequantizes `blockCount` q2_K blocks: `x = (d · scale) · q − (dmin · min)`, 16 sub-blocks of 16.
///
/// ```
/// q2_K (84 bytes): | scales: 16 bytes (low nibble scale, high nibble min) | qs: 64 bytes | d: f16 | dmin: f16 |
/// ```
///
/// - Parameters:
///   - source: the first block; any alignment; `84 × blockCount` bytes readable.
///   - output: room for `256 × blockCount` floats.
package func dequantizeQ2_K(_ source: UnsafeRawPointer, blockCount: Int, into output: UnsafeMutablePointer<Float>) {
    for b in 0..<blockCount {
        // Safe because block b lies within the 84 × blockCount bytes the caller guarantees, and every offset
        // below is inside the 84-byte block; y[0..<256] is inside 256 × blockCount floats.
        let block = source + b &* 84
        let y = output + b &* 256
        let d = loadHalf(block, 80)
        let dmin = loadHalf(block, 82)
        for half in 0..<2 {
            for j in 0..<4 {
                for sub in 0..<2 {
                    let scaleByte = block.load(fromByteOffset: half &* 8 &+ j &* 2 &+ sub, as: UInt8.self)
                    let dl = d * Float(scaleByte & 0x0F)
                    let ml = dmin * Float(scaleByte >> 4)
                    let qs = 16 &+ half &* 32 &+ sub &* 16
                    let out = y + (half &* 128 &+ j &* 32 &+ sub &* 16)
                    for l in 0..<16 {
                        let q = (block.load(fromByteOffset: qs &+ l, as: UInt8.self) >> UInt8(j &* 2)) & 3
                        out[l] = dl * Float(q) - ml
                    }
                }
            }
        }
    }
}

/// Dequantizes `blockCount` q3_K blocks: `x = (d · (scale − 32)) · (q − 4·[high bit clear])`, 16 sub-blocks
/// of 16.
///
/// ```
/// q3_K (110 bytes): | hmask: 32 bytes | qs: 64 bytes | scales: 12 bytes (16 × 6 bits) | d: f16 |
/// ```
/// Element `32k + l` takes its third bit from bit k of hmask[l]; a clear bit subtracts 4.
/// Scale i has its low 4 bits in the low (i < 8) or high (i ≥ 8) nibble of scales[i mod 8], and its high 2
/// bits at bit `2·(i / 4)` of scales[8 + i mod 4].
///
/// - Parameters:
///   - source: the first block; any alignment; `110 × blockCount` bytes readable.
///   - output: room for `256 × blockCount` floats.
package func dequantizeQ3_K(_ source: UnsafeRawPointer, blockCount: Int, into output: UnsafeMutablePointer<Float>) {
    for b in 0..<blockCount {
        // Safe because block b lies within the 110 × blockCount bytes the caller guarantees, and every offset
        // below is inside the 110-byte block; y[0..<256] is inside 256 × blockCount floats.
        let block = source + b &* 110
        let y = output + b &* 256
        let d = loadHalf(block, 108)
        for half in 0..<2 {
            for j in 0..<4 {
                let group = half &* 4 &+ j  // which hmask bit
                for sub in 0..<2 {
                    let i = half &* 8 &+ j &* 2 &+ sub  // which scale
                    let lowByte = block.load(fromByteOffset: 96 &+ (i & 7), as: UInt8.self)
                    let low = i < 8 ? lowByte & 0x0F : lowByte >> 4
                    let highByte = block.load(fromByteOffset: 104 &+ (i & 3), as: UInt8.self)
                    let high = (highByte >> UInt8((i >> 2) &* 2)) & 3
                    let dl = d * Float(Int32(low | high << 4) &- 32)
                    let out = y + (half &* 128 &+ j &* 32 &+ sub &* 16)
                    for l in 0..<16 {
                        let lane = sub &* 16 &+ l
                        let packed = block.load(fromByteOffset: 32 &+ half &* 32 &+ lane, as: UInt8.self)
                        let low2 = (packed >> UInt8(j &* 2)) & 3
                        let mask = (block.load(fromByteOffset: lane, as: UInt8.self) >> UInt8(group)) & 1
                        out[l] = dl * Float(Int32(low2) &- Int32((mask ^ 1) << 2))
                    }
                }
            }
        }
    }
}

/// Reads the 6-bit scale and min of sub-block `j` (0..<8) from the 12 packed bytes at `scales`, as q4_K and
/// q5_K store them:
/// ```
/// bytes 0-3:  j<4 scale (low 6 bits) | j≥4 scale high 2 bits (top 2 bits)
/// bytes 4-7:  j<4 min   (low 6 bits) | j≥4 min   high 2 bits (top 2 bits)
/// bytes 8-11: j≥4 scale low 4 bits (low nibble), j≥4 min low 4 bits (high nibble)
/// ```
@inline(__always)
func scaleAndMin(_ scales: UnsafeRawPointer, _ j: Int) -> (scale: UInt8, min: UInt8) {
    // Safe because j < 8, so every offset is below 12.
    if j < 4 {
        let scale = scales.load(fromByteOffset: j, as: UInt8.self) & 63
        let min = scales.load(fromByteOffset: j &+ 4, as: UInt8.self) & 63
        return (scale, min)
    }
    let packed = scales.load(fromByteOffset: j &+ 4, as: UInt8.self)
    let scaleHigh = scales.load(fromByteOffset: j &- 4, as: UInt8.self) >> 6
    let minHigh = scales.load(fromByteOffset: j, as: UInt8.self) >> 6
    return ((packed & 0x0F) | scaleHigh << 4, (packed >> 4) | minHigh << 4)
}

/// Dequantizes `blockCount` q4_K blocks: `x = (d · scale) · q − (dmin · min)`, 8 sub-blocks of 32.
///
/// ```
/// q4_K (144 bytes): | d: f16 | dmin: f16 | scales: 12 bytes (8 × 6-bit scale, 8 × 6-bit min) | qs: 128 bytes |
/// ```
/// Sub-blocks 2c and 2c + 1 are the low and high nibbles of qs[32c ..< 32c + 32].
///
/// - Parameters:
///   - source: the first block; any alignment; `144 × blockCount` bytes readable.
///   - output: room for `256 × blockCount` floats.
package func dequantizeQ4_K(_ source: UnsafeRawPointer, blockCount: Int, into output: UnsafeMutablePointer<Float>) {
    for b in 0..<blockCount {
        // Safe because block b lies within the 144 × blockCount bytes the caller guarantees, and every offset
        // below is inside the 144-byte block; y[0..<256] is inside 256 × blockCount floats.
        let block = source + b &* 144
        let y = output + b &* 256
        let d = loadHalf(block, 0)
        let dmin = loadHalf(block, 2)
        for chunk in 0..<4 {
            let (scaleLow, minLow) = scaleAndMin(block + 4, chunk &* 2)
            let (scaleHigh, minHigh) = scaleAndMin(block + 4, chunk &* 2 &+ 1)
            let d1 = d * Float(scaleLow), m1 = dmin * Float(minLow)
            let d2 = d * Float(scaleHigh), m2 = dmin * Float(minHigh)
            let out = y + chunk &* 64
            for l in 0..<32 {
                let byte = block.load(fromByteOffset: 16 &+ chunk &* 32 &+ l, as: UInt8.self)
                out[l] = d1 * Float(byte & 0x0F) - m1
                out[l &+ 32] = d2 * Float(byte >> 4) - m2
            }
        }
    }
}

/// Dequantizes `blockCount` q5_K blocks: `x = (d · scale) · q − (dmin · min)`, 8 sub-blocks of 32.
///
/// ```
/// q5_K (176 bytes): | d: f16 | dmin: f16 | scales: 12 bytes | qh: 32 bytes | qs: 128 bytes |
/// ```
/// Nibbles as q4_K; element `32k + l` takes its fifth bit from bit k of qh[l].
///
/// - Parameters:
///   - source: the first block; any alignment; `176 × blockCount` bytes readable.
///   - output: room for `256 × blockCount` floats.
package func dequantizeQ5_K(_ source: UnsafeRawPointer, blockCount: Int, into output: UnsafeMutablePointer<Float>) {
    for b in 0..<blockCount {
        // Safe because block b lies within the 176 × blockCount bytes the caller guarantees, and every offset
        // below is inside the 176-byte block; y[0..<256] is inside 256 × blockCount floats.
        let block = source + b &* 176
        let y = output + b &* 256
        let d = loadHalf(block, 0)
        let dmin = loadHalf(block, 2)
        for chunk in 0..<4 {
            let (scaleLow, minLow) = scaleAndMin(block + 4, chunk &* 2)
            let (scaleHigh, minHigh) = scaleAndMin(block + 4, chunk &* 2 &+ 1)
            let d1 = d * Float(scaleLow), m1 = dmin * Float(minLow)
            let d2 = d * Float(scaleHigh), m2 = dmin * Float(minHigh)
            let out = y + chunk &* 64
            let lowBit = UInt8(chunk &* 2), highBit = UInt8(chunk &* 2 &+ 1)
            for l in 0..<32 {
                let byte = block.load(fromByteOffset: 48 &+ chunk &* 32 &+ l, as: UInt8.self)
                let qh = block.load(fromByteOffset: 16 &+ l, as: UInt8.self)
                let low = (byte & 0x0F) | ((qh >> lowBit) & 1) << 4
                let high = (byte >> 4) | ((qh >> highBit) & 1) << 4
                out[l] = d1 * Float(low) - m1
                out[l &+ 32] = d2 * Float(high) - m2
            }
        }
    }
}

/// Dequantizes `blockCount` q6_K blocks: `x = (d · scale) · (q − 32)`, 16 sub-blocks of 16.
///
/// ```
/// q6_K (210 bytes): | ql: 128 bytes | qh: 64 bytes | scales: 16 × int8 | d: f16 |
/// ```
/// In half h, element `32j + l` takes its low 4 bits from the low (j < 2) or high (j ≥ 2) nibble of
/// ql[64h + 32·(j mod 2) + l] and its high 2 bits from bits `2j ..< 2j+2` of qh[32h + l].
///
/// - Parameters:
///   - source: the first block; any alignment; `210 × blockCount` bytes readable.
///   - output: room for `256 × blockCount` floats.
package func dequantizeQ6_K(_ source: UnsafeRawPointer, blockCount: Int, into output: UnsafeMutablePointer<Float>) {
    for b in 0..<blockCount {
        // Safe because block b lies within the 210 × blockCount bytes the caller guarantees, and every offset
        // below is inside the 210-byte block; y[0..<256] is inside 256 × blockCount floats.
        let block = source + b &* 210
        let y = output + b &* 256
        let d = loadHalf(block, 208)
        for half in 0..<2 {
            for j in 0..<4 {
                let nibbleShift = UInt8(j >> 1 &* 4)
                let ql = half &* 64 &+ (j & 1) &* 32
                let qh = 128 &+ half &* 32
                for sub in 0..<2 {
                    let scale = block.load(fromByteOffset: 192 &+ half &* 8 &+ j &* 2 &+ sub, as: Int8.self)
                    let dl = d * Float(scale)
                    let out = y + (half &* 128 &+ j &* 32 &+ sub &* 16)
                    for l in 0..<16 {
                        let lane = sub &* 16 &+ l
                        let low = (block.load(fromByteOffset: ql &+ lane, as: UInt8.self) >> nibbleShift) & 0x0F
                        let high = (block.load(fromByteOffset: qh &+ lane, as: UInt8.self) >> UInt8(j &* 2)) & 3
                        out[l] = dl * Float(Int32(low | high << 4) &- 32)
                    }
                }
            }
        }
    }
}
