// AVX2 dot products for the 32-element block formats.
// Per block: exact Int32 lane sums (lane k = elements 4k…4k+3), converted to float and fused into a per-lane
// accumulator with the block's scale product; the lanes are reduced at the end by `reduceLanes`. This is the
// arithmetic of the portable kernels in `QuantizedDot32.swift`, instruction for instruction after the integer
// part, so results are bit-identical to them.
#if arch(x86_64) && !PORTABLE_KERNELS
import _Builtin_intrinsics.intel
import Prefetch

/// A 32-element block format as the AVX2 kernels see it.
protocol AVX2Block32 {
    /// Bytes per block.
    static var byteCount: Int { get }
    /// Whether the format has a minimum (`m · Σ activations`) term.
    static var hasMinimum: Bool { get }
    /// Whether the weight bytes are signed (else they are 0…31).
    static var isSigned: Bool { get }
    /// The block's 32 weights as bytes, in element order.
    static func weights(_ block: UnsafeRawPointer) -> __m256i
}

extension AVX2Block32 {
    /// The block's eight Int32 lane sums against activation bytes `y`.
    @inline(__always)
    static func laneSums(_ block: UnsafeRawPointer, _ y: __m256i) -> __m256i {
        isSigned ? laneSumsSigned(weights(block), y) : laneSumsUnsigned(weights(block), y)
    }
}

enum AVX2Q4_1: AVX2Block32 {
    static var byteCount: Int { 20 }
    static var hasMinimum: Bool { true }
    static var isSigned: Bool { false }
    @inline(__always)
    static func weights(_ block: UnsafeRawPointer) -> __m256i { nibbleBytes(block + 4) }
}

enum AVX2Q5_0: AVX2Block32 {
    static var byteCount: Int { 22 }
    static var hasMinimum: Bool { false }
    static var isSigned: Bool { true }
    @inline(__always)
    static func weights(_ block: UnsafeRawPointer) -> __m256i {
        let high = fifthBitBytes(block.loadUnaligned(fromByteOffset: 2, as: UInt32.self).littleEndian)
        return _mm256_sub_epi8(_mm256_or_si256(nibbleBytes(block + 6), high), _mm256_set1_epi8(16))
    }
}

enum AVX2Q5_1: AVX2Block32 {
    static var byteCount: Int { 24 }
    static var hasMinimum: Bool { true }
    static var isSigned: Bool { false }
    @inline(__always)
    static func weights(_ block: UnsafeRawPointer) -> __m256i {
        let high = fifthBitBytes(block.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian)
        return _mm256_or_si256(nibbleBytes(block + 8), high)
    }
}

enum AVX2Q8_0: AVX2Block32 {
    static var byteCount: Int { 34 }
    static var hasMinimum: Bool { false }
    static var isSigned: Bool { true }
    @inline(__always)
    static func weights(_ block: UnsafeRawPointer) -> __m256i { load256(block, 2) }
}

/// The binary16 pair at the start of a block (d, then m) as floats in lanes 0 and 1.
@inline(__always)
func scaleAndMinimum(_ block: UnsafeRawPointer) -> SIMD4<Float> {
    _mm_cvtph_ps(_mm_cvtsi32_si128(Int32(bitPattern: block.loadUnaligned(as: UInt32.self))))
}

/// One row · one row of activations.
@inline(__always)
func dotAVX2<F: AVX2Block32>(_: F.Type, _ w: UnsafeRawPointer, _ x: Q8RowView, blocks: Int) -> Float {
    var acc = SIMD8<Float>()
    var minimums: Float = 0
    var first = 0
    if !F.hasMinimum {
        // Two blocks' scales converted and multiplied at once: built in a general register and moved whole,
        // the conversion cannot merge into a live vector register (see `scale`).
        while first &+ 1 < blocks {
            let block0 = w + first &* F.byteCount
            let block1 = block0 + F.byteCount
            prefetch(block0 + 1024)
            let bits = UInt32(block0.loadUnaligned(as: UInt16.self)) | UInt32(block1.loadUnaligned(as: UInt16.self)) &<< 16
            let scales = _mm_cvtph_ps(_mm_cvtsi32_si128(Int32(bitPattern: bits)))
                * SIMD4<Float>(x.scales[first], x.scales[first &+ 1], 0, 0)
            acc = accumulate(acc, scales[0], F.laneSums(block0, load256(x.quants, first &* 32)))
            acc = accumulate(acc, scales[1], F.laneSums(block1, load256(x.quants, first &* 32 &+ 32)))
            first &+= 2
        }
    }
    for b in first..<blocks {
        let block = w + b &* F.byteCount
        if F.hasMinimum { prefetch(block + 1024) }
        let y = load256(x.quants, b &* 32)
        if F.hasMinimum {
            // d and m are neighbours: one conversion and one multiply give d·scale and m·blockSum together.
            let products = scaleAndMinimum(block) * SIMD4<Float>(x.scales[b], x.blockSums[b], 0, 0)
            minimums += products[1]
            acc = accumulate(acc, products[0], F.laneSums(block, y))
        } else {
            acc = accumulate(acc, scale(block, 0) * x.scales[b], F.laneSums(block, y))
        }
    }
    return F.hasMinimum ? reduceLanes(acc) + minimums : reduceLanes(acc)
}

