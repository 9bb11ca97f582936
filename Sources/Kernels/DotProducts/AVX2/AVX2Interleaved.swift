// AVX2 products of interleaved Q4_0 row groups (`InterleavedRows.swift`): lanes are rows. Per block and token,
// each of the eight 4-byte column chunks is one `vpmaddubsw` of eight rows' unsigned nibbles against the
// token's four quants broadcast; the eight Int16 results add without overflow (each pair is at most
// 2 · 15 · 127, eight of them 30480), one `vpmaddwd` makes each row's block sum, and 8 · Σq takes the nibbles'
// offset off. Then per row: acc = fma(float(block sum), d · d_x, acc), block after block from zero, which is
// what `dotQ4_0` computes and what llama.cpp's AVX2 Q4_0 kernels compute.
#if arch(x86_64) && !PORTABLE_KERNELS
import _Builtin_intrinsics.intel
import Prefetch

/// The eight rows' exact block sums of one group block against one token's block `q`, with 8 · Σq `offset`.
@inline(__always)
private func groupBlockSums(_ w: (__m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i),
                            _ q: UnsafeRawPointer, offset: Int32) -> __m256i {
    @inline(__always)
    func product(_ weights: __m256i, _ at: Int) -> __m256i {
        _mm256_maddubs_epi16(weights, _mm256_set1_epi32(q.loadUnaligned(fromByteOffset: at, as: Int32.self)))
    }
    // Chunk c's low nibbles meet quants 4c…4c+3, its high nibbles quants 16+4c…16+4c+3.
    let s0 = _mm256_add_epi16(product(w.0, 0), product(w.1, 16))
    let s1 = _mm256_add_epi16(product(w.2, 4), product(w.3, 20))
    let s2 = _mm256_add_epi16(product(w.4, 8), product(w.5, 24))
    let s3 = _mm256_add_epi16(product(w.6, 12), product(w.7, 28))
    let s = _mm256_add_epi16(_mm256_add_epi16(s0, s1), _mm256_add_epi16(s2, s3))
    return _mm256_sub_epi32(_mm256_madd_epi16(s, _mm256_set1_epi16(1)), _mm256_set1_epi32(offset))
}

/// A group block's four chunks as eight vectors of nibbles: (chunk 0 low, chunk 0 high, chunk 1 low, …).
@inline(__always)
private func groupNibbles(_ block: UnsafeRawPointer) -> (__m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i) {
    @inline(__always)
    func split(_ c: Int) -> (__m256i, __m256i) { splitNibbles(load256(block, 16 &+ 32 &* c)) }
    let (a, b) = split(0), (c, d) = split(1), (e, f) = split(2), (g, h) = split(3)
    return (a, b, c, d, e, f, g, h)
}

/// The eight rows' binary16 scales of a group block as floats.
@inline(__always)
private func groupScales(_ block: UnsafeRawPointer) -> __m256 {
    _mm256_cvtph_ps(load128(block))
}

/// One row group · one token: the eight rows' products.
@inline(__always)
func groupDotAVX2(_ group: UnsafeRawPointer, _ x: Q8RowView, blocks: Int) -> SIMD8<Float> {
    var acc = _mm256_setzero_ps()
    let quants = UnsafeRawPointer(x.quants)
    for b in 0..<blocks {
        let block = group + b &* interleavedQ4_0BlockBytes
        // A group block is 2.25 cache lines: two prefetches per block keep about 1 KiB ahead of every line.
        prefetch(block + 1024)
        prefetch(block + 1088)
        let sums = groupBlockSums(groupNibbles(block), quants + b &* 32, offset: x.offsets[b])
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), groupScales(block) * SIMD8(repeating: x.scales[b]), acc)
    }
    return acc
}

