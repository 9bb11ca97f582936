// The multi-token path for the 32-element block formats: each weight row is unpacked once (to Int16 in lane
// order, with its block scales) and reused for every token of the tile, and the activations come pre-widened in
// the same order (`Q8Activations.lanes`, see `fold`). The four products of a ggml lane then add with vertical
// adds instead of horizontal ones. Lane sums, scale products and the float accumulation are exactly
// those of the single-token kernels, so a token's result does not depend on which path computed it.

/// The folded order of a 32-element block given as its two natural halves (elements 0–15 and 16–31): returns
/// (A, B) with A[j] = e(4j), A[8+j] = e(4j+1), B[j] = e(4j+2), B[8+j] = e(4j+3) for ggml lane j = 0…7. A lane's
/// four products then sit at positions j and 8+j of A and B, so `(A·a + B·b)` folded once (low half + high half)
/// gives all eight lane sums with vertical adds only.
@inline(__always)
func fold(_ low: SIMD16<Int16>, _ high: SIMD16<Int16>) -> (SIMD16<Int16>, SIMD16<Int16>) {
    (SIMD16<Int16>(low[0], low[4], low[8], low[12], high[0], high[4], high[8], high[12],
                   low[1], low[5], low[9], low[13], high[1], high[5], high[9], high[13]),
     SIMD16<Int16>(low[2], low[6], low[10], low[14], high[2], high[6], high[10], high[14],
                   low[3], low[7], low[11], low[15], high[3], high[7], high[11], high[15]))
}

/// The folded order for the 4-bit formats straight from a block's 16 packed bytes (byte i holds element i in its
/// low nibble and element 16 + i in its high nibble), as Int16 nibbles.
///
/// In the folded order A holds nibble k of the 16-bit word 2j at position 4k + j and B the same of word 2j + 1
/// (a lane's four elements are the four nibbles of two bytes). So each is one 16-bit shuffle of the words, then
/// a multiply that moves nibble k to the top and one shift right by 12; shifts per element do not exist on AVX2
/// and the element-wise form compiled to byte-by-byte loads.
@inline(__always)
func foldNibbles(_ bytes: SIMD16<UInt8>) -> (SIMD16<Int16>, SIMD16<Int16>) {
    let h = unsafeBitCast(bytes, to: SIMD8<UInt16>.self)
    let even = SIMD16<UInt16>(h[0], h[2], h[4], h[6], h[0], h[2], h[4], h[6], h[0], h[2], h[4], h[6], h[0], h[2], h[4], h[6])
    let odd = SIMD16<UInt16>(h[1], h[3], h[5], h[7], h[1], h[3], h[5], h[7], h[1], h[3], h[5], h[7], h[1], h[3], h[5], h[7])
    let toTop = SIMD16<UInt16>(4096, 4096, 4096, 4096, 256, 256, 256, 256, 16, 16, 16, 16, 1, 1, 1, 1)
    return (unsafeBitCast((even &* toTop) &>> 12, to: SIMD16<Int16>.self),
            unsafeBitCast((odd &* toTop) &>> 12, to: SIMD16<Int16>.self))
}

/// The folded order for 32 signed bytes in natural order (a Q8_0 block's weights, or quantized activations),
/// widened to Int16. Each 32-bit word holds one whole lane, so byte k of word j goes to position j of A (k = 0),
/// 8 + j of A (k = 1), j of B (k = 2) and 8 + j of B (k = 3): shifts that sign-extend each byte, then narrowing.
@inline(__always)
func foldBytes(_ p: UnsafeRawPointer) -> (SIMD16<Int16>, SIMD16<Int16>) {
    let w = p.loadUnaligned(as: SIMD8<Int32>.self)
    let b0 = (w &<< 24) &>> 24
    let b1 = (w &<< 16) &>> 24
    let b2 = (w &<< 8) &>> 24
    let b3 = w &>> 24
    // An element loop: the generic `init(truncatingIfNeeded:)` is an out-of-line call.
    var a = SIMD16<Int16>()
    var b = SIMD16<Int16>()
    for i in 0..<8 {
        a[i] = Int16(truncatingIfNeeded: b0[i])
        a[8 &+ i] = Int16(truncatingIfNeeded: b1[i])
        b[i] = Int16(truncatingIfNeeded: b2[i])
        b[8 &+ i] = Int16(truncatingIfNeeded: b3[i])
    }
    return (a, b)
}

/// The eight lane sums of a folded block's products, in Int16 (narrow weights: every partial sum fits).
@inline(__always)
func foldedLanes(_ pA: SIMD16<Int16>, _ pB: SIMD16<Int16>) -> SIMD8<Int16> {
    let s = pA &+ pB
    return s.lowHalf &+ s.highHalf
}

