// Two weight rows · one row of activations at once, for the most common formats: the activations are widened
// once for both rows and the two accumulation chains overlap. Each row's arithmetic is exactly the one-row
// kernel's (`dotQ4_0`, `dotQ4_1`, `dotQ8_0`), so results are identical; this is only a faster schedule.

/// Whether `format` has a two-row kernel.
func hasPairKernel(_ format: WeightFormat) -> Bool {
    switch format {
    case .q4_0, .q4_1, .q8_0: true
    default: false
    }
}

@inline(__always)
func activationHalves(_ a: UnsafePointer<Int8>) -> (SIMD16<Int16>, SIMD16<Int16>) {
    let raw = UnsafeRawPointer(a)
    return (widen(raw.loadUnaligned(as: SIMD16<Int8>.self)), widen(raw.loadUnaligned(fromByteOffset: 16, as: SIMD16<Int8>.self)))
}

/// The eight ggml lanes of one block from pre-widened activations (narrow weights: sums fit Int16).
@inline(__always)
func narrowLanes(_ low: SIMD16<Int16>, _ high: SIMD16<Int16>, _ a0: SIMD16<Int16>, _ a1: SIMD16<Int16>) -> SIMD8<Float> {
    let p0 = low &* a0
    let p1 = high &* a1
    let pair0 = p0.evenHalf &+ p0.oddHalf
    let pair1 = p1.evenHalf &+ p1.oddHalf
    return toFloat(widen(SIMD8<Int16>(lowHalf: pair0.evenHalf &+ pair0.oddHalf, highHalf: pair1.evenHalf &+ pair1.oddHalf)))
}

@inline(__always)
func wideLanes(_ low: SIMD16<Int16>, _ high: SIMD16<Int16>, _ a0: SIMD16<Int16>, _ a1: SIMD16<Int16>) -> SIMD8<Float> {
    let p0 = low &* a0
    let p1 = high &* a1
    let pairs0 = widen(p0.evenHalf &+ p0.oddHalf)
    let pairs1 = widen(p1.evenHalf &+ p1.oddHalf)
    return toFloat(SIMD8<Int32>(lowHalf: pairs0.evenHalf &+ pairs0.oddHalf, highHalf: pairs1.evenHalf &+ pairs1.oddHalf))
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
    case .q4_0: return dotPairQ4_0(w0, w1, x, blocks: blocks)
    case .q4_1: return dotPairQ4_1(w0, w1, x, blocks: blocks)
    default: return dotPairQ8_0(w0, w1, x, blocks: blocks)
    }
}

func dotPairQ4_0(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ x: Q8RowView, blocks: Int) -> (Float, Float) {
    var acc0 = SIMD8<Float>()
    var acc1 = SIMD8<Float>()
    let eight = SIMD16<Int16>(repeating: 8)
    for b in 0..<blocks {
        let (a0, a1) = activationHalves(x.quants + b &* 32)
        let block0 = w0 + b &* 18
        let block1 = w1 + b &* 18
        let (l0, h0) = nibbles(block0 + 2)
        let (l1, h1) = nibbles(block1 + 2)
        let lanes0 = narrowLanes(l0 &- eight, h0 &- eight, a0, a1)
        let lanes1 = narrowLanes(l1 &- eight, h1 &- eight, a0, a1)
        acc0.addProduct(SIMD8<Float>(repeating: scale(block0, 0) * x.scales[b]), lanes0)
        acc1.addProduct(SIMD8<Float>(repeating: scale(block1, 0) * x.scales[b]), lanes1)
    }
    return (reduceLanes(acc0), reduceLanes(acc1))
}

func dotPairQ4_1(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ x: Q8RowView, blocks: Int) -> (Float, Float) {
    var acc0 = SIMD8<Float>()
    var acc1 = SIMD8<Float>()
    var minimums0: Float = 0
    var minimums1: Float = 0
    for b in 0..<blocks {
        let (a0, a1) = activationHalves(x.quants + b &* 32)
        let block0 = w0 + b &* 20
        let block1 = w1 + b &* 20
        let (l0, h0) = nibbles(block0 + 4)
        let (l1, h1) = nibbles(block1 + 4)
        let lanes0 = narrowLanes(l0, h0, a0, a1)
        let lanes1 = narrowLanes(l1, h1, a0, a1)
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
        let (a0, a1) = activationHalves(x.quants + b &* 32)
        let block0 = w0 + b &* 34
        let block1 = w1 + b &* 34
        let lanes0 = wideLanes(
            widen((block0 + 2).loadUnaligned(as: SIMD16<Int8>.self)), widen((block0 + 18).loadUnaligned(as: SIMD16<Int8>.self)),
            a0, a1)
        let lanes1 = wideLanes(
            widen((block1 + 2).loadUnaligned(as: SIMD16<Int8>.self)), widen((block1 + 18).loadUnaligned(as: SIMD16<Int8>.self)),
            a0, a1)
        acc0.addProduct(SIMD8<Float>(repeating: scale(block0, 0) * x.scales[b]), lanes0)
        acc1.addProduct(SIMD8<Float>(repeating: scale(block1, 0) * x.scales[b]), lanes1)
    }
    return (reduceLanes(acc0), reduceLanes(acc1))
}
