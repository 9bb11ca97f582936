// AVX2 products of interleaved Q6_K row groups (`InterleavedRows.swift`), lanes = rows. Per super-block half,
// the 6-bit values of its four activation blocks are unpacked once (into 32 vectors on the stack, shared by
// the tokens of a multi-token pass); per activation block and row the integer part is `dotQ6_K`'s,
// sc0 · (dot0 − 32·s0) + sc1 · (dot1 − 32·s1), and the float part its `(d · da) · float(combined)` added block
// after block, so results are bit-identical to it.
#if arch(x86_64) && !PORTABLE_KERNELS
import _Builtin_intrinsics.intel
import Prefetch

/// Unpacks half `h` of a Q6_K group block: vector 8g + c holds the values of activation block 4h + g,
/// elements 4c…4c+3, for the eight rows.
@inline(__always)
private func q6KUnpackHalf(_ block: UnsafeRawPointer, half h: Int, into values: UnsafeMutablePointer<__m256i>) {
    let mask = _mm256_set1_epi8(0x0F), top = _mm256_set1_epi8(0x30)
    for c in 0..<8 {
        let low0: Int = 144 &+ 512 &* h &+ 32 &* c
        let bits: Int = 1168 &+ 256 &* h &+ 32 &* c
        if c & 1 == 0 {
            // About one line ahead per 64 bytes read, in each of the three streams of the next super-block.
            prefetch(block + (low0 &+ interleavedQ6_KBlockBytes))
            prefetch(block + (low0 &+ 256 &+ interleavedQ6_KBlockBytes))
            prefetch(block + (bits &+ interleavedQ6_KBlockBytes))
        }
        // Groups 0 and 2 take the low and high nibbles of the first 32 low bytes, groups 1 and 3 of the second;
        // bits 2g…2g+1 of the high bytes go on top (16-bit shifts: what crosses a byte is masked off).
        let a = load256(block, low0), b = load256(block, low0 &+ 256), q = load256(block, bits)
        values[c] = _mm256_or_si256(_mm256_and_si256(a, mask), _mm256_and_si256(_mm256_slli_epi16(q, 4), top))
        values[8 &+ c] = _mm256_or_si256(_mm256_and_si256(b, mask), _mm256_and_si256(_mm256_slli_epi16(q, 2), top))
        values[16 &+ c] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 4), mask), _mm256_and_si256(q, top))
        values[24 &+ c] = _mm256_or_si256(
            _mm256_and_si256(_mm256_srli_epi16(b, 4), mask), _mm256_and_si256(_mm256_srli_epi16(q, 2), top))
    }
}

/// Adds the terms of half `h`'s four activation blocks, for one token, to each row's total. `a`, `sums` and
/// `scales` are the token's quants, half-block sums and block scales at the start of the super-block.
@inline(__always)
private func q6KAddHalf(
    _ total: inout __m256, _ values: UnsafeMutablePointer<__m256i>, _ block: UnsafeRawPointer, half h: Int, d: __m256,
    quants a: UnsafeRawPointer, sums: UnsafePointer<Int16>, scales: UnsafePointer<Float>
) {
    q6KAddHalf(&total, { values[$0] }, block, half: h, d: d, quants: a, sums: sums, scales: scales)
}

/// As above, with vector 8g + c given by `value` (unpacked on the fly in decode, read back in multi-token passes).
/// With `unrolled` the four blocks are written out rather than looped over, so that `q6KValue`'s shifts are
/// chosen at compile time (see groupDotQ6_KAVX2).
@inline(__always)
private func q6KAddHalf(
    _ total: inout __m256, _ value: (Int) -> __m256i, _ block: UnsafeRawPointer, half h: Int, d: __m256,
    quants a: UnsafeRawPointer, sums: UnsafePointer<Int16>, scales: UnsafePointer<Float>, unrolled: Bool = false
) {
    if unrolled {
        q6KAddBlock(&total, value, block, half: h, group: 0, d: d, quants: a, sums: sums, scales: scales)
        q6KAddBlock(&total, value, block, half: h, group: 1, d: d, quants: a, sums: sums, scales: scales)
        q6KAddBlock(&total, value, block, half: h, group: 2, d: d, quants: a, sums: sums, scales: scales)
        q6KAddBlock(&total, value, block, half: h, group: 3, d: d, quants: a, sums: sums, scales: scales)
    } else {
        for g in 0..<4 {
            q6KAddBlock(&total, value, block, half: h, group: g, d: d, quants: a, sums: sums, scales: scales)
        }
    }
}

