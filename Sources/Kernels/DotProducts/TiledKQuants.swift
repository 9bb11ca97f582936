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
                let (sc, m) = scaleAndMin(scales, j)
                out.storeScales(block: index, d: scale(block, 0), dmin: scale(block, 2), a: Int32(sc), b: Int32(m))
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

/// Block `b`'s float term for one token: the one-token kernel's expression, with the same operands in the same
/// order.
@inline(__always)
func tiledKTerm(_ format: WeightFormat, _ row: UnpackedKRow, _ x: Q8RowView, _ b: Int) -> Float {
    let (dot0, dot1) = halfDots(row.weights(b), x.lanes + (b &* 64))
    let da = x.scales[b]
    let s0 = Int32(x.sums[2 &* b])
    let s1 = Int32(x.sums[2 &* b &+ 1])
    switch format {
    case .q4_K, .q5_K:
        let scaled: Int32 = row.a(b) &* (dot0 &+ dot1)
        let mins: Int32 = row.b(b) &* (s0 &+ s1)
        let first: Float = row.d(b) * da * Float(scaled)
        let second: Float = row.dmin(b) * da * Float(mins)
        return first - second
    case .q6_K:
        let combined = row.a(b) &* (dot0 &- 32 &* s0) &+ row.b(b) &* (dot1 &- 32 &* s1)
        return row.d(b) * da * Float(combined)
    case .q2_K:
        let sc0 = row.a(b)
        let sc1 = row.b(b)
        let scaled = (sc0 & 0x0F) &* dot0 &+ (sc1 & 0x0F) &* dot1
        let mins = (sc0 &>> 4) &* s0 &+ (sc1 &>> 4) &* s1
        let first: Float = row.d(b) * da * Float(scaled)
        let second: Float = row.dmin(b) * da * Float(mins)
        return first - second
    default:  // .q3_K
        return row.d(b) * da * Float(row.a(b) &* dot0 &+ row.b(b) &* dot1)
    }
}

/// The eight Int32 lane sums of one token's products with a folded block.
@inline(__always)
func kLanes(_ wA: SIMD16<Int16>, _ wB: SIMD16<Int16>, _ x: Q8RowView, _ b: Int) -> SIMD8<Int32> {
    let la = x.lanes.loadUnaligned(fromByteOffset: b &* 64, as: SIMD16<Int16>.self)
    let lb = x.lanes.loadUnaligned(fromByteOffset: b &* 64 &+ 32, as: SIMD16<Int16>.self)
    return widen(foldedLanes(wA &* la, wB &* lb))
}

/// Four tokens' half sums at once (a 4×4 transpose in each 128-bit half, then vertical adds): lanes 0–3 of
/// token t sum into `.0[t]` (elements 0–15), lanes 4–7 into `.1[t]`. Integer sums, so the order is free.
@inline(__always)
func halfDots4(_ l0: SIMD8<Int32>, _ l1: SIMD8<Int32>, _ l2: SIMD8<Int32>, _ l3: SIMD8<Int32>) -> (SIMD4<Int32>, SIMD4<Int32>) {
    let a = SIMD8<Int32>(l0[0], l1[0], l0[1], l1[1], l0[4], l1[4], l0[5], l1[5])
    let b = SIMD8<Int32>(l0[2], l1[2], l0[3], l1[3], l0[6], l1[6], l0[7], l1[7])
    let c = SIMD8<Int32>(l2[0], l3[0], l2[1], l3[1], l2[4], l3[4], l2[5], l3[5])
    let d = SIMD8<Int32>(l2[2], l3[2], l2[3], l3[3], l2[6], l3[6], l2[7], l3[7])
    let ab = a &+ b
    let cd = c &+ d
    let e = SIMD8<Int32>(ab[0], ab[1], cd[0], cd[1], ab[4], ab[5], cd[4], cd[5])
    let f = SIMD8<Int32>(ab[2], ab[3], cd[2], cd[3], ab[6], ab[7], cd[6], cd[7])
    let s = e &+ f
    return (s.lowHalf, s.highHalf)
}

@inline(__always)
func toFloat(_ v: SIMD4<Int32>) -> SIMD4<Float> {
    var r = SIMD4<Float>()
    for i in 0..<4 { r[i] = Float(v[i]) }
    return r
}

