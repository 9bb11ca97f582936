import Synchronization
#if arch(x86_64) && !PORTABLE_KERNELS
import _Builtin_intrinsics.intel
#endif

/// Activations quantized to 8-bit blocks for integer dot products against quantized weights.
///
/// Each row of `rowLength` floats (a multiple of 32) becomes, per 32-element block `b`:
/// ```
/// quants[row * rowLength + 32b ..< +32]   Int8, x ≈ scale * q
/// scales[row * blocks + b]                 Float, max|x| / 127 rounded to binary16 (as ggml stores it)
/// blockSums[row * blocks + b]              Float, binary16(max|x| / 127 · Σq)   (ggml's Q8_1 `s`)
/// sums[row * 2 * blocks + 2b + {0,1}]      Int16, Σ q over each 16-element half (offset and min terms)
/// lanes[row * rowLength + 32b ..< +32]    Int16, q widened and reordered for the tiled kernels (see
///                                          `fold`): the multi-token path reads these
/// offsets[row * blocks + b]               Int32, 8 · Σq: what the interleaved Q4_0 kernels take off
///                                          Σ nibble·q to get Σ (nibble − 8)·q
/// ```
/// Quantizing once per matrix input and reusing it for every weight row (and for Q, K and V, which share an
/// input) is what makes the integer kernels cheaper than dequantizing weights. The rounding follows ggml's x86
/// quantizer exactly (scale 127/max, round half to even, binary16 scale and sum), so the products match
/// llama.cpp's bit for bit wherever the kernels also sum in its order.
package struct Q8Activations {
    package let quants: UnsafeMutablePointer<Int8>
    package let scales: UnsafeMutablePointer<Float>
    package let blockSums: UnsafeMutablePointer<Float>
    package let sums: UnsafeMutablePointer<Int16>
    package let lanes: UnsafeMutablePointer<Int16>
    package let offsets: UnsafeMutablePointer<Int32>
    /// Whether `lanes` is up to date with `quants`: on x86-64 only the portable kernels of the rare formats
    /// without AVX2 kernels read it, so it is written on demand there (`prepareFoldedLanes`).
    /// Atomic: the threads quantizing row ranges all clear it.
    private let lanesCurrent: UnsafeMutablePointer<Atomic<Bool>>
    package let rowLength: Int
    package let rowCapacity: Int

    /// The number of 32-element blocks per row.
    package var blocksPerRow: Int { rowLength / 32 }

    /// Allocates storage for up to `rowCapacity` rows of `rowLength` elements.
    package init(rowLength: Int, rowCapacity: Int) {
        precondition(rowLength % 32 == 0, "activation rows must be whole 32-element blocks")
        self.rowLength = rowLength
        self.rowCapacity = rowCapacity
        quants = .allocate(capacity: max(1, rowLength * rowCapacity))
        scales = .allocate(capacity: max(1, rowLength / 32 * rowCapacity))
        blockSums = .allocate(capacity: max(1, rowLength / 32 * rowCapacity))
        sums = .allocate(capacity: max(1, rowLength / 16 * rowCapacity))
        lanes = .allocate(capacity: max(1, rowLength * rowCapacity))
        offsets = .allocate(capacity: max(1, rowLength / 32 * rowCapacity))
        lanesCurrent = .allocate(capacity: 1)
        lanesCurrent.initialize(to: Atomic(false))
    }

    /// Frees the storage. The value must not be used afterwards.
    package func deallocate() {
        quants.deallocate()
        scales.deallocate()
        blockSums.deallocate()
        sums.deallocate()
        lanes.deallocate()
        offsets.deallocate()
        lanesCurrent.deinitialize(count: 1)
        lanesCurrent.deallocate()
    }

    /// Makes `lanes` hold the folded order of the first `rows` rows, for the portable kernels. Call it before
    /// the parallel part of a product (it writes the whole rows on the calling thread when they are stale).
    package func prepareFoldedLanes(rows: Int) {
        #if arch(x86_64) && !PORTABLE_KERNELS
        guard !lanesCurrent.pointee.load(ordering: .relaxed) else { return }
        for b in 0..<(rows * blocksPerRow) { storeLaneOrder(quants + b &* 32, into: lanes + b &* 32) }
        lanesCurrent.pointee.store(true, ordering: .relaxed)
        #endif
    }

    /// Quantizes `rows` rows of `rowLength` floats from `input` (row-major) into rows `firstRow...`.
    package func quantize(_ input: UnsafePointer<Float>, rows: Int, firstRow: Int = 0) {
        precondition(firstRow + rows <= rowCapacity, "too many activation rows")
        let first = firstRow * blocksPerRow
        for i in 0..<(rows * blocksPerRow) {
            let b = first &+ i
            quantizeBlock(
                input + i &* 32, quants: quants + b &* 32, scale: scales + b, blockSum: blockSums + b,
                sums: sums + b &* 2)
            offsets[b] = 8 &* (Int32(sums[2 &* b]) &+ Int32(sums[2 &* b &+ 1]))
            #if !arch(x86_64) || PORTABLE_KERNELS
            // Always: which rows a multi-token product reads is not known here (threads quantize row ranges).
            storeLaneOrder(quants + b &* 32, into: lanes + b &* 32)
            #endif
        }
        lanesCurrent.pointee.store(false, ordering: .relaxed)
    }
}

