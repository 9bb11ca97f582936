// AVX2 dot products for the 32-element block formats: one row, and two rows sharing the activation loads.
// Per block: exact Int32 lane sums (lane k = elements 4k…4k+3), converted to float and fused into a per-lane
// accumulator with the block's scale product; the lanes are reduced at the end by `reduceLanes`. This is the
// arithmetic of the portable kernels in `QuantizedDot32.swift`, instruction for instruction after the integer
// part, so results are bit-identical to them.
#if arch(x86_64)
import _Builtin_intrinsics.intel

/// A 32-element block format as the AVX2 kernels see it.
protocol AVX2Block32 {
    /// Bytes per block.
    static var byteCount: Int { get }
    /// Whether the format has a minimum (`m · Σ activations`) term.
    static var hasMinimum: Bool { get }
    /// The block's eight Int32 lane sums against activation bytes `y`.
    static func laneSums(_ block: UnsafeRawPointer, _ y: __m256i) -> __m256i
}

enum AVX2Q4_0: AVX2Block32 {
    static var byteCount: Int { 18 }
    static var hasMinimum: Bool { false }
    @inline(__always)
    static func laneSums(_ block: UnsafeRawPointer, _ y: __m256i) -> __m256i {
        laneSumsSigned(_mm256_sub_epi8(nibbleBytes(block + 2), _mm256_set1_epi8(8)), y)
    }
}

enum AVX2Q4_1: AVX2Block32 {
    static var byteCount: Int { 20 }
    static var hasMinimum: Bool { true }
    @inline(__always)
    static func laneSums(_ block: UnsafeRawPointer, _ y: __m256i) -> __m256i {
        laneSumsUnsigned(nibbleBytes(block + 4), y)
    }
}

enum AVX2Q5_0: AVX2Block32 {
    static var byteCount: Int { 22 }
    static var hasMinimum: Bool { false }
    @inline(__always)
    static func laneSums(_ block: UnsafeRawPointer, _ y: __m256i) -> __m256i {
        let high = fifthBitBytes(block.loadUnaligned(fromByteOffset: 2, as: UInt32.self).littleEndian)
        let w = _mm256_sub_epi8(_mm256_or_si256(nibbleBytes(block + 6), high), _mm256_set1_epi8(16))
        return laneSumsSigned(w, y)
    }
}

enum AVX2Q5_1: AVX2Block32 {
    static var byteCount: Int { 24 }
    static var hasMinimum: Bool { true }
    @inline(__always)
    static func laneSums(_ block: UnsafeRawPointer, _ y: __m256i) -> __m256i {
        let high = fifthBitBytes(block.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian)
        return laneSumsUnsigned(_mm256_or_si256(nibbleBytes(block + 8), high), y)
    }
}

enum AVX2Q8_0: AVX2Block32 {
    static var byteCount: Int { 34 }
    static var hasMinimum: Bool { false }
    @inline(__always)
    static func laneSums(_ block: UnsafeRawPointer, _ y: __m256i) -> __m256i {
        laneSumsSigned(load256(block, 2), y)
    }
}

/// One row · one row of activations.
@inline(__always)
func dotAVX2<F: AVX2Block32>(_: F.Type, _ w: UnsafeRawPointer, _ x: Q8RowView, blocks: Int) -> Float {
    var acc = SIMD8<Float>()
    var minimums: Float = 0
    for b in 0..<blocks {
        let block = w + b &* F.byteCount
        let y = load256(x.quants, b &* 32)
        if F.hasMinimum { minimums += scale(block, 2) * x.blockSums[b] }
        acc = accumulate(acc, scale(block, 0) * x.scales[b], F.laneSums(block, y))
    }
    return F.hasMinimum ? reduceLanes(acc) + minimums : reduceLanes(acc)
}

/// Two rows · one row of activations: the same arithmetic per row as `dotAVX2`, two chains in flight.
@inline(__always)
func dotPairAVX2<F: AVX2Block32>(
    _: F.Type, _ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ x: Q8RowView, blocks: Int
) -> (Float, Float) {
    var acc0 = SIMD8<Float>()
    var acc1 = SIMD8<Float>()
    var minimums0: Float = 0
    var minimums1: Float = 0
    for b in 0..<blocks {
        let block0 = w0 + b &* F.byteCount
        let block1 = w1 + b &* F.byteCount
        let y = load256(x.quants, b &* 32)
        if F.hasMinimum {
            minimums0 += scale(block0, 2) * x.blockSums[b]
            minimums1 += scale(block1, 2) * x.blockSums[b]
        }
        let xs = x.scales[b]
        acc0 = accumulate(acc0, scale(block0, 0) * xs, F.laneSums(block0, y))
        acc1 = accumulate(acc1, scale(block1, 0) * xs, F.laneSums(block1, y))
    }
    if F.hasMinimum { return (reduceLanes(acc0) + minimums0, reduceLanes(acc1) + minimums1) }
    return (reduceLanes(acc0), reduceLanes(acc1))
}
#endif

#if arch(x86_64)
/// One quantized row · one activation row, dispatched once per row.
func dotAVX2(_ format: WeightFormat, _ row: UnsafeRawPointer, _ x: Q8RowView, columns: Int) -> Float {
    switch format {
    case .q4_0: dotAVX2(AVX2Q4_0.self, row, x, blocks: columns / 32)
    case .q4_1: dotAVX2(AVX2Q4_1.self, row, x, blocks: columns / 32)
    case .q5_0: dotAVX2(AVX2Q5_0.self, row, x, blocks: columns / 32)
    case .q5_1: dotAVX2(AVX2Q5_1.self, row, x, blocks: columns / 32)
    case .q8_0: dotAVX2(AVX2Q8_0.self, row, x, blocks: columns / 32)
    case .q4_K: dotQ4_KAVX2(row, x, superBlocks: columns / 256)
    case .q5_K: dotQ5_KAVX2(row, x, superBlocks: columns / 256)
    case .q6_K: dotQ6_KAVX2(row, x, superBlocks: columns / 256)
    default: dotPortable(format, row, x, columns: columns)
    }
}

/// Two quantized rows · one activation row (`blocks` counts 32-element blocks), for the `hasPairKernel` formats.
func dotPairAVX2(_ format: WeightFormat, _ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ x: Q8RowView, blocks: Int) -> (Float, Float) {
    switch format {
    case .q4_0: dotPairAVX2(AVX2Q4_0.self, w0, w1, x, blocks: blocks)
    case .q4_1: dotPairAVX2(AVX2Q4_1.self, w0, w1, x, blocks: blocks)
    case .q5_0: dotPairAVX2(AVX2Q5_0.self, w0, w1, x, blocks: blocks)
    case .q5_1: dotPairAVX2(AVX2Q5_1.self, w0, w1, x, blocks: blocks)
    case .q8_0: dotPairAVX2(AVX2Q8_0.self, w0, w1, x, blocks: blocks)
    case .q4_K: dotPairQ4_KAVX2(w0, w1, x, superBlocks: blocks / 8)
    case .q5_K: dotPairQ5_KAVX2(w0, w1, x, superBlocks: blocks / 8)
    case .q6_K: dotPairQ6_KAVX2(w0, w1, x, superBlocks: blocks / 8)
    default: dotPairPortable(format, w0, w1, x, blocks: blocks)
    }
}
#endif