/// One row group · tokens 0–3 of `x`: each token's arithmetic is `groupDotAVX2`'s, the nibbles unpacked once.
@inline(__always)
func groupDotTokens4AVX2(
    _ group: UnsafeRawPointer, _ x: Q8Tokens, blocks: Int
) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
    var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps()
    let stride = x.rowLength
    for b in 0..<blocks {
        let block = group + b &* interleavedQ4_0BlockBytes
        let nibbles = groupNibbles(block)
        let d = groupScales(block)
        let q = x.quants + b &* 32
        @inline(__always)
        func token(_ t: Int, _ acc: __m256) -> __m256 {
            let sums = groupBlockSums(nibbles, q + t &* stride, offset: x.offsets[t &* x.blocksPerRow &+ b])
            return _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), d * SIMD8(repeating: x.scales[t &* x.blocksPerRow &+ b]), acc)
        }
        acc0 = token(0, acc0)
        acc1 = token(1, acc1)
        acc2 = token(2, acc2)
        acc3 = token(3, acc3)
    }
    return (acc0, acc1, acc2, acc3)
}

/// Stores the results of group `g` for the rows of it inside `rows` (a thread's range; the last group may
/// also be partly padding).
@inline(__always)
private func storeGroup(_ values: SIMD8<Float>, group g: Int, rows: Range<Int>, into output: UnsafeMutablePointer<Float>) {
    let first = g &* interleavedGroupRows
    if first >= rows.lowerBound && first &+ interleavedGroupRows <= rows.upperBound {
        UnsafeMutableRawPointer(output + first).storeBytes(of: values, as: SIMD8<Float>.self)
    } else {
        for r in max(first, rows.lowerBound)..<min(first &+ interleavedGroupRows, rows.upperBound) {
            output[r] = values[r &- first]
        }
    }
}

/// One row group · one token, by format.
@inline(__always)
private func groupDot(_ weights: MatrixView, _ g: Int, _ x: Q8RowView) -> SIMD8<Float> {
    switch weights.format {
    case .q4_0: groupDotAVX2(weights.group(g), x, blocks: weights.columns / 32)
    case .q4_K: groupDotScaleMinKAVX2(weights.group(g), x, superBlocks: weights.columns / 256, fifth: false)
    case .q5_K: groupDotQ5_KAVX2(weights.group(g), x, superBlocks: weights.columns / 256)
    default: groupDotQ6_KAVX2(weights.group(g), x, superBlocks: weights.columns / 256)
    }
}

/// `output[r] = row r · x` for `rows` (best when its bounds are multiples of eight: a group shared by two
/// ranges is computed by both).
func multiplyInterleavedAVX2(_ weights: MatrixView, _ x: Q8RowView, rows: Range<Int>, into output: UnsafeMutablePointer<Float>) {
    var g = rows.lowerBound / interleavedGroupRows
    while g &* interleavedGroupRows < rows.upperBound {
        storeGroup(groupDot(weights, g, x), group: g, rows: rows, into: output)
        g &+= 1
    }
}

/// `output[t * rows + r]` for the row groups covering `rows` and every token of `input`: two groups at a time
/// stay in cache while four tokens at a time pass over them; leftover tokens take the one-token kernel.
func multiplyInterleavedTokensAVX2(
    _ weights: MatrixView, _ input: MatrixInput, rows: Range<Int>, into output: UnsafeMutablePointer<Float>
) {
    let activations = input.quantized!
    let outputs = weights.rows
    let firstGroup = rows.lowerBound / interleavedGroupRows
    let endGroup = (rows.upperBound + interleavedGroupRows - 1) / interleavedGroupRows
    let tile = 2
    var g0 = firstGroup
    while g0 < endGroup {
        let g1 = min(endGroup, g0 &+ tile)
        var t = 0
        while t &+ 4 <= input.count {
            let x = Q8Tokens(activations, first: t)
            for g in g0..<g1 {
                let (a, b, c, d) = switch weights.format {
                case .q4_0: groupDotTokens4AVX2(weights.group(g), x, blocks: weights.columns / 32)
                case .q4_K: groupDotTokens4ScaleMinKAVX2(weights.group(g), x, superBlocks: weights.columns / 256, fifth: false)
                case .q5_K: groupDotTokens4Q5_KAVX2(weights.group(g), x, superBlocks: weights.columns / 256)
                default: groupDotTokens4Q6_KAVX2(weights.group(g), x, superBlocks: weights.columns / 256)
                }
                storeGroup(a, group: g, rows: rows, into: output + t &* outputs)
                storeGroup(b, group: g, rows: rows, into: output + (t &+ 1) &* outputs)
                storeGroup(c, group: g, rows: rows, into: output + (t &+ 2) &* outputs)
                storeGroup(d, group: g, rows: rows, into: output + (t &+ 3) &* outputs)
            }
            t &+= 4
        }
        while t < input.count {
            let x = Q8RowView(activations, row: t)
            for g in g0..<g1 {
                storeGroup(groupDot(weights, g, x), group: g, rows: rows, into: output + t &* outputs)
            }
            t &+= 1
        }
        g0 = g1
    }
}

