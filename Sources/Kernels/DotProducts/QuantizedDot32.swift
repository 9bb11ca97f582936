#if arch(x86_64) && !PORTABLE_KERNELS
import _Builtin_intrinsics.intel
#endif
// Dot products of one quantized weight row with one row of Q8 activations, for the 32-element block formats.
//
// Each block's products are summed exactly as integers in eight lanes of four consecutive elements (lanes 0–3
// cover elements 0–15, lanes 4–7 elements 16–31), converted to float and accumulated per lane with a fused
// multiply-add by the block's scale product; the lanes are reduced at the end in a fixed tree. That is the
// order ggml's x86 kernels use, so results match llama.cpp's bit for bit, and it does not depend on what else
// is in the batch. Q4_0 is the exception: see `dotQ4_0`.
//
// Block layouts (bytes), from ggml:
//   Q4_0  d:f16 | qs[16]                 x = d * (nibble - 8)       nibble i<16: qs[i]&15, i>=16: qs[i-16]>>4
//   Q4_1  d:f16 m:f16 | qs[16]           x = d * nibble + m
//   Q5_0  d:f16 | qh:u32 | qs[16]        x = d * ((nibble | bit_i(qh)<<4) - 16)
//   Q5_1  d:f16 m:f16 | qh:u32 | qs[16]  x = d * (nibble | bit_i(qh)<<4) + m
//   Q8_0  d:f16 | qs:i8[32]              x = d * q

// The widening helpers are element loops on purpose: LLVM turns them into one vpmovzxbw/vpmovsxbw, while the
// standard library's generic `SIMD16<Int16>(truncatingIfNeeded:)` is an out-of-line call.
@inline(__always)
func widen(_ v: SIMD16<UInt8>) -> SIMD16<Int16> {
    var r = SIMD16<Int16>()
    for i in 0..<16 { r[i] = Int16(v[i]) }
    return r
}

@inline(__always)
func widen(_ v: SIMD16<Int8>) -> SIMD16<Int16> {
    var r = SIMD16<Int16>()
    for i in 0..<16 { r[i] = Int16(v[i]) }
    return r
}

@inline(__always)
func widen(_ v: SIMD8<Int16>) -> SIMD8<Int32> {
    var r = SIMD8<Int32>()
    for i in 0..<8 { r[i] = Int32(v[i]) }
    return r
}

/// The hardware binary16 → float conversion (vcvtph2ps), for block scales in the hot loops.
@inline(__always)
func scale(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    let bits = p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
    #if arch(x86_64) && !PORTABLE_KERNELS
    // Through a zero-extending vmovd: the compiler's own sequence inserts the bits into a live register
    // (vpinsrw), often the accumulator, and the false dependency chained every block behind the previous one.
    return _mm_cvtph_ps(_mm_cvtsi32_si128(Int32(bits)))[0]
    #else
    return Float(Float16(bitPattern: bits))
    #endif
}

/// The eight lane sums of a block as floats: lane k < 4 sums the products of elements 4k…4k+3 of the low half
/// (weights `low` with activations 0–15), lane 4 + k the same of the high half. Products and the sums of four
/// stay within Int16 for weights up to 31 in magnitude.
@inline(__always)
func blockLanes(low: SIMD16<Int16>, high: SIMD16<Int16>, _ a: UnsafePointer<Int8>) -> SIMD8<Float> {
    let raw = UnsafeRawPointer(a)
    let p0 = low &* widen(raw.loadUnaligned(as: SIMD16<Int8>.self))
    let p1 = high &* widen(raw.loadUnaligned(fromByteOffset: 16, as: SIMD16<Int8>.self))
    let pair0 = p0.evenHalf &+ p0.oddHalf
    let pair1 = p1.evenHalf &+ p1.oddHalf
    let quads = SIMD8<Int16>(lowHalf: pair0.evenHalf &+ pair0.oddHalf, highHalf: pair1.evenHalf &+ pair1.oddHalf)
    return SIMD8<Float>(widen(quads))
}

/// As `blockLanes` for 8-bit weights, whose sums of four need 32 bits (pairs still fit in Int16).
@inline(__always)
func blockLanesWide(low: SIMD16<Int16>, high: SIMD16<Int16>, _ a: UnsafePointer<Int8>) -> SIMD8<Float> {
    let raw = UnsafeRawPointer(a)
    let p0 = low &* widen(raw.loadUnaligned(as: SIMD16<Int8>.self))
    let p1 = high &* widen(raw.loadUnaligned(fromByteOffset: 16, as: SIMD16<Int8>.self))
    let pairs0 = widen(p0.evenHalf &+ p0.oddHalf)
    let pairs1 = widen(p1.evenHalf &+ p1.oddHalf)
    let quads = SIMD8<Int32>(lowHalf: pairs0.evenHalf &+ pairs0.oddHalf, highHalf: pairs1.evenHalf &+ pairs1.oddHalf)
    return SIMD8<Float>(quads)
}

/// Reduces eight lanes as ggml's `hsum_float_8` does: ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)).
@inline(__always)
func reduceLanes(_ v: SIMD8<Float>) -> Float {
    let quad = v.highHalf + v.lowHalf
    let pair = quad.lowHalf + quad.highHalf
    return pair[0] + pair[1]
}

@inline(__always)
func nibbles(_ qs: UnsafeRawPointer) -> (low: SIMD16<Int16>, high: SIMD16<Int16>) {
    let bytes = qs.loadUnaligned(as: SIMD16<UInt8>.self)
    return (widen(bytes & 0x0F), widen(bytes &>> 4))
}

