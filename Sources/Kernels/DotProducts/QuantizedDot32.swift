// Dot products of one quantized weight row with one row of Q8 activations, for the 32-element block formats.
//
// Each block's products are summed exactly as integers in eight lanes of four consecutive elements (lanes 0–3
// cover elements 0–15, lanes 4–7 elements 16–31), converted to float and accumulated per lane with a fused
// multiply-add by the block's scale product; the lanes are reduced at the end in a fixed tree. That is the
// order ggml's x86 kernels use, so results match llama.cpp's bit for bit, and it does not depend on what else
// is in the batch.
//
// Block layouts (bytes), from ggml:
//   Q4_0  d:f16 | qs[16]                 x = d * (nibble - 8)       nibble i<16: qs[i]&15, i>=16: qs[i-16]>>4
//   Q4_1  d:f16 m:f16 | qs[16]           x = d * nibble + m
//   Q5_0  d:f16 | qh:u32 | qs[16]        x = d * ((nibble | bit_i(qh)<<4) - 16)
//   Q5_1  d:f16 m:f16 | qh:u32 | qs[16]  x = d * (nibble | bit_i(qh)<<4) + m
//   Q8_0  d:f16 | qs:i8[32]              x = d * q

/// Sums each group of four consecutive products of two 16-element vectors: lanes of four.
@inline(__always)
func quadSums(_ w: SIMD16<Int16>, _ a: SIMD16<Int16>) -> SIMD4<Int32> {
    let products = w &* a  // |w| <= 255, |a| <= 127: fits Int16 exactly
    let pairs = SIMD8<Int32>(truncatingIfNeeded: products.evenHalf) &+ SIMD8<Int32>(truncatingIfNeeded: products.oddHalf)
    return pairs.evenHalf &+ pairs.oddHalf
}

/// The eight lane sums of a block: 16 low-half weights with activations 0–15, 16 high-half with 16–31.
@inline(__always)
func blockLanes(low: SIMD16<Int16>, high: SIMD16<Int16>, _ a: UnsafePointer<Int8>) -> SIMD8<Float> {
    let raw = UnsafeRawPointer(a)
    let a0 = SIMD16<Int16>(truncatingIfNeeded: raw.loadUnaligned(as: SIMD16<Int8>.self))
    let a1 = SIMD16<Int16>(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: 16, as: SIMD16<Int8>.self))
    let lanes = SIMD8<Int32>(lowHalf: quadSums(low, a0), highHalf: quadSums(high, a1))
    return SIMD8<Float>(lanes)
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
    return (SIMD16<Int16>(truncatingIfNeeded: bytes & 0x0F), SIMD16<Int16>(truncatingIfNeeded: bytes &>> 4))
}

/// The fifth bits of a Q5 block: bit i of `qh` becomes 16 for element i.
@inline(__always)
func fifthBits(_ qh: UInt32) -> (low: SIMD16<Int16>, high: SIMD16<Int16>) {
    let shifts = SIMD16<UInt32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    let low = (SIMD16<UInt32>(repeating: qh) &>> shifts) & 1
    let high = (SIMD16<UInt32>(repeating: qh &>> 16) &>> shifts) & 1
    return (SIMD16<Int16>(truncatingIfNeeded: low &<< 4), SIMD16<Int16>(truncatingIfNeeded: high &<< 4))
}

/// Q4_0 row · Q8 activations over `blocks` blocks.
func dotQ4_0(_ w: UnsafeRawPointer, _ x: Q8RowView, blocks: Int) -> Float {
    var acc = SIMD8<Float>()
    let eight = SIMD16<Int16>(repeating: 8)
    for b in 0..<blocks {
        let block = w + b &* 18
        let (low, high) = nibbles(block + 2)
        let lanes = blockLanes(low: low &- eight, high: high &- eight, x.quants + b &* 32)
        acc.addProduct(SIMD8<Float>(repeating: loadHalf(block, 0) * x.scales[b]), lanes)
    }
    return reduceLanes(acc)
}

/// Q4_1 row · Q8 activations.
func dotQ4_1(_ w: UnsafeRawPointer, _ x: Q8RowView, blocks: Int) -> Float {
    var acc = SIMD8<Float>()
    var minimums: Float = 0
    for b in 0..<blocks {
        let block = w + b &* 20
        minimums += loadHalf(block, 2) * x.blockSums[b]
        let (low, high) = nibbles(block + 4)
        let lanes = blockLanes(low: low, high: high, x.quants + b &* 32)
        acc.addProduct(SIMD8<Float>(repeating: loadHalf(block, 0) * x.scales[b]), lanes)
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
        acc.addProduct(SIMD8<Float>(repeating: loadHalf(block, 0) * x.scales[b]), lanes)
    }
    return reduceLanes(acc)
}

/// Q5_1 row · Q8 activations.
func dotQ5_1(_ w: UnsafeRawPointer, _ x: Q8RowView, blocks: Int) -> Float {
    var acc = SIMD8<Float>()
    var minimums: Float = 0
    for b in 0..<blocks {
        let block = w + b &* 24
        minimums += loadHalf(block, 2) * x.blockSums[b]
        let (bitsLow, bitsHigh) = fifthBits(block.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian)
        let (low, high) = nibbles(block + 8)
        let lanes = blockLanes(low: low | bitsLow, high: high | bitsHigh, x.quants + b &* 32)
        acc.addProduct(SIMD8<Float>(repeating: loadHalf(block, 0) * x.scales[b]), lanes)
    }
    return reduceLanes(acc) + minimums
}

/// Q8_0 row · Q8 activations.
func dotQ8_0(_ w: UnsafeRawPointer, _ x: Q8RowView, blocks: Int) -> Float {
    var acc = SIMD8<Float>()
    for b in 0..<blocks {
        let block = w + b &* 34
        let low = SIMD16<Int16>(truncatingIfNeeded: (block + 2).loadUnaligned(as: SIMD16<Int8>.self))
        let high = SIMD16<Int16>(truncatingIfNeeded: (block + 18).loadUnaligned(as: SIMD16<Int8>.self))
        let lanes = blockLanes(low: low, high: high, x.quants + b &* 32)
        acc.addProduct(SIMD8<Float>(repeating: loadHalf(block, 0) * x.scales[b]), lanes)
    }
    return reduceLanes(acc)
}

/// One row of Q8 activations, as the dot kernels read it.
struct Q8RowView {
    let quants: UnsafePointer<Int8>
    let scales: UnsafePointer<Float>
    let blockSums: UnsafePointer<Float>
    let sums: UnsafePointer<Int16>

    init(_ activations: Q8Activations, row: Int) {
        quants = UnsafePointer(activations.quants + row &* activations.rowLength)
        scales = UnsafePointer(activations.scales + row &* activations.blocksPerRow)
        blockSums = UnsafePointer(activations.blockSums + row &* activations.blocksPerRow)
        sums = UnsafePointer(activations.sums + row &* activations.blocksPerRow &* 2)
    }
}