/// One unpacked row: lane-ordered Int16 weights (32 per block) and per-block scale and minimum.
struct UnpackedRow {
    let weights: UnsafeMutableRawPointer  // blocks × 64 bytes
    let scales: UnsafeMutablePointer<Float>
    let minimums: UnsafeMutablePointer<Float>

    static func byteCount(blocks: Int) -> Int { blocks * 64 + blocks * 8 + 64 }

    init(_ memory: UnsafeMutableRawPointer, blocks: Int) {
        weights = memory
        scales = (memory + blocks * 64).bindMemory(to: Float.self, capacity: blocks)
        minimums = (memory + blocks * 64 + blocks * 4).bindMemory(to: Float.self, capacity: blocks)
    }

    @inline(__always)
    func store(_ low: SIMD16<Int16>, _ high: SIMD16<Int16>, block: Int) {
        weights.storeBytes(of: low, toByteOffset: block &* 64, as: SIMD16<Int16>.self)
        weights.storeBytes(of: high, toByteOffset: block &* 64 &+ 32, as: SIMD16<Int16>.self)
    }
}

/// Whether `format` has a tiled kernel.
/// (Not Q4_0: its block-sum order is `dotQ4_0`'s, and on x86-64 its matrices are interleaved.)
func hasTiledKernel(_ format: WeightFormat) -> Bool {
    switch format {
    case .q4_1, .q5_0, .q5_1, .q8_0: true
    default: false
    }
}

/// Unpacks row `row` of a 32-element block format into `out`.
func unpack(_ format: WeightFormat, row: UnsafeRawPointer, blocks: Int, into out: UnpackedRow) {
    for b in 0..<blocks {
        let block = row + b &* format.blockByteCount
        switch format {
        case .q4_1:
            let (a, c) = foldNibbles((block + 4).loadUnaligned(as: SIMD16<UInt8>.self))
            out.store(a, c, block: b)
            out.scales[b] = scale(block, 0)
            out.minimums[b] = scale(block, 2)
        case .q5_0, .q5_1:
            let hasMinimum = format == .q5_1
            let qh = block.loadUnaligned(fromByteOffset: hasMinimum ? 4 : 2, as: UInt32.self).littleEndian
            let (bitsLow, bitsHigh) = fifthBits(qh)
            let bytes = (block + (hasMinimum ? 8 : 6)).loadUnaligned(as: SIMD16<UInt8>.self)
            var (a, c) = fold(widen(bytes & 0x0F) | bitsLow, widen(bytes &>> 4) | bitsHigh)
            if !hasMinimum {
                a = a &- 16
                c = c &- 16
            }
            out.store(a, c, block: b)
            out.scales[b] = scale(block, 0)
            if hasMinimum { out.minimums[b] = scale(block, 2) }
        case .q8_0:
            let (a, c) = foldBytes(block + 2)
            out.store(a, c, block: b)
            out.scales[b] = scale(block, 0)
        default:
            preconditionFailure("no tiled kernel for \(format)")
        }
    }
}

/// How a format's lane sums and minimum terms are formed in the tiled kernels.
enum TiledKind {
    /// Weights of at most 5 bits: lane sums fit Int16.
    case narrow
    /// Narrow, with a per-block minimum (Q4_1, Q5_1).
    case narrowWithMinimum
    /// 8-bit weights: lane sums need Int32.
    case wide
}

/// The eight lane sums, as floats, of folded weights (A, B) with block `b` of a token's folded activations.
/// `wide`: 8-bit weights, where a product pair still fits Int16 (|2 · 128 · 127| < 2¹⁵) but a lane of four does
/// not.
@inline(__always)
func foldedLaneSums(_ wA: SIMD16<Int16>, _ wB: SIMD16<Int16>, _ x: Q8RowView, block b: Int, wide: Bool) -> SIMD8<Float> {
    let pA = wA &* x.lanes.loadUnaligned(fromByteOffset: b &* 64, as: SIMD16<Int16>.self)
    let pB = wB &* x.lanes.loadUnaligned(fromByteOffset: b &* 64 &+ 32, as: SIMD16<Int16>.self)
    if wide {
        let s = pA &+ pB
        return toFloat(widen(s.lowHalf) &+ widen(s.highHalf))
    }
    return toFloat(widen(foldedLanes(pA, pB)))
}