// Q4_K and Q5_K. Per sub-block j and row: d · da · float(sc · dot) − dmin · da · float(m · s), added to the
// row's total sub-block after sub-block: `dotQ4_K`'s and `dotQ5_K`'s operations in their order, eight rows per
// instruction, so results are bit-identical to them (unlike Q4_0, they keep their order; Decision 5).

/// Weight bytes of chunk `c` of sub-block pair `p`: low nibbles (sub-block 2p) and high nibbles (2p + 1), with
/// Q5_K's fifth bits (bits 2p and 2p + 1 of its qh chunk, moved to bit 4) when `fifth`.
@inline(__always)
private func scaleMinKChunk(_ block: UnsafeRawPointer, pair p: Int, chunk c: Int, fifth: Bool) -> (__m256i, __m256i) {
    let (low, high) = splitNibbles(load256(block, 160 &+ 256 &* p &+ 32 &* c))
    guard fifth else { return (low, high) }
    let (fifth0, fifth1) = fifthBits(load256(block, 1184 &+ 32 &* c), pair: p)
    return (_mm256_or_si256(low, fifth0), _mm256_or_si256(high, fifth1))
}

/// Chunks whose 16-bit products may be added before `vpmaddwd`: eight of 4-bit values (8 · 2 · 15 · 127 < 2¹⁵),
/// four of 5-bit ones (4 · 2 · 31 · 127).
@inline(__always)
private func chunksPerSum(fifth: Bool) -> Int { fifth ? 4 : 8 }

/// A Q4_K/Q5_K group block's Int32 dots for sub-block pair `p` and one token's activations `a` (the
/// super-block's 256 quants): low nibbles with sub-block 2p, high nibbles with 2p + 1.
@inline(__always)
private func scaleMinKPairDots(
    _ block: UnsafeRawPointer, pair p: Int, _ a: UnsafeRawPointer, fifth: Bool, groupBytes: Int
) -> (__m256i, __m256i) {
    let ones = _mm256_set1_epi16(1)
    var low32 = _mm256_setzero_si256(), high32 = _mm256_setzero_si256()
    let run = chunksPerSum(fifth: fifth)
    for first in stride(from: 0, to: 8, by: run) {
        var low = _mm256_setzero_si256(), high = _mm256_setzero_si256()
        for c in first..<(first &+ run) {
            // One line ahead per 64 bytes read, about a group block ahead.
            if c & 1 == 0 { prefetch(block + (groupBytes &+ 256 &* p &+ 32 &* c)) }
            let (wLow, wHigh) = scaleMinKChunk(block, pair: p, chunk: c, fifth: fifth)
            low = _mm256_add_epi16(low, _mm256_maddubs_epi16(wLow, _mm256_set1_epi32(a.loadUnaligned(fromByteOffset: 64 &* p &+ 4 &* c, as: Int32.self))))
            high = _mm256_add_epi16(high, _mm256_maddubs_epi16(wHigh, _mm256_set1_epi32(a.loadUnaligned(fromByteOffset: 64 &* p &+ 32 &+ 4 &* c, as: Int32.self))))
        }
        low32 = _mm256_add_epi32(low32, _mm256_madd_epi16(low, ones))
        high32 = _mm256_add_epi32(high32, _mm256_madd_epi16(high, ones))
    }
    return (low32, high32)
}

