// AVX2 dot products for Q4_K, Q5_K and Q6_K rows. Per super-block, the exact integer sums of all sub-blocks
// come out of `vpmaddubsw` at once; the float terms are then formed eight at a time with the same operations as
// the portable kernels of `QuantizedDotK.swift` (products and differences, never fused) and added to the
// running total one by one in sub-block order, so results are bit-identical to them.
#if arch(x86_64) && !PORTABLE_KERNELS
import _Builtin_intrinsics.intel
import Prefetch

/// The binary16 at `offset` as a float in all eight lanes: broadcast as bits, then converted, so that no
/// conversion merges into a live register (see `scale`).
@inline(__always)
func broadcastHalf(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD8<Float> {
    _mm256_cvtph_ps(_mm_set1_epi16(Int16(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
}

/// The eight 6-bit scales and eight 6-bit minimums of a Q4_K/Q5_K super-block (12 bytes at `s`), as Int32.
@inline(__always)
func scalesAndMinimums(_ s: UnsafeRawPointer) -> (scales: __m256i, minimums: __m256i) {
    // Sub-blocks 0–3 keep the low six bits of bytes 0–3 (scales) and 4–7 (minimums); 4–7 take a nibble of
    // bytes 8–11 and, as bits 4–5, the top two bits of bytes 0–3 (scales) or 4–7 (minimums).
    let u0 = s.loadUnaligned(as: UInt32.self).littleEndian
    let u1 = s.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian
    let u2 = s.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian
    let scalesLow = u0 & 0x3F3F_3F3F
    let minimumsLow = u1 & 0x3F3F_3F3F
    let scalesHigh = (u2 & 0x0F0F_0F0F) | ((u0 &>> 6) & 0x0303_0303) &<< 4
    let minimumsHigh = ((u2 &>> 4) & 0x0F0F_0F0F) | ((u1 &>> 6) & 0x0303_0303) &<< 4
    return (widenBytes(UInt64(scalesLow) | UInt64(scalesHigh) &<< 32),
            widenBytes(UInt64(minimumsLow) | UInt64(minimumsHigh) &<< 32))
}

/// Per activation block j of super-block `sb`: its float scale, and its Int32 element sum.
@inline(__always)
func activationTerms(_ x: Q8RowView, superBlock sb: Int) -> (scales: SIMD8<Float>, sums: __m256i) {
    let scales = UnsafeRawPointer(x.scales).loadUnaligned(fromByteOffset: sb &* 32, as: SIMD8<Float>.self)
    return (scales, pairSums(load256(UnsafeRawPointer(x.sums), sb &* 32)))
}

/// One Q4_K/Q5_K super-block's eight sub-block terms, given its integer dots: what the portable kernel adds to
/// its total one by one.
@inline(__always)
func scaleMinTerms(block: UnsafeRawPointer, dots: __m256i, activations: (scales: SIMD8<Float>, sums: __m256i)) -> SIMD8<Float> {
    let d = broadcastHalf(block, 0)
    let dmin = broadcastHalf(block, 2)
    let (scales, minimums) = scalesAndMinimums(block + 4)
    let da = activations.scales
    // As `addScaleMinTerms`: d · da · Float(sc · dot) − dmin · da · Float(m · s), left to right.
    return d * da * asFloats(_mm256_mullo_epi32(scales, dots))
        - dmin * da * asFloats(_mm256_mullo_epi32(minimums, activations.sums))
}

/// The low and high nibbles of 32 bytes, as bytes (0–15).
@inline(__always)
func splitNibbles(_ q: __m256i) -> (low: __m256i, high: __m256i) {
    let mask = _mm256_set1_epi8(0x0F)
    return (_mm256_and_si256(q, mask), _mm256_and_si256(_mm256_srli_epi16(q, 4), mask))
}

/// Q5_K's fifth bits for sub-blocks 2·pair and 2·pair + 1 from 32 `qh` bytes (bit j of byte i belongs to element i
/// of sub-block j), as 16 or 0 in each byte.
@inline(__always)
func fifthBits(_ bits: __m256i, pair: Int) -> (__m256i, __m256i) {
    let sixteen = _mm256_set1_epi8(16)
    // Bits 2·pair and 2·pair + 1 moved to bit 4 of their byte: shift the 16-bit lanes, keep only bit 4 of each
    // byte (what crosses a byte boundary never lands on bit 4).
    let j = Int32(pair &* 2)
    let fifth0 = j <= 4 ? _mm256_slli_epi16(bits, 4 &- j) : _mm256_srli_epi16(bits, j &- 4)
    let fifth1 = j &+ 1 <= 4 ? _mm256_slli_epi16(bits, 3 &- j) : _mm256_srli_epi16(bits, j &- 3)
    return (_mm256_and_si256(fifth0, sixteen), _mm256_and_si256(fifth1, sixteen))
}

/// The weight bytes of Q4_K sub-blocks 2·pair (low nibbles) and 2·pair + 1 (high nibbles).
@inline(__always)
func q4KWeights(_ qs: UnsafeRawPointer, pair: Int) -> (__m256i, __m256i) {
    splitNibbles(load256(qs, pair &* 32))
}

/// As `q4KWeights` for Q5_K: bit j of `qh` byte i adds 16 to element i of sub-block j.
@inline(__always)
func q5KWeights(_ qs: UnsafeRawPointer, _ qh: UnsafeRawPointer, pair: Int) -> (__m256i, __m256i) {
    let (low, high) = q4KWeights(qs, pair: pair)
    let (fifth0, fifth1) = fifthBits(load256(qh), pair: pair)
    return (_mm256_or_si256(low, fifth0), _mm256_or_si256(high, fifth1))
}

/// The eight sub-block dots of a Q4_K/Q5_K super-block with activation bytes `a`, given its weight bytes.
@inline(__always)
func kDots(_ a: UnsafeRawPointer, _ weights: (Int) -> (__m256i, __m256i)) -> __m256i {
    let (w0, w1) = weights(0), (w2, w3) = weights(1), (w4, w5) = weights(2), (w6, w7) = weights(3)
    return sumsOfEight(
        laneSumsUnsigned(w0, load256(a, 0)), laneSumsUnsigned(w1, load256(a, 32)),
        laneSumsUnsigned(w2, load256(a, 64)), laneSumsUnsigned(w3, load256(a, 96)),
        laneSumsUnsigned(w4, load256(a, 128)), laneSumsUnsigned(w5, load256(a, 160)),
        laneSumsUnsigned(w6, load256(a, 192)), laneSumsUnsigned(w7, load256(a, 224)))
}

/// A Q4_K or Q5_K row (super-blocks of `byteCount` bytes) · Q8 activations, bit-identical to the portable
/// `dotQ4_K` and `dotQ5_K`: the formats differ only in where a super-block's weight bytes come from
/// (`weights(block, pair)`, as `q4KWeights` or `q5KWeights`).
@inline(__always)
func dotScaleMinKAVX2(
    _ w: UnsafeRawPointer, _ x: Q8RowView, superBlocks: Int, byteCount: Int,
    weights: (UnsafeRawPointer, Int) -> (__m256i, __m256i)
) -> Float {
    var total: Float = 0
    for sb in 0..<superBlocks {
        let block = w + sb &* byteCount
        prefetch(block + 1152)
        prefetch(block + 1216)
        prefetch(block + 1280)
        let dots = kDots(UnsafeRawPointer(x.quants) + sb &* 256) { weights(block, $0) }
        addInOrder(&total, scaleMinTerms(block: block, dots: dots, activations: activationTerms(x, superBlock: sb)))
    }
    return total
}

/// Q4_K row · Q8 activations.
@inline(__always)
func dotQ4_KAVX2(_ w: UnsafeRawPointer, _ x: Q8RowView, superBlocks: Int) -> Float {
    dotScaleMinKAVX2(w, x, superBlocks: superBlocks, byteCount: 144) { q4KWeights($0 + 16, pair: $1) }
}

/// Q5_K row · Q8 activations.
@inline(__always)
func dotQ5_KAVX2(_ w: UnsafeRawPointer, _ x: Q8RowView, superBlocks: Int) -> Float {
    dotScaleMinKAVX2(w, x, superBlocks: superBlocks, byteCount: 176) { q5KWeights($0 + 48, $0 + 16, pair: $1) }
}

/// The 6-bit values of a Q6_K super-block as bytes (0–63), one vector per activation block (32 elements).
struct Q6KValues {
    let v0, v1, v2, v3, v4, v5, v6, v7: __m256i
}

@inline(__always)
func q6KValues(_ block: UnsafeRawPointer) -> Q6KValues {
    let mask = _mm256_set1_epi8(0x0F)
    let three = _mm256_set1_epi8(3)
    // Group g of half h: low nibble (g < 2) or high nibble of ql[64h + 32(g % 2) ..< +32], bits 2g…2g+1 of
    // qh[32h ..< +32] on top.
    @inline(__always)
    func values(_ low: __m256i, _ high: __m256i, _ lowShift: Int32, _ highShift: Int32) -> __m256i {
        let l = _mm256_and_si256(lowShift == 0 ? low : _mm256_srli_epi16(low, lowShift), mask)
        let h = _mm256_and_si256(highShift == 0 ? high : _mm256_srli_epi16(high, highShift), three)
        return _mm256_or_si256(l, _mm256_slli_epi16(h, 4))
    }
    let l0 = load256(block, 0), l1 = load256(block, 32), h0 = load256(block, 128)
    let l2 = load256(block, 64), l3 = load256(block, 96), h1 = load256(block, 160)
    return Q6KValues(
        v0: values(l0, h0, 0, 0), v1: values(l1, h0, 0, 2), v2: values(l0, h0, 4, 4), v3: values(l1, h0, 4, 6),
        v4: values(l2, h1, 0, 0), v5: values(l3, h1, 0, 2), v6: values(l2, h1, 4, 4), v7: values(l3, h1, 4, 6))
}

/// The integer part of a Q6_K super-block: per activation block j, `sc[2j] · (dot0 − 32·s0) + sc[2j+1] ·
/// (dot1 − 32·s1)` over its two 16-element halves, as in `dotQ6_K`.
@inline(__always)
func q6KCombined(_ block: UnsafeRawPointer, _ v: Q6KValues, _ a: UnsafeRawPointer, sums: __m256i) -> __m256i {
    let (dot0, dot1) = halfSumsOfEight(
        laneSumsUnsigned(v.v0, load256(a, 0)), laneSumsUnsigned(v.v1, load256(a, 32)),
        laneSumsUnsigned(v.v2, load256(a, 64)), laneSumsUnsigned(v.v3, load256(a, 96)),
        laneSumsUnsigned(v.v4, load256(a, 128)), laneSumsUnsigned(v.v5, load256(a, 160)),
        laneSumsUnsigned(v.v6, load256(a, 192)), laneSumsUnsigned(v.v7, load256(a, 224)))
    // Scales (Int8) and activation half sums (Int16) split into even (first half) and odd (second half) entries.
    let scales16 = _mm256_cvtepi8_epi16(load128(block, 192))
    let even = _mm256_set1_epi32(0x0000_0001)
    let odd = _mm256_set1_epi32(0x0001_0000)
    let scale0 = _mm256_madd_epi16(scales16, even)
    let scale1 = _mm256_madd_epi16(scales16, odd)
    let s0 = _mm256_madd_epi16(sums, even)
    let s1 = _mm256_madd_epi16(sums, odd)
    let part0 = _mm256_mullo_epi32(scale0, _mm256_sub_epi32(dot0, _mm256_slli_epi32(s0, 5)))
    let part1 = _mm256_mullo_epi32(scale1, _mm256_sub_epi32(dot1, _mm256_slli_epi32(s1, 5)))
    return _mm256_add_epi32(part0, part1)
}

/// Q6_K row · Q8 activations, bit-identical to `dotQ6_K`.
@inline(__always)
func dotQ6_KAVX2(_ w: UnsafeRawPointer, _ x: Q8RowView, superBlocks: Int) -> Float {
    var total: Float = 0
    for sb in 0..<superBlocks {
        let block = w + sb &* 210
        prefetch(block + 1152)
        prefetch(block + 1216)
        prefetch(block + 1280)
        prefetch(block + 1344)
        let a = UnsafeRawPointer(x.quants) + sb &* 256
        let sums = load256(UnsafeRawPointer(x.sums), sb &* 32)
        let da = UnsafeRawPointer(x.scales).loadUnaligned(fromByteOffset: sb &* 32, as: SIMD8<Float>.self)
        let combined = q6KCombined(block, q6KValues(block), a, sums: sums)
        addInOrder(&total, broadcastHalf(block, 208) * da * asFloats(combined))
    }
    return total
}

#endif
