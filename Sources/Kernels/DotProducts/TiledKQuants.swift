// The multi-token path for the K-quant formats (Q2_K…Q6_K), on the same plan as `TiledProducts.swift`: each
// row is unpacked once per token tile into Int16 weights in lane order (one 32-element block per activation
// block) plus the few scale numbers each block needs, then every token reuses it. The float expressions are
// written exactly as in the one-token kernels of `QuantizedDotK.swift` (same operands, same order), and the
// integer sums are exact, so each token's result is bit-identical whichever path computed it.

/// Per-block data of an unpacked K-quant row, following the block's 64 bytes of weights.
struct UnpackedKRow {
    let memory: UnsafeMutableRawPointer
    /// Bytes per block: 32 Int16 weights, then d, dmin (Float) and two Int32 scale values.
    static let stride = 64 + 16

    static func byteCount(blocks: Int) -> Int { blocks * stride + 64 }

    @inline(__always) func weights(_ block: Int) -> UnsafeMutableRawPointer { memory + block &* Self.stride }
    @inline(__always) func d(_ block: Int) -> Float { weights(block).load(fromByteOffset: 64, as: Float.self) }
    @inline(__always) func dmin(_ block: Int) -> Float { weights(block).load(fromByteOffset: 68, as: Float.self) }
    @inline(__always) func a(_ block: Int) -> Int32 { weights(block).load(fromByteOffset: 72, as: Int32.self) }
    @inline(__always) func b(_ block: Int) -> Int32 { weights(block).load(fromByteOffset: 76, as: Int32.self) }

    /// Writes natural element `i` (0–31) of block `block` at its place in the folded order (see `fold`):
    /// element 4j + k goes to A[j], A[8 + j], B[j], B[8 + j] for k = 0, 1, 2, 3. Stores through a pointer, not
    /// into a `SIMD32` value: element-wise writes to a vector went through the stack and stalled every store.
    @inline(__always)
    func put(_ value: Int16, block: Int, element i: Int) {
        let k = i & 3
        let position = (k &>> 1) &* 16 &+ (k & 1) &* 8 &+ (i &>> 2)
        weights(block).storeBytes(of: value, toByteOffset: position &* 2, as: Int16.self)
    }

    @inline(__always)
    func storeScales(block: Int, d: Float, dmin: Float, a: Int32, b: Int32) {
        let p = weights(block)
        p.storeBytes(of: d, toByteOffset: 64, as: Float.self)
        p.storeBytes(of: dmin, toByteOffset: 68, as: Float.self)
        p.storeBytes(of: a, toByteOffset: 72, as: Int32.self)
        p.storeBytes(of: b, toByteOffset: 76, as: Int32.self)
    }
}

func hasTiledKQuantKernel(_ format: WeightFormat) -> Bool {
    switch format {
    case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K: true
    default: false
    }
}

/// Unpacks a K-quant row (its super-blocks) into per-32-element blocks.
func unpackK(_ format: WeightFormat, row: UnsafeRawPointer, superBlocks: Int, into out: UnpackedKRow) {
    for sb in 0..<superBlocks {
        let block = row + sb &* format.blockByteCount
        for j in 0..<8 {
            let index = sb &* 8 &+ j
            switch format {
            case .q4_K, .q5_K:
                let isQ5 = format == .q5_K
                let scales = (block + 4).assumingMemoryBound(to: UInt8.self)
                let qh = (block + 16).assumingMemoryBound(to: UInt8.self)
                let qsOffset: Int = (isQ5 ? 48 : 16) &+ (j &>> 1) &* 32
                let qs = (block + qsOffset).assumingMemoryBound(to: UInt8.self)
                for i in 0..<32 {
                    var q = (j & 1) == 0 ? qs[i] & 0x0F : qs[i] &>> 4
                    if isQ5 { q |= ((qh[i] &>> UInt8(j)) & 1) &<< 4 }
                    out.put(Int16(q), block: index, element: i)
                }
                let (sc, m) = kScaleMin(scales, j)
                out.storeScales(block: index, d: scale(block, 0), dmin: scale(block, 2), a: sc, b: m)
            case .q6_K:
                let half = j &>> 2
                let group = j & 3
                let qlOffset: Int = half &* 64 &+ (group & 1) &* 32
                let ql = block.assumingMemoryBound(to: UInt8.self) + qlOffset
                let qhOffset: Int = half &* 32
                let qh = (block + 128).assumingMemoryBound(to: UInt8.self) + qhOffset
                let shift = UInt8(group &>> 1) &* 4
                let highShift = UInt8(group) &* 2
                for i in 0..<32 {
                    out.put(Int16((ql[i] &>> shift) & 0x0F) | Int16((qh[i] &>> highShift) & 3) &<< 4, block: index, element: i)
                }
                let scales = (block + 192).assumingMemoryBound(to: Int8.self)
                let si = half &* 8 &+ group &* 2
                out.storeScales(block: index, d: scale(block, 208), dmin: 0, a: Int32(scales[si]), b: Int32(scales[si &+ 1]))
            case .q2_K:
                let half = j &>> 2
                let group = j & 3
                let qOffset: Int = 16 &+ half &* 32
                let q = (block + qOffset).assumingMemoryBound(to: UInt8.self)
                let shift = UInt8(group) &* 2
                for i in 0..<32 { out.put(Int16((q[i] &>> shift) & 3), block: index, element: i) }
                let scales = block.assumingMemoryBound(to: UInt8.self)
                let si = half &* 8 &+ group &* 2
                out.storeScales(block: index, d: scale(block, 80), dmin: scale(block, 82), a: Int32(scales[si]),
                    b: Int32(scales[si &+ 1]))
            default:  // .q3_K
                let half = j &>> 2
                let group = j & 3
                let hmask = block.assumingMemoryBound(to: UInt8.self)
                let qOffset: Int = 32 &+ half &* 32
                let q = (block + qOffset).assumingMemoryBound(to: UInt8.self)
                let shift = UInt8(group) &* 2
                let bit = UInt8(half &* 4 &+ group)
                for i in 0..<32 {
                    out.put(Int16((q[i] &>> shift) & 3) &- (((hmask[i] &>> bit) & 1) == 0 ? 4 : 0), block: index, element: i)
                }
                let scales = (block + 96).assumingMemoryBound(to: UInt8.self)
                let si = half &* 8 &+ group &* 2
                out.storeScales(block: index, d: scale(block, 108), dmin: 0, a: q3Scale(scales, si),
                    b: q3Scale(scales, si &+ 1))
            }
        }
    }
}

