// AVX2 dot products for Q4_K, Q5_K and Q6_K rows. Per super-block, the exact integer sums of all sub-blocks
// come out of `vpmaddubsw` at once; the float terms are then formed eight at a time with the same operations as
// the portable kernels of `QuantizedDotK.swift` (products and differences, never fused) and added to the
// running total one by one in sub-block order, so results are bit-identical to them.
#if arch(x86_64)
import _Builtin_intrinsics.intel

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

/// Adds one Q4_K/Q5_K super-block's eight sub-block terms to `total`, given its integer dots.
@inline(__always)
func addScaleMinTermsAVX2(
    _ total: inout Float, block: UnsafeRawPointer, dots: __m256i, activations: (scales: SIMD8<Float>, sums: __m256i)
) {
    let d = broadcastHalf(block, 0)
    let dmin = broadcastHalf(block, 2)
    let (scales, minimums) = scalesAndMinimums(block + 4)
    let da = activations.scales
    // As `addScaleMinTerms`: d · da · Float(sc · dot) − dmin · da · Float(m · s), left to right.
    let terms = d * da * asFloats(_mm256_mullo_epi32(scales, dots))
        - dmin * da * asFloats(_mm256_mullo_epi32(minimums, activations.sums))
    addInOrder(&total, terms)
}

/// The eight sub-block dots of a Q4_K super-block (128 bytes of nibbles at `qs`) with activation bytes `a`.
@inline(__always)
func q4KDots(_ qs: UnsafeRawPointer, _ a: UnsafeRawPointer) -> __m256i {
    let mask = _mm256_set1_epi8(0x0F)
    let q0 = load256(qs, 0), q1 = load256(qs, 32), q2 = load256(qs, 64), q3 = load256(qs, 96)
    let d0 = laneSumsUnsigned(_mm256_and_si256(q0, mask), load256(a, 0))
    let d1 = laneSumsUnsigned(_mm256_and_si256(_mm256_srli_epi16(q0, 4), mask), load256(a, 32))
    let d2 = laneSumsUnsigned(_mm256_and_si256(q1, mask), load256(a, 64))
    let d3 = laneSumsUnsigned(_mm256_and_si256(_mm256_srli_epi16(q1, 4), mask), load256(a, 96))
    let d4 = laneSumsUnsigned(_mm256_and_si256(q2, mask), load256(a, 128))
    let d5 = laneSumsUnsigned(_mm256_and_si256(_mm256_srli_epi16(q2, 4), mask), load256(a, 160))
    let d6 = laneSumsUnsigned(_mm256_and_si256(q3, mask), load256(a, 192))
    let d7 = laneSumsUnsigned(_mm256_and_si256(_mm256_srli_epi16(q3, 4), mask), load256(a, 224))
    return sumsOfEight(d0, d1, d2, d3, d4, d5, d6, d7)
}

/// As `q4KDots` for Q5_K: `qh` (32 bytes) adds bit j of byte i as 16 to element i of sub-block j.
@inline(__always)
func q5KDots(_ qs: UnsafeRawPointer, _ qh: UnsafeRawPointer, _ a: UnsafeRawPointer) -> __m256i {
    let mask = _mm256_set1_epi8(0x0F)
    let sixteen = _mm256_set1_epi8(16)
    let high = load256(qh)
    @inline(__always)
    func fifth(_ j: Int32) -> __m256i {
        // Bit j of each byte moved to bit 4: shift the 16-bit lanes, then keep only bit 4 of each byte.
        let shifted = j <= 4 ? _mm256_slli_epi16(high, 4 &- j) : _mm256_srli_epi16(high, j &- 4)
        return _mm256_and_si256(shifted, sixteen)
    }
    @inline(__always)
    func dots(_ q: __m256i, _ j: Int32, _ offset: Int) -> (__m256i, __m256i) {
        let low = _mm256_or_si256(_mm256_and_si256(q, mask), fifth(j))
        let up = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), mask), fifth(j &+ 1))
        return (laneSumsUnsigned(low, load256(a, offset)), laneSumsUnsigned(up, load256(a, offset &+ 32)))
    }
    let (d0, d1) = dots(load256(qs, 0), 0, 0)
    let (d2, d3) = dots(load256(qs, 32), 2, 64)
    let (d4, d5) = dots(load256(qs, 64), 4, 128)
    let (d6, d7) = dots(load256(qs, 96), 6, 192)
    return sumsOfEight(d0, d1, d2, d3, d4, d5, d6, d7)
}