/// Adds sub-block `j`'s term (Int32 `dots`) to each row's total; `scale` and `offset` point at the token's
/// activation scale and 8 · Σq for the sub-block's activation block.
@inline(__always)
private func addScaleMinKTerm(
    _ total: inout SIMD8<Float>, block: UnsafeRawPointer, d: __m256, dmin: __m256, subBlock j: Int,
    dots: __m256i, scale: UnsafePointer<Float>, offset: UnsafePointer<Int32>
) {
    let scales = widenBytes(block.loadUnaligned(fromByteOffset: 32 &+ 8 &* j, as: UInt64.self))
    let minimums = widenBytes(block.loadUnaligned(fromByteOffset: 96 &+ 8 &* j, as: UInt64.self))
    // s = Σq = offset / 8, exact.
    let s = _mm256_srai_epi32(_mm256_set1_epi32(offset.pointee), 3)
    let a = _mm256_set1_ps(scale.pointee)
    // Written out with intrinsics so nothing is fused or reordered: (d·a)·float(sc·dot) − (dmin·a)·float(m·s).
    let product = _mm256_mul_ps(_mm256_mul_ps(d, a), _mm256_cvtepi32_ps(_mm256_mullo_epi32(scales, dots)))
    let minimum = _mm256_mul_ps(_mm256_mul_ps(dmin, a), _mm256_cvtepi32_ps(_mm256_mullo_epi32(minimums, s)))
    total = _mm256_add_ps(total, _mm256_sub_ps(product, minimum))
}

/// Adds sub-block pair `p` of super-block `sb` (group block `block`, activations `a`) to the rows' totals.
@inline(__always)
private func addPairTerms(
    _ total: inout SIMD8<Float>, block: UnsafeRawPointer, d: __m256, dmin: __m256, _ a: UnsafeRawPointer,
    _ x: Q8RowView, superBlock sb: Int, pair p: Int, fifth: Bool, groupBytes: Int
) {
    let (low, high) = scaleMinKPairDots(block, pair: p, a, fifth: fifth, groupBytes: groupBytes)
    let b = sb &* 8 &+ 2 &* p
    addScaleMinKTerm(&total, block: block, d: d, dmin: dmin, subBlock: 2 &* p, dots: low, scale: x.scales + b,
                     offset: x.offsets + b)
    addScaleMinKTerm(&total, block: block, d: d, dmin: dmin, subBlock: 2 &* p &+ 1, dots: high,
                     scale: x.scales + (b &+ 1), offset: x.offsets + (b &+ 1))
}

/// One Q4_K (or, with `fifth`, Q5_K) row group · one token.
@inline(__always)
func groupDotScaleMinKAVX2(_ group: UnsafeRawPointer, _ x: Q8RowView, superBlocks: Int, fifth: Bool) -> SIMD8<Float> {
    let groupBytes = fifth ? interleavedQ5_KBlockBytes : interleavedQ4_KBlockBytes
    var total = SIMD8<Float>()
    for sb in 0..<superBlocks {
        let block = group + sb &* groupBytes
        let d = _mm256_cvtph_ps(load128(block)), dmin = _mm256_cvtph_ps(load128(block, 16))
        let a = UnsafeRawPointer(x.quants + sb &* 256)
        prefetch(block + groupBytes)
        prefetch(block + (groupBytes &+ 64))
        prefetch(block + (groupBytes &+ 128))
        if fifth {
            for line in 0..<7 { prefetch(block + (groupBytes &+ 1024 &+ 64 &* line)) }
            // The pairs written out (see groupDotQ5_KAVX2).
            addPairTerms(&total, block: block, d: d, dmin: dmin, a, x, superBlock: sb, pair: 0, fifth: true, groupBytes: groupBytes)
            addPairTerms(&total, block: block, d: d, dmin: dmin, a, x, superBlock: sb, pair: 1, fifth: true, groupBytes: groupBytes)
            addPairTerms(&total, block: block, d: d, dmin: dmin, a, x, superBlock: sb, pair: 2, fifth: true, groupBytes: groupBytes)
            addPairTerms(&total, block: block, d: d, dmin: dmin, a, x, superBlock: sb, pair: 3, fifth: true, groupBytes: groupBytes)
        } else {
            for p in 0..<4 {
                addPairTerms(&total, block: block, d: d, dmin: dmin, a, x, superBlock: sb, pair: p, fifth: false, groupBytes: groupBytes)
            }
        }
    }
    return total
}