/// Block `b`'s float terms for four tokens, lane t for token t: `tiledKTerm`'s expressions evaluated lane-wise,
/// so each token's value is the same as alone.
@inline(__always)
func tiledKTerms4(
    _ format: WeightFormat, _ row: UnpackedKRow, _ x: (Q8RowView, Q8RowView, Q8RowView, Q8RowView), _ b: Int
) -> SIMD4<Float> {
    let w = row.weights(b)
    let wA = w.load(as: SIMD16<Int16>.self)
    let wB = w.load(fromByteOffset: 32, as: SIMD16<Int16>.self)
    let (dot0, dot1) = halfDots4(kLanes(wA, wB, x.0, b), kLanes(wA, wB, x.1, b), kLanes(wA, wB, x.2, b), kLanes(wA, wB, x.3, b))
    let da = SIMD4<Float>(x.0.scales[b], x.1.scales[b], x.2.scales[b], x.3.scales[b])
    let s0 = SIMD4<Int32>(Int32(x.0.sums[2 &* b]), Int32(x.1.sums[2 &* b]), Int32(x.2.sums[2 &* b]), Int32(x.3.sums[2 &* b]))
    let s1 = SIMD4<Int32>(
        Int32(x.0.sums[2 &* b &+ 1]), Int32(x.1.sums[2 &* b &+ 1]), Int32(x.2.sums[2 &* b &+ 1]), Int32(x.3.sums[2 &* b &+ 1]))
    let d = SIMD4<Float>(repeating: row.d(b))
    switch format {
    case .q4_K, .q5_K:
        let scaled = SIMD4<Int32>(repeating: row.a(b)) &* (dot0 &+ dot1)
        let mins = SIMD4<Int32>(repeating: row.b(b)) &* (s0 &+ s1)
        let first = d * da * toFloat(scaled)
        let second = SIMD4<Float>(repeating: row.dmin(b)) * da * toFloat(mins)
        return first - second
    case .q6_K:
        let combined = SIMD4<Int32>(repeating: row.a(b)) &* (dot0 &- 32 &* s0) &+ SIMD4<Int32>(repeating: row.b(b)) &* (dot1 &- 32 &* s1)
        return d * da * toFloat(combined)
    case .q2_K:
        let sc0 = SIMD4<Int32>(repeating: row.a(b))
        let sc1 = SIMD4<Int32>(repeating: row.b(b))
        let scaled = (sc0 & 0x0F) &* dot0 &+ (sc1 & 0x0F) &* dot1
        let mins = (sc0 &>> 4) &* s0 &+ (sc1 &>> 4) &* s1
        let first = d * da * toFloat(scaled)
        let second = SIMD4<Float>(repeating: row.dmin(b)) * da * toFloat(mins)
        return first - second
    default:  // .q3_K
        return d * da * toFloat(SIMD4<Int32>(repeating: row.a(b)) &* dot0 &+ SIMD4<Int32>(repeating: row.b(b)) &* dot1)
    }
}

/// The token loop for one unpacked row. Each token's total is a sequential sum over blocks (as in the one-token
/// kernel); four tokens at once run as the four lanes of one vector, sharing the weight loads.
@inline(__always)
func tiledKTokens(
    _ format: WeightFormat, _ row: UnpackedKRow, _ q8: Q8Activations, tokens: Range<Int>, blocks: Int,
    store: (Int, Float) -> Void
) {
    var t = tokens.lowerBound
    while t &+ 3 < tokens.upperBound {
        let x = (Q8RowView(q8, row: t), Q8RowView(q8, row: t &+ 1), Q8RowView(q8, row: t &+ 2), Q8RowView(q8, row: t &+ 3))
        var totals = SIMD4<Float>()
        for b in 0..<blocks { totals += tiledKTerms4(format, row, x, b) }
        for i in 0..<4 { store(t &+ i, totals[i]) }
        t &+= 4
    }
    while t < tokens.upperBound {
        let x = Q8RowView(q8, row: t)
        var total: Float = 0
        for b in 0..<blocks { total += tiledKTerm(format, row, x, b) }
        store(t, total)
        t &+= 1
    }
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
            let store = { (t: Int, value: Float) in output[t &* weights.rows &+ r] = value }
            // One specialization per format, so no format test sits in the inner loop.
            switch weights.format {
            case .q4_K: tiledKTokens(.q4_K, unpacked, q8, tokens: t0..<t1, blocks: blocks, store: store)
            case .q5_K: tiledKTokens(.q5_K, unpacked, q8, tokens: t0..<t1, blocks: blocks, store: store)
            case .q6_K: tiledKTokens(.q6_K, unpacked, q8, tokens: t0..<t1, blocks: blocks, store: store)
            case .q2_K: tiledKTokens(.q2_K, unpacked, q8, tokens: t0..<t1, blocks: blocks, store: store)
            default: tiledKTokens(.q3_K, unpacked, q8, tokens: t0..<t1, blocks: blocks, store: store)
            }
        }
        t0 = t1
    }
}