/// Q4_K row · Q8 activations, bit-identical to `dotQ4_K`.
@inline(__always)
func dotQ4_KAVX2(_ w: UnsafeRawPointer, _ x: Q8RowView, superBlocks: Int) -> Float {
    var total: Float = 0
    for sb in 0..<superBlocks {
        let block = w + sb &* 144
        let dots = q4KDots(block + 16, UnsafeRawPointer(x.quants) + sb &* 256)
        addScaleMinTermsAVX2(&total, block: block, dots: dots, activations: activationTerms(x, superBlock: sb))
    }
    return total
}

/// Q5_K row · Q8 activations, bit-identical to `dotQ5_K`.
@inline(__always)
func dotQ5_KAVX2(_ w: UnsafeRawPointer, _ x: Q8RowView, superBlocks: Int) -> Float {
    var total: Float = 0
    for sb in 0..<superBlocks {
        let block = w + sb &* 176
        let dots = q5KDots(block + 48, block + 16, UnsafeRawPointer(x.quants) + sb &* 256)
        addScaleMinTermsAVX2(&total, block: block, dots: dots, activations: activationTerms(x, superBlock: sb))
    }
    return total
}

/// The integer part of a Q6_K super-block: per activation block j, `sc[2j] · (dot0 − 32·s0) + sc[2j+1] ·
/// (dot1 − 32·s1)` over its two 16-element halves, as in `dotQ6_K`.
@inline(__always)
func q6KCombined(_ block: UnsafeRawPointer, _ a: UnsafeRawPointer, sums: __m256i) -> __m256i {
    let mask = _mm256_set1_epi8(0x0F)
    let three = _mm256_set1_epi8(3)
    @inline(__always)
    func values(_ low: __m256i, _ high: __m256i, _ lowShift: Int32, _ highShift: Int32) -> __m256i {
        let l = _mm256_and_si256(lowShift == 0 ? low : _mm256_srli_epi16(low, lowShift), mask)
        let h = _mm256_and_si256(highShift == 0 ? high : _mm256_srli_epi16(high, highShift), three)
        return _mm256_or_si256(l, _mm256_slli_epi16(h, 4))
    }
    let l0 = load256(block, 0), l1 = load256(block, 32), h0 = load256(block, 128)
    let l2 = load256(block, 64), l3 = load256(block, 96), h1 = load256(block, 160)
    let d0 = laneSumsUnsigned(values(l0, h0, 0, 0), load256(a, 0))
    let d1 = laneSumsUnsigned(values(l1, h0, 0, 2), load256(a, 32))
    let d2 = laneSumsUnsigned(values(l0, h0, 4, 4), load256(a, 64))
    let d3 = laneSumsUnsigned(values(l1, h0, 4, 6), load256(a, 96))
    let d4 = laneSumsUnsigned(values(l2, h1, 0, 0), load256(a, 128))
    let d5 = laneSumsUnsigned(values(l3, h1, 0, 2), load256(a, 160))
    let d6 = laneSumsUnsigned(values(l2, h1, 4, 4), load256(a, 192))
    let d7 = laneSumsUnsigned(values(l3, h1, 4, 6), load256(a, 224))
    let (dot0, dot1) = halfSumsOfEight(d0, d1, d2, d3, d4, d5, d6, d7)
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
        let a = UnsafeRawPointer(x.quants) + sb &* 256
        let sums = load256(UnsafeRawPointer(x.sums), sb &* 32)
        let da = UnsafeRawPointer(x.scales).loadUnaligned(fromByteOffset: sb &* 32, as: SIMD8<Float>.self)
        let combined = q6KCombined(block, a, sums: sums)
        addInOrder(&total, broadcastHalf(block, 208) * da * asFloats(combined))
    }
    return total
}

#endif