// Q5_K's kernels write their four sub-block pairs out instead of looping: with the pair a constant the
// fifth-bit shifts are immediates. In a loop LLVM kept them as shifts by a register count, with branches between
// left and right shifts and spills, and Q5_K decode ran compute-bound at 12 GB/s a core. They are compiled out
// of line: inlined beside the Q4_K loops in one function they changed how those compiled, and Q4_K prefill ran
// about 5 % slower. Q4_K keeps its loop for the same reason.

/// One Q5_K row group · one token.
@inline(never)
func groupDotQ5_KAVX2(_ group: UnsafeRawPointer, _ x: Q8RowView, superBlocks: Int) -> SIMD8<Float> {
    groupDotScaleMinKAVX2(group, x, superBlocks: superBlocks, fifth: true)
}

/// One Q5_K row group · tokens 0–3 of `x`.
@inline(never)
func groupDotTokens4Q5_KAVX2(
    _ group: UnsafeRawPointer, _ x: Q8Tokens, superBlocks: Int
) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
    groupDotTokens4ScaleMinKAVX2(group, x, superBlocks: superBlocks, fifth: true)
}

/// Adds sub-block pair `p` of super-block `sb` to four tokens' totals: each chunk of weights is unpacked once
/// for the four tokens.
@inline(__always)
private func addPairTerms4(
    _ t0: inout SIMD8<Float>, _ t1: inout SIMD8<Float>, _ t2: inout SIMD8<Float>, _ t3: inout SIMD8<Float>,
    block: UnsafeRawPointer, d: __m256, dmin: __m256, _ a: UnsafeRawPointer, _ x: Q8Tokens, superBlock sb: Int,
    pair p: Int, fifth: Bool
) {
    let stride = x.rowLength
    let ones = _mm256_set1_epi16(1)
    let run = chunksPerSum(fifth: fifth)
    var L0 = _mm256_setzero_si256(), L1 = L0, L2 = L0, L3 = L0
    var H0 = L0, H1 = L0, H2 = L0, H3 = L0
    for first in Swift.stride(from: 0, to: 8, by: run) {
        var l0 = _mm256_setzero_si256(), l1 = l0, l2 = l0, l3 = l0
        var h0 = l0, h1 = l0, h2 = l0, h3 = l0
        for c in first..<(first &+ run) {
            let (wLow, wHigh) = scaleMinKChunk(block, pair: p, chunk: c, fifth: fifth)
            let at = 64 &* p &+ 4 &* c
            @inline(__always)
            func dot(_ w: __m256i, _ t: Int, _ offset: Int) -> __m256i {
                _mm256_maddubs_epi16(w, _mm256_set1_epi32(a.loadUnaligned(fromByteOffset: t &* stride &+ offset, as: Int32.self)))
            }
            l0 = _mm256_add_epi16(l0, dot(wLow, 0, at)); h0 = _mm256_add_epi16(h0, dot(wHigh, 0, at &+ 32))
            l1 = _mm256_add_epi16(l1, dot(wLow, 1, at)); h1 = _mm256_add_epi16(h1, dot(wHigh, 1, at &+ 32))
            l2 = _mm256_add_epi16(l2, dot(wLow, 2, at)); h2 = _mm256_add_epi16(h2, dot(wHigh, 2, at &+ 32))
            l3 = _mm256_add_epi16(l3, dot(wLow, 3, at)); h3 = _mm256_add_epi16(h3, dot(wHigh, 3, at &+ 32))
        }
        L0 = _mm256_add_epi32(L0, _mm256_madd_epi16(l0, ones)); H0 = _mm256_add_epi32(H0, _mm256_madd_epi16(h0, ones))
        L1 = _mm256_add_epi32(L1, _mm256_madd_epi16(l1, ones)); H1 = _mm256_add_epi32(H1, _mm256_madd_epi16(h1, ones))
        L2 = _mm256_add_epi32(L2, _mm256_madd_epi16(l2, ones)); H2 = _mm256_add_epi32(H2, _mm256_madd_epi16(h2, ones))
        L3 = _mm256_add_epi32(L3, _mm256_madd_epi16(l3, ones)); H3 = _mm256_add_epi32(H3, _mm256_madd_epi16(h3, ones))
    }
    let b = sb &* 8 &+ 2 &* p
    @inline(__always)
    func add(_ total: inout SIMD8<Float>, _ t: Int, _ low: __m256i, _ high: __m256i) {
        let k = t &* x.blocksPerRow &+ b
        addScaleMinKTerm(&total, block: block, d: d, dmin: dmin, subBlock: 2 &* p, dots: low,
                         scale: x.scales + k, offset: x.offsets + k)
        addScaleMinKTerm(&total, block: block, d: d, dmin: dmin, subBlock: 2 &* p &+ 1, dots: high,
                         scale: x.scales + (k &+ 1), offset: x.offsets + (k &+ 1))
    }
    add(&t0, 0, L0, H0)
    add(&t1, 1, L1, H1)
    add(&t2, 2, L2, H2)
    add(&t3, 3, L3, H3)
}

