// Dot products of one K-quant weight row (256-element super-blocks) with one row of Q8 activations.
// The same rule as the 32-element kernels holds: exact integer sums per 16 or 32 elements, then float terms in
// a fixed order.
//
// Super-block layouts (bytes), from ggml:
//   Q2_K  scales[16] (lo4 scale, hi4 min) | qs[64] | d:f16 | dmin:f16                          84 bytes
//   Q3_K  hmask[32] | qs[64] | scales[12] (6-bit, -32) | d:f16                                 110 bytes
//   Q4_K  d:f16 | dmin:f16 | scales[12] (8 × 6-bit scale and min) | qs[128]                    144 bytes
//   Q5_K  d:f16 | dmin:f16 | scales[12] | qh[32] | qs[128]                                      176 bytes
//   Q6_K  ql[128] | qh[64] | scales:i8[16] | d:f16                                             210 bytes

/// The float terms of Q4_K/Q5_K sub-blocks `subBlock` and `subBlock + 1` (activation blocks `activationBlock`
/// and the next), added to `total` one after the other.
@inline(__always)
func addScaleMinTerms(
    _ total: inout Float, d: Float, dmin: Float, scales: UnsafePointer<UInt8>, subBlock j: Int, activationBlock ab: Int,
    dot0: Int32, dot1: Int32, _ x: Q8RowView
) {
    let (scale0, min0) = scaleAndMin(scales, j)
    let (scale1, min1) = scaleAndMin(scales, j &+ 1)
    let sc0 = Int32(scale0), m0 = Int32(min0), sc1 = Int32(scale1), m1 = Int32(min1)
    let s0 = Int32(x.sums[2 &* ab]) &+ Int32(x.sums[2 &* ab &+ 1])
    let s1 = Int32(x.sums[2 &* ab &+ 2]) &+ Int32(x.sums[2 &* ab &+ 3])
    let da0 = x.scales[ab]
    let da1 = x.scales[ab &+ 1]
    total += d * da0 * Float(sc0 &* dot0) - dmin * da0 * Float(m0 &* s0)
    total += d * da1 * Float(sc1 &* dot1) - dmin * da1 * Float(m1 &* s1)
}

/// Q4_K row · Q8 activations over `superBlocks` 256-element super-blocks.
func dotQ4_K(_ w: UnsafeRawPointer, _ x: Q8RowView, superBlocks: Int) -> Float {
    var total: Float = 0
    for sb in 0..<superBlocks {
        let block = w + sb &* 144
        let d = scale(block, 0)
        let dmin = scale(block, 2)
        let scales = block.advanced(by: 4).assumingMemoryBound(to: UInt8.self)
        let qs = block.advanced(by: 16).assumingMemoryBound(to: UInt8.self)
        for pair in 0..<4 {
            let q = qs + pair &* 32
            let ab = sb &* 8 &+ pair &* 2
            let a0 = x.quants + ab &* 32
            let a1 = a0 + 32
            var dot0: Int32 = 0
            var dot1: Int32 = 0
            for i in 0..<32 {
                dot0 &+= Int32(q[i] & 0x0F) &* Int32(a0[i])
                dot1 &+= Int32(q[i] &>> 4) &* Int32(a1[i])
            }
            addScaleMinTerms(
                &total, d: d, dmin: dmin, scales: scales, subBlock: pair &* 2, activationBlock: ab, dot0: dot0, dot1: dot1,
                x)
        }
    }
    return total
}

/// Q5_K row · Q8 activations.
func dotQ5_K(_ w: UnsafeRawPointer, _ x: Q8RowView, superBlocks: Int) -> Float {
    var total: Float = 0
    for sb in 0..<superBlocks {
        let block = w + sb &* 176
        let d = scale(block, 0)
        let dmin = scale(block, 2)
        let scales = block.advanced(by: 4).assumingMemoryBound(to: UInt8.self)
        let qh = block.advanced(by: 16).assumingMemoryBound(to: UInt8.self)
        let qs = block.advanced(by: 48).assumingMemoryBound(to: UInt8.self)
        for pair in 0..<4 {
            let q = qs + pair &* 32
            let j0 = pair &* 2
            let ab = sb &* 8 &+ j0
            let a0 = x.quants + ab &* 32
            let a1 = a0 + 32
            var dot0: Int32 = 0
            var dot1: Int32 = 0
            for i in 0..<32 {
                let high = qh[i]
                let v0 = Int32(q[i] & 0x0F) | Int32((high &>> UInt8(j0)) & 1) &<< 4
                let v1 = Int32(q[i] &>> 4) | Int32((high &>> UInt8(j0 &+ 1)) & 1) &<< 4
                dot0 &+= v0 &* Int32(a0[i])
                dot1 &+= v1 &* Int32(a1[i])
            }
            addScaleMinTerms(
                &total, d: d, dmin: dmin, scales: scales, subBlock: j0, activationBlock: ab, dot0: dot0, dot1: dot1,
                x)
        }
    }
    return total
}