/// An unpacked row · two tokens' lane-ordered activations at once: two independent accumulation chains that
/// share every weight load. Each token's arithmetic is exactly the single-token kernel's.
@inline(__always)
func tiledDot2(
    _ row: UnpackedRow, _ x0: Q8RowView, _ x1: Q8RowView, blocks: Int, wide: Bool, hasMinimum: Bool
) -> (Float, Float) {
    var acc0 = SIMD8<Float>()
    var acc1 = SIMD8<Float>()
    var minimums0: Float = 0
    var minimums1: Float = 0
    for b in 0..<blocks {
        let w0 = row.weights.load(fromByteOffset: b &* 64, as: SIMD16<Int16>.self)
        let w1 = row.weights.load(fromByteOffset: b &* 64 &+ 32, as: SIMD16<Int16>.self)
        let sums0 = foldedLaneSums(w0, w1, x0, block: b, wide: wide)
        let sums1 = foldedLaneSums(w0, w1, x1, block: b, wide: wide)
        if hasMinimum {
            minimums0 += row.minimums[b] * x0.blockSums[b]
            minimums1 += row.minimums[b] * x1.blockSums[b]
        }
        let d = row.scales[b]
        acc0.addProduct(SIMD8<Float>(repeating: d * x0.scales[b]), sums0)
        acc1.addProduct(SIMD8<Float>(repeating: d * x1.scales[b]), sums1)
    }
    return hasMinimum
        ? (reduceLanes(acc0) + minimums0, reduceLanes(acc1) + minimums1) : (reduceLanes(acc0), reduceLanes(acc1))
}

/// One token (the odd one out of a pair).
@inline(__always)
func tiledDot(
    _ row: UnpackedRow, _ x: Q8RowView, blocks: Int, wide: Bool, hasMinimum: Bool
) -> Float {
    var acc = SIMD8<Float>()
    var minimums: Float = 0
    for b in 0..<blocks {
        let sums = foldedLaneSums(
            row.weights.load(fromByteOffset: b &* 64, as: SIMD16<Int16>.self),
            row.weights.load(fromByteOffset: b &* 64 &+ 32, as: SIMD16<Int16>.self), x, block: b, wide: wide)
        if hasMinimum { minimums += row.minimums[b] * x.blockSums[b] }
        acc.addProduct(SIMD8<Float>(repeating: row.scales[b] * x.scales[b]), sums)
    }
    return hasMinimum ? reduceLanes(acc) + minimums : reduceLanes(acc)
}

/// The token loop for one unpacked row, specialized by kind so no format test sits in the inner loop.
@inline(__always)
func tiledTokens(
    _ unpacked: UnpackedRow, _ q8: Q8Activations, tokens: Range<Int>, blocks: Int, wide: Bool, hasMinimum: Bool,
    store: (Int, Float) -> Void
) {
    var t = tokens.lowerBound
    while t &+ 1 < tokens.upperBound {
        let (a, b) = tiledDot2(
            unpacked, Q8RowView(q8, row: t), Q8RowView(q8, row: t &+ 1), blocks: blocks, wide: wide,
            hasMinimum: hasMinimum)
        store(t, a)
        store(t &+ 1, b)
        t &+= 2
    }
    if t < tokens.upperBound {
        store(t, tiledDot(unpacked, Q8RowView(q8, row: t), blocks: blocks, wide: wide, hasMinimum: hasMinimum))
    }
}

/// Rows `rows` of `weights` times all `input` tokens through the tiled path.
func multiplyTiled(
    _ weights: MatrixView, _ input: MatrixInput, rows: Range<Int>, scratch: UnsafeMutableRawPointer,
    into output: UnsafeMutablePointer<Float>
) {
    let q8 = input.quantized!
    let blocks = weights.columns / 32
    let unpacked = UnpackedRow(scratch, blocks: blocks)
    let kind: TiledKind = weights.format == .q8_0
        ? .wide : (weights.format == .q4_1 || weights.format == .q5_1 ? .narrowWithMinimum : .narrow)
    // Tokens in tiles so their activations stay in cache while the rows pass over them.
    let tile = 64
    var t0 = 0
    while t0 < input.count {
        let t1 = min(input.count, t0 + tile)
        for r in rows {
            unpack(weights.format, row: weights.row(r), blocks: blocks, into: unpacked)
            let store = { (t: Int, value: Float) in output[t &* weights.rows &+ r] = value }
            switch kind {
            case .narrow:
                tiledTokens(unpacked, q8, tokens: t0..<t1, blocks: blocks, wide: false, hasMinimum: false, store: store)
            case .narrowWithMinimum:
                tiledTokens(unpacked, q8, tokens: t0..<t1, blocks: blocks, wide: false, hasMinimum: true, store: store)
            case .wide:
                tiledTokens(unpacked, q8, tokens: t0..<t1, blocks: blocks, wide: true, hasMinimum: false, store: store)
            }
        }
        t0 = t1
    }
}