@inline(__always)
private func quantizeBlock(
    _ x: UnsafePointer<Float>, quants: UnsafeMutablePointer<Int8>, scale: UnsafeMutablePointer<Float>,
    blockSum: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Int16>
) {
    // Safe because callers pass pointers to whole 32-element blocks.
    let raw = UnsafeRawPointer(x)
    // The maximum magnitude on the bit patterns: for floats without sign bit the integer order is the float
    // order, and integer max vectorizes (a float compare loop did not). A NaN or infinity wins and makes the
    // maximum non-finite, handled below.
    var amax = SIMD8<Int32>()
    for i in 0..<4 {
        let bits = unsafeBitCast(raw.loadUnaligned(fromByteOffset: i &* 32, as: SIMD8<Float>.self), to: SIMD8<Int32>.self)
            & 0x7FFF_FFFF
        for l in 0..<8 { amax[l] = Swift.max(amax[l], bits[l]) }
    }
    var maximumBits: Int32 = 0
    for l in 0..<8 { maximumBits = Swift.max(maximumBits, amax[l]) }
    let maximum = Float(bitPattern: UInt32(maximumBits))
    let d = maximum / 127
    // A non-finite activation (only possible from a corrupt model) must not trap the conversion below: the block
    // quantizes to zeros and keeps the non-finite scale, so the result stays visibly wrong instead of crashing.
    let inverse: Float = maximum == 0 || !maximum.isFinite ? 0 : 127 / maximum
    scale.pointee = Float(Float16(d))
    // Round half to even by adding 1.5·2^23: for |v| ≤ 2^22 the sum's low mantissa bits are then round(v), so
    // the integer is the bit pattern minus the constant's. The clamp keeps NaN products (0 · NaN) in range.
    let magic = SIMD8<Float>(repeating: 0x1.8p23)
    let magicBits = Int32(bitPattern: Float(0x1.8p23).bitPattern)
    let factor = SIMD8<Float>(repeating: inverse)
    var halves = (SIMD8<Int32>(), SIMD8<Int32>())
    #if arch(x86_64) && !PORTABLE_KERNELS
    // The same operations with vector clamps and one packed store: the element loops compiled to scalar
    // compares and byte stores here.
    @inline(__always)
    func rounded(_ i: Int) -> __m256i {
        let v = raw.loadUnaligned(fromByteOffset: i &* 32, as: SIMD8<Float>.self) * factor
        let q = unsafeBitCast(unsafeBitCast(v + magic, to: SIMD8<Int32>.self) &- magicBits, to: __m256i.self)
        return _mm256_max_epi32(_mm256_min_epi32(q, _mm256_set1_epi32(127)), _mm256_set1_epi32(-127))
    }
    let q0 = rounded(0), q1 = rounded(1), q2 = rounded(2), q3 = rounded(3)
    // packs work within 128-bit halves; the permutation puts the 32 bytes back in element order.
    let packed = _mm256_packs_epi16(_mm256_packs_epi32(q0, q1), _mm256_packs_epi32(q2, q3))
    let ordered = _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))
    UnsafeMutableRawPointer(quants).storeBytes(of: ordered, as: __m256i.self)
    halves.0 = unsafeBitCast(_mm256_add_epi32(q0, q1), to: SIMD8<Int32>.self)
    halves.1 = unsafeBitCast(_mm256_add_epi32(q2, q3), to: SIMD8<Int32>.self)
    #else
    for i in 0..<4 {
        let v = raw.loadUnaligned(fromByteOffset: i &* 32, as: SIMD8<Float>.self) * factor
        var q = unsafeBitCast(v + magic, to: SIMD8<Int32>.self) &- magicBits
        for l in 0..<8 { q[l] = Swift.max(-127, Swift.min(127, q[l])) }
        for l in 0..<8 { quants[i &* 8 &+ l] = Int8(truncatingIfNeeded: q[l]) }
        if i < 2 { halves.0 &+= q } else { halves.1 &+= q }
    }
    #endif
    var lowSum: Int32 = 0
    var highSum: Int32 = 0
    for l in 0..<8 {
        lowSum &+= halves.0[l]
        highSum &+= halves.1[l]
    }
    sums[0] = Int16(lowSum)
    sums[1] = Int16(highSum)
    blockSum.pointee = Float(Float16(d * Float(lowSum &+ highSum)))
}

/// Writes a block's 32 quants widened to Int16 in the folded order of the tiled kernels (see `fold`).
@inline(__always)
func storeLaneOrder(_ q: UnsafePointer<Int8>, into out: UnsafeMutablePointer<Int16>) {
    let (a, b) = foldBytes(UnsafeRawPointer(q))
    let o = UnsafeMutableRawPointer(out)
    o.storeBytes(of: a, as: SIMD16<Int16>.self)
    o.storeBytes(of: b, toByteOffset: 32, as: SIMD16<Int16>.self)
}