/// Q6_K row · Q8 activations.
func dotQ6_K(_ w: UnsafeRawPointer, _ x: Q8RowView, superBlocks: Int) -> Float {
    var total: Float = 0
    for sb in 0..<superBlocks {
        let block = w + sb &* 210
        let ql = block.assumingMemoryBound(to: UInt8.self)
        let qh = block.advanced(by: 128).assumingMemoryBound(to: UInt8.self)
        let scales = block.advanced(by: 192).assumingMemoryBound(to: Int8.self)
        let d = scale(block, 208)
        for half in 0..<2 {
            for group in 0..<4 {
                // Group g of a half takes the low (g < 2) or high nibbles of ql bytes (g % 2) * 32 ..< +32 and
                // bits 2g, 2g+1 of qh.
                let lowOffset: Int = half &* 64 &+ (group & 1) &* 32
                let low = ql + lowOffset
                let shift = UInt8(group &>> 1) &* 4
                let highOffset: Int = half &* 32
                let highBits = qh + highOffset
                let highShift = UInt8(group) &* 2
                let ab = sb &* 8 &+ half &* 4 &+ group
                let a = x.quants + ab &* 32
                var dot0: Int32 = 0
                var dot1: Int32 = 0
                for i in 0..<16 {
                    let v = Int32((low[i] &>> shift) & 0x0F) | Int32((highBits[i] &>> highShift) & 3) &<< 4
                    dot0 &+= v &* Int32(a[i])
                }
                for i in 16..<32 {
                    let v = Int32((low[i] &>> shift) & 0x0F) | Int32((highBits[i] &>> highShift) & 3) &<< 4
                    dot1 &+= v &* Int32(a[i])
                }
                let scaleIndex = half &* 8 &+ group &* 2
                let s0 = Int32(x.sums[2 &* ab])
                let s1 = Int32(x.sums[2 &* ab &+ 1])
                let combined = Int32(scales[scaleIndex]) &* (dot0 &- 32 &* s0)
                    &+ Int32(scales[scaleIndex &+ 1]) &* (dot1 &- 32 &* s1)
                total += d * x.scales[ab] * Float(combined)
            }
        }
    }
    return total
}

/// Q2_K row · Q8 activations.
func dotQ2_K(_ w: UnsafeRawPointer, _ x: Q8RowView, superBlocks: Int) -> Float {
    var total: Float = 0
    for sb in 0..<superBlocks {
        let block = w + sb &* 84
        let scales = block.assumingMemoryBound(to: UInt8.self)
        let qs = block.advanced(by: 16).assumingMemoryBound(to: UInt8.self)
        let d = scale(block, 80)
        let dmin = scale(block, 82)
        for half in 0..<2 {
            for group in 0..<4 {
                let q = qs + half &* 32
                let shift = UInt8(group) &* 2
                let ab = sb &* 8 &+ half &* 4 &+ group
                let a = x.quants + ab &* 32
                var dot0: Int32 = 0
                var dot1: Int32 = 0
                for i in 0..<16 { dot0 &+= Int32((q[i] &>> shift) & 3) &* Int32(a[i]) }
                for i in 16..<32 { dot1 &+= Int32((q[i] &>> shift) & 3) &* Int32(a[i]) }
                let si = half &* 8 &+ group &* 2
                let sc0 = scales[si]
                let sc1 = scales[si &+ 1]
                let scaled = Int32(sc0 & 0x0F) &* dot0 &+ Int32(sc1 & 0x0F) &* dot1
                let mins = Int32(sc0 &>> 4) &* Int32(x.sums[2 &* ab]) &+ Int32(sc1 &>> 4) &* Int32(x.sums[2 &* ab &+ 1])
                let da = x.scales[ab]
                total += d * da * Float(scaled) - dmin * da * Float(mins)
            }
        }
    }
    return total
}

/// The signed 6-bit scale `k` (0–15) of a Q3_K super-block.
@inline(__always)
func q3Scale(_ s: UnsafePointer<UInt8>, _ k: Int) -> Int32 {
    let low = k < 8 ? s[k] & 0x0F : s[k &- 8] &>> 4
    let high = (s[8 &+ (k & 3)] &>> UInt8((k &>> 2) &* 2)) & 3
    return Int32(low | high &<< 4) &- 32
}

/// Q3_K row · Q8 activations.
func dotQ3_K(_ w: UnsafeRawPointer, _ x: Q8RowView, superBlocks: Int) -> Float {
    var total: Float = 0
    for sb in 0..<superBlocks {
        let block = w + sb &* 110
        let hmask = block.assumingMemoryBound(to: UInt8.self)
        let qs = block.advanced(by: 32).assumingMemoryBound(to: UInt8.self)
        let scales = block.advanced(by: 96).assumingMemoryBound(to: UInt8.self)
        let d = scale(block, 108)
        for half in 0..<2 {
            for group in 0..<4 {
                let q = qs + half &* 32
                let shift = UInt8(group) &* 2
                let bit = UInt8(half &* 4 &+ group)
                let ab = sb &* 8 &+ half &* 4 &+ group
                let a = x.quants + ab &* 32
                var dot0: Int32 = 0
                var dot1: Int32 = 0
                for i in 0..<16 {
                    let v = Int32((q[i] &>> shift) & 3) &- (((hmask[i] &>> bit) & 1) == 0 ? 4 : 0)
                    dot0 &+= v &* Int32(a[i])
                }
                for i in 16..<32 {
                    let v = Int32((q[i] &>> shift) & 3) &- (((hmask[i] &>> bit) & 1) == 0 ? 4 : 0)
                    dot1 &+= v &* Int32(a[i])
                }
                let si = half &* 8 &+ group &* 2
                let combined = q3Scale(scales, si) &* dot0 &+ q3Scale(scales, si &+ 1) &* dot1
                total += d * x.scales[ab] * Float(combined)
            }
        }
    }
    return total
}