/// Adds the term of activation block 4h + g.
@inline(__always)
private func q6KAddBlock(
    _ total: inout __m256, _ value: (Int) -> __m256i, _ block: UnsafeRawPointer, half h: Int, group g: Int,
    d: __m256, quants a: UnsafeRawPointer, sums: UnsafePointer<Int16>, scales: UnsafePointer<Float>
) {
    let ones = _mm256_set1_epi16(1)
    let ab = 4 &* h &+ g
    let q = a + 32 &* ab
    @inline(__always)
    func broadcast(_ offset: Int) -> __m256i { _mm256_set1_epi32(q.loadUnaligned(fromByteOffset: offset, as: Int32.self)) }
    /// sc · (dot − 32·s) for the 16 elements 16u…16u+15: pairs of products stay below 2 · 2 · 63 · 127 in Int16.
    @inline(__always)
    func part(_ u: Int) -> __m256i {
        let v = 8 &* g &+ 4 &* u
        let p0 = _mm256_add_epi16(_mm256_maddubs_epi16(value(v), broadcast(16 &* u)), _mm256_maddubs_epi16(value(v &+ 1), broadcast(16 &* u &+ 4)))
        let p1 = _mm256_add_epi16(_mm256_maddubs_epi16(value(v &+ 2), broadcast(16 &* u &+ 8)), _mm256_maddubs_epi16(value(v &+ 3), broadcast(16 &* u &+ 12)))
        let dot = _mm256_add_epi32(_mm256_madd_epi16(p0, ones), _mm256_madd_epi16(p1, ones))
        let s = _mm256_set1_epi32(Int32(sums[2 &* ab &+ u]))
        let scaleBytes = block.loadUnaligned(fromByteOffset: 16 &+ 8 &* (8 &* h &+ 2 &* g &+ u), as: Int64.self)
        let sc = _mm256_cvtepi8_epi32(_mm_cvtsi64_si128(scaleBytes))
        return _mm256_mullo_epi32(sc, _mm256_sub_epi32(dot, _mm256_slli_epi32(s, 5)))
    }
    let combined = _mm256_add_epi32(part(0), part(1))
    total = _mm256_add_ps(total, _mm256_mul_ps(_mm256_mul_ps(d, _mm256_set1_ps(scales[ab])), _mm256_cvtepi32_ps(combined)))
}

/// Vector 8g + c of half `h` (see `q6KUnpackHalf`), unpacked alone.
@inline(__always)
private func q6KValue(_ block: UnsafeRawPointer, half h: Int, _ i: Int) -> __m256i {
    let g = i &>> 3, c = i & 7
    let mask = _mm256_set1_epi8(0x0F), top = _mm256_set1_epi8(0x30)
    let low = load256(block, 144 &+ 512 &* h &+ 256 &* (g & 1) &+ 32 &* c)
    let q = load256(block, 1168 &+ 256 &* h &+ 32 &* c)
    let nibbles = g < 2 ? _mm256_and_si256(low, mask) : _mm256_and_si256(_mm256_srli_epi16(low, 4), mask)
    let bits: __m256i
    switch g {
    case 0: bits = _mm256_slli_epi16(q, 4)
    case 1: bits = _mm256_slli_epi16(q, 2)
    case 2: bits = q
    default: bits = _mm256_srli_epi16(q, 2)
    }
    return _mm256_or_si256(nibbles, _mm256_and_si256(bits, top))
}

/// One Q6_K row group · one token. Its four blocks per half are written out: in a loop, LLVM picked each
/// value's shift with a branch on the block number at run time.
@inline(__always)
func groupDotQ6_KAVX2(_ group: UnsafeRawPointer, _ x: Q8RowView, superBlocks: Int) -> SIMD8<Float> {
    var total = _mm256_setzero_ps()
    for sb in 0..<superBlocks {
        let block = group + sb &* interleavedQ6_KBlockBytes
        // About 1 KiB ahead (the next super-block's bytes, one line per 64).
        for line in 0..<27 { prefetch(block + (interleavedQ6_KBlockBytes &+ 64 &* line)) }
        let d = _mm256_cvtph_ps(load128(block))
        let a = UnsafeRawPointer(x.quants + sb &* 256)
        for h in 0..<2 {
            q6KAddHalf(&total, { q6KValue(block, half: h, $0) }, block, half: h, d: d, quants: a,
                       sums: x.sums + sb &* 16, scales: x.scales + sb &* 8, unrolled: true)
        }
    }
    return total
}

/// One Q6_K row group · tokens 0–3 of `x`, each token's arithmetic `groupDotQ6_KAVX2`'s.
@inline(__always)
func groupDotTokens4Q6_KAVX2(
    _ group: UnsafeRawPointer, _ x: Q8Tokens, superBlocks: Int
) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
    withUnsafeTemporaryAllocation(of: __m256i.self, capacity: 32) { buffer in
        let values = buffer.baseAddress!
        var t0 = _mm256_setzero_ps(), t1 = t0, t2 = t0, t3 = t0
        for sb in 0..<superBlocks {
            let block = group + sb &* interleavedQ6_KBlockBytes
            let d = _mm256_cvtph_ps(load128(block))
            @inline(__always)
            func add(_ total: inout __m256, _ t: Int, _ h: Int) {
                q6KAddHalf(&total, values, block, half: h, d: d,
                           quants: UnsafeRawPointer(x.quants) + (t &* x.rowLength &+ sb &* 256),
                           sums: x.sums + (t &* 2 &* x.blocksPerRow &+ sb &* 16),
                           scales: x.scales + (t &* x.blocksPerRow &+ sb &* 8))
            }
            for h in 0..<2 {
                q6KUnpackHalf(block, half: h, into: values)
                add(&t0, 0, h)
                add(&t1, 1, h)
                add(&t2, 2, h)
                add(&t3, 3, h)
            }
        }
        return (t0, t1, t2, t3)
    }
}
#endif