/// One Q4_K/Q5_K row group · tokens 0–3 of `x`, each token's arithmetic `groupDotScaleMinKAVX2`'s.
@inline(__always)
func groupDotTokens4ScaleMinKAVX2(
    _ group: UnsafeRawPointer, _ x: Q8Tokens, superBlocks: Int, fifth: Bool
) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
    let groupBytes = fifth ? interleavedQ5_KBlockBytes : interleavedQ4_KBlockBytes
    var t0 = SIMD8<Float>(), t1 = SIMD8<Float>(), t2 = SIMD8<Float>(), t3 = SIMD8<Float>()
    for sb in 0..<superBlocks {
        let block = group + sb &* groupBytes
        let d = _mm256_cvtph_ps(load128(block)), dmin = _mm256_cvtph_ps(load128(block, 16))
        let a = UnsafeRawPointer(x.quants) + sb &* 256
        if fifth {
            // The pairs written out (see groupDotQ5_KAVX2).
            addPairTerms4(&t0, &t1, &t2, &t3, block: block, d: d, dmin: dmin, a, x, superBlock: sb, pair: 0, fifth: true)
            addPairTerms4(&t0, &t1, &t2, &t3, block: block, d: d, dmin: dmin, a, x, superBlock: sb, pair: 1, fifth: true)
            addPairTerms4(&t0, &t1, &t2, &t3, block: block, d: d, dmin: dmin, a, x, superBlock: sb, pair: 2, fifth: true)
            addPairTerms4(&t0, &t1, &t2, &t3, block: block, d: d, dmin: dmin, a, x, superBlock: sb, pair: 3, fifth: true)
        } else {
            for p in 0..<4 {
                addPairTerms4(&t0, &t1, &t2, &t3, block: block, d: d, dmin: dmin, a, x, superBlock: sb, pair: p, fifth: false)
            }
        }
    }
    return (t0, t1, t2, t3)
}
#endif
