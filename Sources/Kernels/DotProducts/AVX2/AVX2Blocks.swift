// The x86-64 integer dot products, written with the AVX2 intrinsics that clang's builtin headers declare (the
// toolchain's own `_Builtin_intrinsics` module, not a package). Swift's portable `SIMD` types never lower to
// `vpmaddubsw`, which multiplies 32 unsigned × signed byte pairs and sums neighbours into 16 Int16 in one
// instruction; the portable kernels widen to Int16 first and take three to four times the instructions
// (Decision 4). The integer sums here are the same exact integers as the portable kernels', and every float
// operation is the same operation in the same order, so results are bit-identical (`AVX2KernelTests`).
#if arch(x86_64) && !PORTABLE_KERNELS
import _Builtin_intrinsics.intel

@inline(__always)
func load256(_ p: UnsafeRawPointer, _ offset: Int = 0) -> __m256i {
    p.loadUnaligned(fromByteOffset: offset, as: __m256i.self)
}

@inline(__always)
func load128(_ p: UnsafeRawPointer, _ offset: Int = 0) -> __m128i {
    p.loadUnaligned(fromByteOffset: offset, as: __m128i.self)
}

/// The 32 four-bit values of a 16-byte payload as bytes: elements 0–15 are the low nibbles, 16–31 the high
/// ones (the element order of Q4_0, Q4_1, Q5_0, Q5_1).
@inline(__always)
func nibbleBytes(_ p: UnsafeRawPointer) -> __m256i {
    let q = load128(p)
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0F))
}

/// A byte 16 for every set bit of `qh` (bit i → element i): the fifth bit of Q5_0 and Q5_1 values.
@inline(__always)
func fifthBitBytes(_ qh: UInt32) -> __m256i {
    // Byte i takes byte i/8 of qh, keeps bit i%8, and becomes 0xFF when it is set.
    let spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32(Int32(bitPattern: qh)),
        _mm256_set_epi64x(0x0303_0303_0303_0303, 0x0202_0202_0202_0202, 0x0101_0101_0101_0101, 0))
    let bit = _mm256_set1_epi64x(Int64(bitPattern: 0x8040_2010_0804_0201))
    let set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit)
    return _mm256_and_si256(set, _mm256_set1_epi8(16))
}

/// The eight lane sums (lane k: elements 4k…4k+3) of unsigned weight bytes `w` (at most 127 each) times signed
/// activation bytes `y`, as Int32. `vpmaddubsw` pairs stay below 2·127·127, inside Int16 without saturating.
@inline(__always)
func laneSumsUnsigned(_ w: __m256i, _ y: __m256i) -> __m256i {
    _mm256_madd_epi16(_mm256_maddubs_epi16(w, y), _mm256_set1_epi16(1))
}

/// As `laneSumsUnsigned` for signed weight bytes: the sign moves onto the activations, which are never −128.
@inline(__always)
func laneSumsSigned(_ w: __m256i, _ y: __m256i) -> __m256i {
    laneSumsUnsigned(_mm256_sign_epi8(w, w), _mm256_sign_epi8(y, w))
}

/// `acc + broadcast(s) · float(lanes)`, fused, as the portable kernels' `addProduct` and ggml's `fmadd`.
@inline(__always)
func accumulate(_ acc: __m256, _ s: Float, _ lanes: __m256i) -> __m256 {
    _mm256_fmadd_ps(_mm256_set1_ps(s), _mm256_cvtepi32_ps(lanes), acc)
}

/// The full sums of eight vectors of eight Int32: lane j of the result sums all lanes of `v[j]`.
@inline(__always)
func sumsOfEight(
    _ v0: __m256i, _ v1: __m256i, _ v2: __m256i, _ v3: __m256i,
    _ v4: __m256i, _ v5: __m256i, _ v6: __m256i, _ v7: __m256i
) -> __m256i {
    let (low, high) = halfSumsOfEight(v0, v1, v2, v3, v4, v5, v6, v7)
    return _mm256_add_epi32(low, high)
}

/// For eight vectors of eight Int32, the sums of each one's low four lanes (`low`, lane j for `v[j]`) and of
/// its high four lanes (`high`): the 16-element halves of 32-element blocks.
@inline(__always)
func halfSumsOfEight(
    _ v0: __m256i, _ v1: __m256i, _ v2: __m256i, _ v3: __m256i,
    _ v4: __m256i, _ v5: __m256i, _ v6: __m256i, _ v7: __m256i
) -> (low: __m256i, high: __m256i) {
    // hadd works inside 128-bit halves: after two rounds, each half holds one four-lane sum per vector.
    let q0123 = _mm256_hadd_epi32(_mm256_hadd_epi32(v0, v1), _mm256_hadd_epi32(v2, v3))
    let q4567 = _mm256_hadd_epi32(_mm256_hadd_epi32(v4, v5), _mm256_hadd_epi32(v6, v7))
    // (`_mm256_permute2x128_si256` is a macro Swift cannot import; these halves compile to the same shuffles.)
    let a = unsafeBitCast(q0123, to: SIMD8<Int32>.self)
    let b = unsafeBitCast(q4567, to: SIMD8<Int32>.self)
    return (unsafeBitCast(SIMD8<Int32>(lowHalf: a.lowHalf, highHalf: b.lowHalf), to: __m256i.self),
            unsafeBitCast(SIMD8<Int32>(lowHalf: a.highHalf, highHalf: b.highHalf), to: __m256i.self))
}

/// Eight bytes widened to eight Int32.
@inline(__always)
func widenBytes(_ bytes: UInt64) -> __m256i {
    _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(Int64(bitPattern: bytes)))
}

/// Pairs of neighbouring Int16 added into Int32: lane j = v[2j] + v[2j+1].
@inline(__always)
func pairSums(_ v: __m256i) -> __m256i {
    _mm256_madd_epi16(v, _mm256_set1_epi16(1))
}

/// Adds the eight lanes of `terms` to `total` one at a time, in lane order: the portable kernels' scalar chain.
@inline(__always)
func addInOrder(_ total: inout Float, _ terms: SIMD8<Float>) {
    total += terms[0]
    total += terms[1]
    total += terms[2]
    total += terms[3]
    total += terms[4]
    total += terms[5]
    total += terms[6]
    total += terms[7]
}

@inline(__always)
func asFloats(_ v: __m256i) -> SIMD8<Float> { _mm256_cvtepi32_ps(v) }
#endif
