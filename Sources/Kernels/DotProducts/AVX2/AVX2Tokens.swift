// The multi-token (prefill, batched decode) AVX2 products: one weight row against four tokens at once, so each
// block's weights are unpacked and its scales converted once for four tokens. Every token's arithmetic is
// `dotAVX2`'s (same integer lane sums, same float products, same fused accumulation order), so a token's result
// never depends on how many tokens share its forward pass (`TiledProductTests`).
#if arch(x86_64) && !PORTABLE_KERNELS
import _Builtin_intrinsics.intel

/// Consecutive tokens' Q8 activations, as the multi-token kernels read them.
struct Q8Tokens {
    let quants: UnsafeRawPointer
    let scales: UnsafePointer<Float>
    let blockSums: UnsafePointer<Float>
    let sums: UnsafePointer<Int16>
    /// 8 · Σq per block (see `Q8Activations.offsets`).
    let offsets: UnsafePointer<Int32>
    /// Bytes (and quants) per token.
    let rowLength: Int
    let blocksPerRow: Int

    init(_ activations: Q8Activations, first: Int) {
        rowLength = activations.rowLength
        blocksPerRow = activations.blocksPerRow
        quants = UnsafeRawPointer(activations.quants + first &* rowLength)
        scales = UnsafePointer(activations.scales + first &* blocksPerRow)
        blockSums = UnsafePointer(activations.blockSums + first &* blocksPerRow)
        sums = UnsafePointer(activations.sums + first &* 2 &* blocksPerRow)
        offsets = UnsafePointer(activations.offsets + first &* blocksPerRow)
    }

    /// Token `t`'s per-block scales and Int32 element sums of super-block `sb` (as `activationTerms`).
    @inline(__always)
    func superBlockTerms(_ t: Int, _ sb: Int) -> (scales: SIMD8<Float>, sums: __m256i) {
        (blockScales(t, sb), pairSums(halfSums(t, sb)))
    }

    /// Token `t`'s sixteen Int16 half-block sums of super-block `sb`.
    @inline(__always)
    func halfSums(_ t: Int, _ sb: Int) -> __m256i {
        load256(UnsafeRawPointer(sums + t &* 2 &* blocksPerRow), sb &* 32)
    }

    /// Token `t`'s per-block scales of super-block `sb`.
    @inline(__always)
    func blockScales(_ t: Int, _ sb: Int) -> SIMD8<Float> {
        UnsafeRawPointer(scales + t &* blocksPerRow).loadUnaligned(fromByteOffset: sb &* 32, as: SIMD8<Float>.self)
    }

    /// Block `b`'s value of `values` (scales or block sums) for tokens 0–3.
    @inline(__always)
    func four(_ values: UnsafePointer<Float>, _ b: Int) -> SIMD4<Float> {
        SIMD4(values[b], values[blocksPerRow &+ b], values[2 &* blocksPerRow &+ b], values[3 &* blocksPerRow &+ b])
    }
}

/// Four tokens' block scales and block sums side by side (`scales[b]` lane k = token k's scale of block b),
/// gathered once per token group and row tile instead of once per row.
struct FourTokenScales {
    let scales: UnsafeMutablePointer<SIMD4<Float>>
    let blockSums: UnsafeMutablePointer<SIMD4<Float>>

    /// Room for `blocks` blocks at `memory` (`byteCount(blocks:)` bytes, 16-byte aligned).
    init(memory: UnsafeMutableRawPointer, blocks: Int) {
        scales = memory.bindMemory(to: SIMD4<Float>.self, capacity: 2 &* blocks)
        blockSums = scales + blocks
    }

    static func byteCount(blocks: Int) -> Int { 32 &* blocks }

    func fill(_ x: Q8Tokens, blocks: Int) {
        for b in 0..<blocks {
            scales[b] = x.four(x.scales, b)
            blockSums[b] = x.four(x.blockSums, b)
        }
    }
}