/// The exact integer dot products of a block's two 16-element halves. In the folded order elements 0–15 are
/// lanes 0–3 and elements 16–31 lanes 4–7.
@inline(__always)
func halfDots(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer) -> (Int32, Int32) {
    let pA = w.load(as: SIMD16<Int16>.self) &* a.loadUnaligned(as: SIMD16<Int16>.self)
    let pB = w.load(fromByteOffset: 32, as: SIMD16<Int16>.self) &* a.loadUnaligned(fromByteOffset: 32, as: SIMD16<Int16>.self)
    // |w| ≤ 63 and |a| ≤ 127: a lane of four products (≤ 32004) still fits Int16; the half sums need 32 bits.
    let lanes = widen(foldedLanes(pA, pB))
    let low = lanes.lowHalf
    let high = lanes.highHalf
    return ((low[0] &+ low[1]) &+ (low[2] &+ low[3]), (high[0] &+ high[1]) &+ (high[2] &+ high[3]))
}

/// One token · an unpacked K-quant row: the float terms of the one-token kernel, block by block.
@inline(__always)
func tiledKDot(_ format: WeightFormat, _ row: UnpackedKRow, _ x: Q8RowView, lanes: UnsafeRawPointer, blocks: Int) -> Float {
    var total: Float = 0
    for b in 0..<blocks {
        let (dot0, dot1) = halfDots(row.weights(b), lanes + (b &* 64))
        let da = x.scales[b]
        let s0 = Int32(x.sums[2 &* b])
        let s1 = Int32(x.sums[2 &* b &+ 1])
        switch format {
        case .q4_K, .q5_K:
            let scaled: Int32 = row.a(b) &* (dot0 &+ dot1)
            let mins: Int32 = row.b(b) &* (s0 &+ s1)
            let first: Float = row.d(b) * da * Float(scaled)
            let second: Float = row.dmin(b) * da * Float(mins)
            total += first - second
        case .q6_K:
            let combined = row.a(b) &* (dot0 &- 32 &* s0) &+ row.b(b) &* (dot1 &- 32 &* s1)
            total += row.d(b) * da * Float(combined)
        case .q2_K:
            let sc0 = row.a(b)
            let sc1 = row.b(b)
            let scaled = (sc0 & 0x0F) &* dot0 &+ (sc1 & 0x0F) &* dot1
            let mins = (sc0 &>> 4) &* s0 &+ (sc1 &>> 4) &* s1
            let first: Float = row.d(b) * da * Float(scaled)
            let second: Float = row.dmin(b) * da * Float(mins)
            total += first - second
        default:  // .q3_K
            total += row.d(b) * da * Float(row.a(b) &* dot0 &+ row.b(b) &* dot1)
        }
    }
    return total
}

/// Rows `rows` of a K-quant matrix times all `input` tokens.
func multiplyTiledK(
    _ weights: MatrixView, _ input: MatrixInput, rows: Range<Int>, scratch: UnsafeMutableRawPointer,
    into output: UnsafeMutablePointer<Float>
) {
    let q8 = input.quantized!
    let superBlocks = weights.columns / 256
    let blocks = superBlocks * 8
    let unpacked = UnpackedKRow(memory: scratch)
    let tile = 64
    var t0 = 0
    while t0 < input.count {
        let t1 = min(input.count, t0 + tile)
        for r in rows {
            unpackK(weights.format, row: weights.row(r), superBlocks: superBlocks, into: unpacked)
            for t in t0..<t1 {
                output[t &* weights.rows &+ r] = tiledKDot(
                    weights.format, unpacked, Q8RowView(q8, row: t), lanes: UnsafeRawPointer(q8.lanes + t &* q8.rowLength),
                    blocks: blocks)
            }
        }
        t0 = t1
    }
}