/// A row-major Q4_0 row · one token in Q4_0's block-sum order (`dotQ4_0`), for matrices left in the file's
/// layout (`repack_weights` off); interleaved matrices take `AVX2Interleaved.swift`. Eight blocks' lane sums
/// are reduced together to one Int32 per block, then fused into the total one block at a time, in order.
@inline(__always)
func dotQ4_0RowAVX2(_ w: UnsafeRawPointer, _ x: Q8RowView, blocks: Int) -> Float {
    var acc: Float = 0
    let quants = UnsafeRawPointer(x.quants)
    @inline(__always)
    func lanes(_ b: Int) -> __m256i {
        laneSumsUnsigned(nibbleBytes(w + (b &* 18 &+ 2)), load256(quants, b &* 32))
    }
    var b = 0
    while b &+ 8 <= blocks {
        prefetch(w + (b &* 18 &+ 1024))
        prefetch(w + (b &* 18 &+ 1088))
        prefetch(w + (b &* 18 &+ 1152))
        let sums = sumsOfEight(lanes(b), lanes(b &+ 1), lanes(b &+ 2), lanes(b &+ 3),
                               lanes(b &+ 4), lanes(b &+ 5), lanes(b &+ 6), lanes(b &+ 7))
        let totals = asFloats(_mm256_sub_epi32(sums, load256(UnsafeRawPointer(x.offsets), b &* 4)))
        var d = SIMD8<Float>()
        for k in 0..<8 { d[k] = scale(w, (b &+ k) &* 18) }
        let products = d * UnsafeRawPointer(x.scales).loadUnaligned(fromByteOffset: b &* 4, as: SIMD8<Float>.self)
        for k in 0..<8 { acc.addProduct(totals[k], products[k]) }
        b &+= 8
    }
    while b < blocks {
        let total = unsafeBitCast(lanes(b), to: SIMD8<Int32>.self).wrappedSum() &- x.offsets[b]
        acc.addProduct(Float(total), scale(w, b &* 18) * x.scales[b])
        b &+= 1
    }
    return acc
}

/// Whether `format` has an AVX2 kernel for row-major matrices (Q4_0's interleaved ones: `AVX2Interleaved.swift`).
func hasNativeKernel(_ format: WeightFormat) -> Bool {
    switch format {
    case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K: true
    default: false
    }
}

/// Whether `weights` has an AVX2 kernel.
func hasNativeKernel(_ weights: MatrixView) -> Bool {
    weights.layout == .interleaved8 || hasNativeKernel(weights.format)
}

/// `output[r] = weights.row(r) · x` for `rows`, the format dispatched once for all of them: per-row dispatch
/// was 7 % of a decode step on the default model, whose rows are only 18 blocks long.
func multiplyRowsAVX2(_ weights: MatrixView, _ x: Q8RowView, rows: Range<Int>, into output: UnsafeMutablePointer<Float>) {
    let blocks = weights.columns / 32
    @inline(__always)
    func each(_ body: (UnsafeRawPointer) -> Float) {
        for r in rows { output[r] = body(weights.row(r)) }
    }
    if weights.layout == .interleaved8 {
        multiplyInterleavedAVX2(weights, x, rows: rows, into: output)
        return
    }
    switch weights.format {
    case .q4_0: each { dotQ4_0RowAVX2($0, x, blocks: blocks) }
    case .q4_1: each { dotAVX2(AVX2Q4_1.self, $0, x, blocks: blocks) }
    case .q5_0: each { dotAVX2(AVX2Q5_0.self, $0, x, blocks: blocks) }
    case .q5_1: each { dotAVX2(AVX2Q5_1.self, $0, x, blocks: blocks) }
    case .q8_0: each { dotAVX2(AVX2Q8_0.self, $0, x, blocks: blocks) }
    case .q4_K: each { dotQ4_KAVX2($0, x, superBlocks: blocks / 8) }
    case .q5_K: each { dotQ5_KAVX2($0, x, superBlocks: blocks / 8) }
    case .q6_K: each { dotQ6_KAVX2($0, x, superBlocks: blocks / 8) }
    default: each { dotPortable(weights.format, $0, x, columns: weights.columns) }
    }
}

/// One quantized row · one activation row, dispatched once per row.
func dotAVX2(_ format: WeightFormat, _ row: UnsafeRawPointer, _ x: Q8RowView, columns: Int) -> Float {
    switch format {
    case .q4_0: dotQ4_0RowAVX2(row, x, blocks: columns / 32)
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
#else
func hasNativeKernel(_ format: WeightFormat) -> Bool { false }
func hasNativeKernel(_ weights: MatrixView) -> Bool { false }
#endif