/// The fifth bits of a Q5 block: bit i of `qh` becomes 16 for element i.
@inline(__always)
func fifthBits(_ qh: UInt32) -> (low: SIMD16<Int16>, high: SIMD16<Int16>) {
    var low = SIMD16<Int16>()
    var high = SIMD16<Int16>()
    for i in 0..<16 {
        low[i] = Int16(truncatingIfNeeded: (qh &>> UInt32(i)) & 1) &<< 4
        high[i] = Int16(truncatingIfNeeded: (qh &>> UInt32(i &+ 16)) & 1) &<< 4
    }
    return (low, high)
}

/// Q4_0 row · Q8 activations over `blocks` blocks, in Q4_0's own order: each block's whole integer sum, then one
/// fused multiply-add per block by the scale product, block after block. That is how llama.cpp sums Q4_0 on
/// AVX2 (it repacks Q4_0 rows in groups of eight there), and how the interleaved kernels do (Decision 5).
func dotQ4_0(_ w: UnsafeRawPointer, _ x: Q8RowView, blocks: Int) -> Float {
    var acc: Float = 0
    let eight = SIMD16<Int16>(repeating: 8)
    for b in 0..<blocks {
        let block = w + b &* 18
        let (low, high) = nibbles(block + 2)
        // Lanes hold integers below 2^15 in magnitude and so does their total: the float sum is exact.
        let total = blockLanes(low: low &- eight, high: high &- eight, x.quants + b &* 32).sum()
        acc.addProduct(total, scale(block, 0) * x.scales[b])
    }
    return acc
}

/// Q4_1 row · Q8 activations.
func dotQ4_1(_ w: UnsafeRawPointer, _ x: Q8RowView, blocks: Int) -> Float {
    var acc = SIMD8<Float>()
    var minimums: Float = 0
    for b in 0..<blocks {
        let block = w + b &* 20
        minimums += scale(block, 2) * x.blockSums[b]
        let (low, high) = nibbles(block + 4)
        let lanes = blockLanes(low: low, high: high, x.quants + b &* 32)
        acc.addProduct(SIMD8<Float>(repeating: scale(block, 0) * x.scales[b]), lanes)
    }
    return reduceLanes(acc) + minimums
}

/// Q5_0 row · Q8 activations.
func dotQ5_0(_ w: UnsafeRawPointer, _ x: Q8RowView, blocks: Int) -> Float {
    var acc = SIMD8<Float>()
    let sixteen = SIMD16<Int16>(repeating: 16)
    for b in 0..<blocks {
        let block = w + b &* 22
        let (bitsLow, bitsHigh) = fifthBits(block.loadUnaligned(fromByteOffset: 2, as: UInt32.self).littleEndian)
        let (low, high) = nibbles(block + 6)
        let lanes = blockLanes(
            low: (low | bitsLow) &- sixteen, high: (high | bitsHigh) &- sixteen, x.quants + b &* 32)
        acc.addProduct(SIMD8<Float>(repeating: scale(block, 0) * x.scales[b]), lanes)
    }
    return reduceLanes(acc)
}

/// Q5_1 row · Q8 activations.
func dotQ5_1(_ w: UnsafeRawPointer, _ x: Q8RowView, blocks: Int) -> Float {
    var acc = SIMD8<Float>()
    var minimums: Float = 0
    for b in 0..<blocks {
        let block = w + b &* 24
        minimums += scale(block, 2) * x.blockSums[b]
        let (bitsLow, bitsHigh) = fifthBits(block.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian)
        let (low, high) = nibbles(block + 8)
        let lanes = blockLanes(low: low | bitsLow, high: high | bitsHigh, x.quants + b &* 32)
        acc.addProduct(SIMD8<Float>(repeating: scale(block, 0) * x.scales[b]), lanes)
    }
    return reduceLanes(acc) + minimums
}

/// Q8_0 row · Q8 activations.
func dotQ8_0(_ w: UnsafeRawPointer, _ x: Q8RowView, blocks: Int) -> Float {
    var acc = SIMD8<Float>()
    for b in 0..<blocks {
        let block = w + b &* 34
        let low = widen((block + 2).loadUnaligned(as: SIMD16<Int8>.self))
        let high = widen((block + 18).loadUnaligned(as: SIMD16<Int8>.self))
        let lanes = blockLanesWide(low: low, high: high, x.quants + b &* 32)
        acc.addProduct(SIMD8<Float>(repeating: scale(block, 0) * x.scales[b]), lanes)
    }
    return reduceLanes(acc)
}

/// One row of Q8 activations, as the dot kernels read it.
struct Q8RowView {
    let quants: UnsafePointer<Int8>
    let scales: UnsafePointer<Float>
    let blockSums: UnsafePointer<Float>
    let sums: UnsafePointer<Int16>
    /// The quants widened and in the folded order (see `fold`).
    let lanes: UnsafeRawPointer
    /// 8 · Σq per block.
    let offsets: UnsafePointer<Int32>

    init(_ activations: Q8Activations, row: Int) {
        lanes = UnsafeRawPointer(activations.lanes + row &* activations.rowLength)
        offsets = UnsafePointer(activations.offsets + row &* activations.blocksPerRow)
        quants = UnsafePointer(activations.quants + row &* activations.rowLength)
        scales = UnsafePointer(activations.scales + row &* activations.blocksPerRow)
        blockSums = UnsafePointer(activations.blockSums + row &* activations.blocksPerRow)
        sums = UnsafePointer(activations.sums + row &* activations.blocksPerRow &* 2)
    }
}