/// A binary16 as a float in four lanes, converted from broadcast bits (see `scale`).
@inline(__always)
func broadcastHalf4(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD4<Float> {
    _mm_cvtph_ps(_mm_set1_epi16(Int16(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
}

/// One row · tokens 0–3 of `x`.
@inline(__always)
func dotTokens4AVX2<F: AVX2Block32>(
    _: F.Type, _ w: UnsafeRawPointer, _ x: Q8Tokens, _ four: FourTokenScales, blocks: Int
) -> SIMD4<Float> {
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>(), acc3 = SIMD8<Float>()
    var minimums = SIMD4<Float>()
    let ones = _mm256_set1_epi16(1)
    let stride = x.rowLength
    for b in 0..<blocks {
        let block = w + b &* F.byteCount
        let q = x.quants + b &* 32
        let weights = F.weights(block)
        let magnitudes = F.isSigned ? _mm256_sign_epi8(weights, weights) : weights
        @inline(__always)
        func lanes(_ t: Int) -> __m256i {
            let y = load256(q, t &* stride)
            return _mm256_madd_epi16(_mm256_maddubs_epi16(magnitudes, F.isSigned ? _mm256_sign_epi8(y, weights) : y), ones)
        }
        let l0 = lanes(0), l1 = lanes(1), l2 = lanes(2), l3 = lanes(3)
        let products: SIMD4<Float>
        if F.hasMinimum {
            // d and m converted together; each token's m · blockSum is added to its own running sum, as
            // `dotAVX2` does.
            let dm = scaleAndMinimum(block)
            products = SIMD4(repeating: dm[0]) * four.scales[b]
            minimums += SIMD4(repeating: dm[1]) * four.blockSums[b]
        } else {
            products = broadcastHalf4(block, 0) * four.scales[b]
        }
        acc0 = accumulate(acc0, products[0], l0)
        acc1 = accumulate(acc1, products[1], l1)
        acc2 = accumulate(acc2, products[2], l2)
        acc3 = accumulate(acc3, products[3], l3)
    }
    let sums = SIMD4(reduceLanes(acc0), reduceLanes(acc1), reduceLanes(acc2), reduceLanes(acc3))
    return F.hasMinimum ? sums + minimums : sums
}

/// Whether `format` has a one-row, four-token kernel (`multiplyTokensAVX2`). Row-major Q4_0 (repacking off) has
/// none: its block-sum order takes the one-token kernel per token (`MatrixMultiply`'s token-tile loop).
func hasFourTokenKernel(_ format: WeightFormat) -> Bool {
    format != .q4_0 && hasNativeKernel(format)
}

/// One row · tokens 0–3, dispatched once per row; nil for formats without a four-token kernel.
@inline(__always)
func dotTokens4AVX2(
    _ format: WeightFormat, _ row: UnsafeRawPointer, _ x: Q8Tokens, _ four: FourTokenScales, columns: Int
) -> SIMD4<Float>? {
    switch format {
    case .q4_1: dotTokens4AVX2(AVX2Q4_1.self, row, x, four, blocks: columns / 32)
    case .q5_0: dotTokens4AVX2(AVX2Q5_0.self, row, x, four, blocks: columns / 32)
    case .q5_1: dotTokens4AVX2(AVX2Q5_1.self, row, x, four, blocks: columns / 32)
    case .q8_0: dotTokens4AVX2(AVX2Q8_0.self, row, x, four, blocks: columns / 32)
    default: nil
    }
}

/// One row · tokens 0–3, for the K-quants; nil for other formats.
@inline(__always)
func dotTokens4KAVX2(_ format: WeightFormat, _ row: UnsafeRawPointer, _ x: Q8Tokens, columns: Int) -> SIMD4<Float>? {
    switch format {
    case .q4_K:
        dotTokens4ScaleMinKAVX2(row, x, superBlocks: columns / 256, byteCount: 144) { q4KWeights($0 + 16, pair: $1) }
    case .q5_K:
        dotTokens4ScaleMinKAVX2(row, x, superBlocks: columns / 256, byteCount: 176) { q5KWeights($0 + 48, $0 + 16, pair: $1) }
    case .q6_K: dotTokens4Q6_KAVX2(row, x, superBlocks: columns / 256)
    default: nil
    }
}

/// `output[t * rows + r]` for the rows `rows` of `weights` and every token of `input`: rows in tiles whose
/// weights stay in cache while four tokens at a time pass over them.
func multiplyTokensAVX2(
    _ weights: MatrixView, _ input: MatrixInput, rows: Range<Int>, scratch: UnsafeMutableRawPointer,
    into output: UnsafeMutablePointer<Float>
) {
    let activations = input.quantized!
    let outputs = weights.rows
    let columns = weights.columns
    let four = FourTokenScales(memory: scratch, blocks: columns / 32)
    let kQuant = isKQuant(weights.format)
    let tile = 16
    var r0 = rows.lowerBound
    while r0 < rows.upperBound {
        let r1 = min(rows.upperBound, r0 &+ tile)
        var t = 0
        while t &+ 4 <= input.count {
            let x = Q8Tokens(activations, first: t)
            if !kQuant { four.fill(x, blocks: columns / 32) }
            for r in r0..<r1 {
                let row = weights.row(r)
                let four = dotTokens4AVX2(weights.format, row, x, four, columns: columns)
                    ?? dotTokens4KAVX2(weights.format, row, x, columns: columns)!
                for k in 0..<4 { output[(t &+ k) &* outputs &+ r] = four[k] }
            }
            t &+= 4
        }
        while t < input.count {
            for r in r0..<r1 { output[t &* outputs &+ r] = dot(weights, row: weights.row(r), input, t) }
            t &+= 1
        }
        r0 = r1
    }
}

/// Adds four tokens' eight sub-block terms (`t0`…`t3`, lane j = sub-block j) to their totals (lane k of
/// `total` for token k), sub-block by sub-block: each token's own chain of adds, in the order of `addInOrder`,
/// four tokens per instruction.
@inline(__always)
func addInOrder4(_ total: inout SIMD4<Float>, _ t0: SIMD8<Float>, _ t1: SIMD8<Float>, _ t2: SIMD8<Float>, _ t3: SIMD8<Float>) {
    // A 4×8 transpose: after it, column j (sub-block j) of all four tokens sits in one half of one vector.
    let a = _mm256_unpacklo_ps(t0, t1), b = _mm256_unpackhi_ps(t0, t1)
    let c = _mm256_unpacklo_ps(t2, t3), d = _mm256_unpackhi_ps(t2, t3)
    @inline(__always)
    func columns(_ x: __m256, _ y: __m256, high: Bool) -> SIMD8<Float> {
        let (u, v) = (unsafeBitCast(x, to: __m256d.self), unsafeBitCast(y, to: __m256d.self))
        return unsafeBitCast(high ? _mm256_unpackhi_pd(u, v) : _mm256_unpacklo_pd(u, v), to: SIMD8<Float>.self)
    }
    let s0 = columns(a, c, high: false), s1 = columns(a, c, high: true)
    let s2 = columns(b, d, high: false), s3 = columns(b, d, high: true)
    total += s0.lowHalf
    total += s1.lowHalf
    total += s2.lowHalf
    total += s3.lowHalf
    total += s0.highHalf
    total += s1.highHalf
    total += s2.highHalf
    total += s3.highHalf
}

/// One Q4_K or Q5_K row · tokens 0–3, each bit-identical to `dotScaleMinKAVX2` (see there for `weights`).
@inline(__always)
func dotTokens4ScaleMinKAVX2(
    _ w: UnsafeRawPointer, _ x: Q8Tokens, superBlocks: Int, byteCount: Int,
    weights: (UnsafeRawPointer, Int) -> (__m256i, __m256i)
) -> SIMD4<Float> {
    var total = SIMD4<Float>()
    let stride = x.rowLength
    for sb in 0..<superBlocks {
        let block = w + sb &* byteCount
        let a = x.quants + sb &* 256
        @inline(__always)
        func terms(_ t: Int) -> SIMD8<Float> {
            scaleMinTerms(block: block, dots: kDots(a + t &* stride) { weights(block, $0) }, activations: x.superBlockTerms(t, sb))
        }
        addInOrder4(&total, terms(0), terms(1), terms(2), terms(3))
    }
    return total
}

/// One Q6_K row · tokens 0–3, each bit-identical to `dotQ6_KAVX2`.
@inline(__always)
func dotTokens4Q6_KAVX2(_ w: UnsafeRawPointer, _ x: Q8Tokens, superBlocks: Int) -> SIMD4<Float> {
    var total = SIMD4<Float>()
    let stride = x.rowLength
    for sb in 0..<superBlocks {
        let block = w + sb &* 210
        let a = x.quants + sb &* 256
        let values = q6KValues(block)
        let d = broadcastHalf(block, 208)
        @inline(__always)
        func terms(_ t: Int) -> SIMD8<Float> {
            d * x.blockScales(t, sb) * asFloats(q6KCombined(block, values, a + t &* stride, sums: x.halfSums(t, sb)))
        }
        addInOrder4(&total, terms(0), terms(1), terms(2), terms(3))
    }
    return total
}
#endif

#if arch(x86_64) && !PORTABLE_KERNELS
/// Whether `format` is a K-quant (its four-token kernel reads each token's scales as whole vectors already).
@inline(__always)
func isKQuant(_ format: WeightFormat) -> Bool {
    switch format {
    case .q4_K, .q5_K, .q6_K: true
    default: false
    }
}
#endif
