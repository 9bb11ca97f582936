// Two weight rows · one row of activations at once, for the most common formats: the activations' loads are
// shared by both rows and the two accumulation chains overlap. Each row's arithmetic is exactly the one-row
// kernel's (`dotQ4_1`, `dotQ8_0`), so results are identical; this is only a faster schedule.

/// Whether `format` has a two-row kernel.
func hasPairKernel(_ format: WeightFormat) -> Bool {
    #if arch(x86_64) && !PORTABLE_KERNELS
    // The AVX2 one-row kernels beat every two-row schedule tried there (Decision 4).
    return false
    #else
    switch format {
    case .q4_1, .q8_0: return true
    default: return false
    }
    #endif
}

/// An element loop (vcvtdq2ps), because `SIMD8<Float>(_: SIMD8<Int32>)` is not always inlined.
@inline(__always)
func toFloat(_ v: SIMD8<Int32>) -> SIMD8<Float> {
    var r = SIMD8<Float>()
    for i in 0..<8 { r[i] = Float(v[i]) }
    return r
}

/// Rows `w0` and `w1` · activations `x`, dispatched once per call (not per block).
func dotPair(_ format: WeightFormat, _ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ x: Q8RowView, blocks: Int) -> (Float, Float) {
    switch format {
    case .q4_1: return dotPairQ4_1(w0, w1, x, blocks: blocks)
    default: return dotPairQ8_0(w0, w1, x, blocks: blocks)
    }
}

// The weights are folded on the fly (see `fold`) against the activations' folded lanes, so each row's lane sums
// take vertical adds only; the lane sums, scale products and float accumulation are the one-row kernel's.

func dotPairQ4_1(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ x: Q8RowView, blocks: Int) -> (Float, Float) {
    var acc0 = SIMD8<Float>()
    var acc1 = SIMD8<Float>()
    var minimums0: Float = 0
    var minimums1: Float = 0
    for b in 0..<blocks {
        let block0 = w0 + b &* 20
        let block1 = w1 + b &* 20
        let (a0, c0) = foldNibbles((block0 + 4).loadUnaligned(as: SIMD16<UInt8>.self))
        let (a1, c1) = foldNibbles((block1 + 4).loadUnaligned(as: SIMD16<UInt8>.self))
        let lanes0 = foldedLaneSums(a0, c0, x, block: b, wide: false)
        let lanes1 = foldedLaneSums(a1, c1, x, block: b, wide: false)
        minimums0 += scale(block0, 2) * x.blockSums[b]
        minimums1 += scale(block1, 2) * x.blockSums[b]
        acc0.addProduct(SIMD8<Float>(repeating: scale(block0, 0) * x.scales[b]), lanes0)
        acc1.addProduct(SIMD8<Float>(repeating: scale(block1, 0) * x.scales[b]), lanes1)
    }
    return (reduceLanes(acc0) + minimums0, reduceLanes(acc1) + minimums1)
}

func dotPairQ8_0(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ x: Q8RowView, blocks: Int) -> (Float, Float) {
    var acc0 = SIMD8<Float>()
    var acc1 = SIMD8<Float>()
    for b in 0..<blocks {
        let block0 = w0 + b &* 34
        let block1 = w1 + b &* 34
        let (a0, c0) = foldBytes(block0 + 2)
        let (a1, c1) = foldBytes(block1 + 2)
        let lanes0 = foldedLaneSums(a0, c0, x, block: b, wide: true)
        let lanes1 = foldedLaneSums(a1, c1, x, block: b, wide: true)
        acc0.addProduct(SIMD8<Float>(repeating: scale(block0, 0) * x.scales[b]), lanes0)
        acc1.addProduct(SIMD8<Float>(repeating: scale(block1, 0) * x.scales[b]), lanes1)
    }
    return (reduceLanes(acc0), reduceLanes(acc1))
}
