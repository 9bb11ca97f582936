#if arch(x86_64) && !PORTABLE_KERNELS
import _Builtin_intrinsics.intel
#endif

/// Where one layer's keys and values live in a paged KV cache.
///
/// Memory layout of each of the two regions (keys, values), per block of `blockSize` token slots:
/// ```
/// block b ─┬─ kv head 0: slot 0 [headDimension] … slot blockSize-1 [headDimension]
///          ├─ kv head 1: …
///          └─ kv head kvHeads-1
/// ```
/// so one head's keys within a block are contiguous, which is what attention reads.
package struct PagedKVLayer {
    package let keys: UnsafeMutableRawPointer
    package let values: UnsafeMutableRawPointer
    /// Whether elements are `Float16` (otherwise `Float`).
    package let isHalf: Bool
    package let blockSize: Int
    package let kvHeads: Int
    package let headDimension: Int

    package init(
        keys: UnsafeMutableRawPointer, values: UnsafeMutableRawPointer, isHalf: Bool, blockSize: Int, kvHeads: Int,
        headDimension: Int
    ) {
        self.keys = keys
        self.values = values
        self.isHalf = isHalf
        self.blockSize = blockSize
        self.kvHeads = kvHeads
        self.headDimension = headDimension
    }

    var elementSize: Int { isHalf ? 2 : 4 }

    /// Byte offset of (block, head, slot) within a region.
    @inline(__always)
    func offset(block: Int, head: Int, slot: Int) -> Int {
        ((block &* kvHeads &+ head) &* blockSize &+ slot) &* headDimension &* elementSize
    }

    /// Stores one token's keys and values (`kvHeads * headDimension` floats each) into `slot` of `block`.
    package func store(
        keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>, block: Int, slot: Int
    ) {
        for h in 0..<kvHeads {
            let o = offset(block: block, head: h, slot: slot)
            let src = h &* headDimension
            if isHalf {
                let kd = (keys + o).assumingMemoryBound(to: Float16.self)
                let vd = (values + o).assumingMemoryBound(to: Float16.self)
                for i in 0..<headDimension {
                    kd[i] = Float16(k[src &+ i])
                    vd[i] = Float16(v[src &+ i])
                }
            } else {
                let kd = (keys + o).assumingMemoryBound(to: Float.self)
                let vd = (values + o).assumingMemoryBound(to: Float.self)
                for i in 0..<headDimension {
                    kd[i] = k[src &+ i]
                    vd[i] = v[src &+ i]
                }
            }
        }
    }
}

/// The scratch floats `attendHead` needs for a sequence of up to `context` positions.
package func attentionScratchCount(context: Int, headDimension: Int) -> Int {
    (context + 31) / 32 * 32 + 64 * headDimension
}

/// Which of llama.cpp's two orders of summation attention follows. They round differently, and llama.cpp picks
/// one by the number of tokens a step computes, so to reproduce its numbers we do too.
package enum AttentionSummation: Sendable {
    /// One token: ggml's `ggml_vec_dot_f16` (64-element steps over four 16-lane accumulators, the tail in
    /// double), over the KV view padded to a multiple of 32 positions.
    case singleToken
    /// Two or more tokens of the sequence in one step (a prompt): llamafile's tinyBLAS kernel, which llama.cpp
    /// uses for every F16 matrix product with more than one column: one 16-lane fused accumulator along the
    /// whole sum, reduced at the end. Positions past the causal length add exact zeros there, so the result
    /// does not depend on how far the view is padded.
    case tokenBatch
}

/// Causal attention of one query head over the first `length` positions of a sequence in a paged cache.
///
/// With a half-precision cache the arithmetic follows ggml's CPU attention step for step: the query and the
/// attention weights are rounded to half precision, dot products sum in the order `summation` names, the
/// softmax uses ggml's vector exponential and sums in double over blocks of 16, and the scores are padded to a
/// multiple of 32 positions, as llama.cpp pads its KV view. That keeps our logits bit-identical to llama.cpp's
/// reference output, which the fidelity tests hold us to.
///
/// - Parameters:
///   - query: `headDimension` floats (already rotated); rounded in place with a half-precision cache.
///   - kvHead: which key/value head this query head reads (grouped-query attention shares them).
///   - blockTable: the sequence's block ids, in position order.
///   - summation: the order of the dot products (see `AttentionSummation`).
///   - scratch: `attentionScratchCount(context: length, headDimension:)` floats.
///   - output: `headDimension` floats, overwritten.
package func attendHead(
    query: UnsafeMutablePointer<Float>, kvHead: Int, layer: PagedKVLayer, blockTable: UnsafePointer<Int32>,
    length: Int, scale: Float, summation: AttentionSummation = .singleToken, scratch: UnsafeMutablePointer<Float>,
    into output: UnsafeMutablePointer<Float>
) {
    let hd = layer.headDimension
    let padded = (length + 31) & ~31
    let scores = scratch
    if layer.isHalf {
        for i in 0..<hd { query[i] = Float(Float16(query[i])) }
    }
    // tinyBLAS declines sums whose length is not a multiple of its 16 lanes (ggml's own kernel takes over);
    // the weighted sum of values runs over the padded positions, always a multiple of 32.
    let tiledKeys = summation == .tokenBatch && hd % 16 == 0
    let tiledValues = summation == .tokenBatch && hd % 4 == 0
    forEachPosition(layer, kvHead: kvHead, blockTable: blockTable, length: length, keys: true) { position, key in
        let d: Float
        if !layer.isHalf {
            d = dotFloat(query, key, count: hd)
        } else if tiledKeys {
            d = tiledHalfDot(query, key, count: hd)
        } else {
            d = halfDot(query, key, count: hd)
        }
        scores[position] = d * scale
    }
    for j in length..<padded { scores[j] = -.infinity }
    attentionSoftmax(scores, count: padded)
    if layer.isHalf {
        for j in 0..<length { scores[j] = Float(Float16(scores[j])) }
        if tiledValues {
            accumulateHalfValuesTiled(
                layer, kvHead: kvHead, blockTable: blockTable, length: length, weights: scores,
                partial: scratch + padded, into: output)
        } else {
            accumulateHalfValues(
                layer, kvHead: kvHead, blockTable: blockTable, length: length, weights: scores,
                partial: scratch + padded, into: output)
        }
    } else {
        for i in 0..<hd { output[i] = 0 }
        forEachPosition(layer, kvHead: kvHead, blockTable: blockTable, length: length, keys: false) { j, value in
            accumulateFloat(output, weight: scores[j], value, count: hd)
        }
    }
}

/// Calls `body(position, pointer)` for each of the first `length` positions' key (or value) vectors.
@inline(__always)
private func forEachPosition(
    _ layer: PagedKVLayer, kvHead: Int, blockTable: UnsafePointer<Int32>, length: Int, keys: Bool,
    _ body: (Int, UnsafeRawPointer) -> Void
) {
    let stride = layer.headDimension &* layer.elementSize
    var position = 0
    var blockIndex = 0
    while position < length {
        let block = Int(blockTable[blockIndex])
        let slots = min(layer.blockSize, length &- position)
        let region = keys ? layer.keys : layer.values
        let base = UnsafeRawPointer(region) + layer.offset(block: block, head: kvHead, slot: 0)
        for s in 0..<slots { body(position &+ s, base + s &* stride) }
        position &+= slots
        blockIndex &+= 1
    }
}

/// Sixteen binary16 values at `p + offset` as floats (exact). On x86-64 two `vcvtph2ps`: the standard library's
/// generic `SIMD16<Float>(SIMD16<Float16>)` was an out-of-line call there.
@inline(__always)
func halves(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD16<Float> {
    #if arch(x86_64) && !PORTABLE_KERNELS
    SIMD16(lowHalf: _mm256_cvtph_ps(p.loadUnaligned(fromByteOffset: offset, as: __m128i.self)),
           highHalf: _mm256_cvtph_ps(p.loadUnaligned(fromByteOffset: offset &+ 16, as: __m128i.self)))
    #else
    SIMD16<Float>(p.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float16>.self))
    #endif
}

/// Sums 16 lanes in the tree GCC's `_mm512_reduce_add_ps` uses.
@inline(__always)
func reduce16(_ v: SIMD16<Float>) -> Float {
    let eight = v.highHalf + v.lowHalf
    let four = eight.highHalf + eight.lowHalf
    return (four[0] + four[2]) + (four[1] + four[3])
}

/// Reduces ggml's four 16-lane accumulators: (x0 + x2) + (x1 + x3), then across lanes.
@inline(__always)
func reduceAccumulators(_ x0: SIMD16<Float>, _ x1: SIMD16<Float>, _ x2: SIMD16<Float>, _ x3: SIMD16<Float>) -> Float {
    reduce16((x0 + x2) + (x1 + x3))
}

/// A half-precision dot product in ggml's order: 64-element steps over four 16-lane fused accumulators, the
/// tail in double.
@inline(__always)
private func halfDot(_ q: UnsafePointer<Float>, _ k: UnsafeRawPointer, count: Int) -> Float {
    let qr = UnsafeRawPointer(q)
    var x0 = SIMD16<Float>(), x1 = SIMD16<Float>(), x2 = SIMD16<Float>(), x3 = SIMD16<Float>()
    let steps = count & ~63
    var i = 0
    while i < steps {
        x0.addProduct(qr.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self),
                      halves(k, i &* 2))
        x1.addProduct(qr.loadUnaligned(fromByteOffset: (i &+ 16) &* 4, as: SIMD16<Float>.self),
                      halves(k, (i &+ 16) &* 2))
        x2.addProduct(qr.loadUnaligned(fromByteOffset: (i &+ 32) &* 4, as: SIMD16<Float>.self),
                      halves(k, (i &+ 32) &* 2))
        x3.addProduct(qr.loadUnaligned(fromByteOffset: (i &+ 48) &* 4, as: SIMD16<Float>.self),
                      halves(k, (i &+ 48) &* 2))
        i &+= 64
    }
    var total = Double(reduceAccumulators(x0, x1, x2, x3))
    while i < count {
        total += Double(q[i] * Float(k.loadUnaligned(fromByteOffset: i &* 2, as: Float16.self)))
        i &+= 1
    }
    return Float(total)
}

/// tinyBLAS's order for a half-precision dot product: one 16-lane fused accumulator along the whole sum
/// (`count` a multiple of 16), reduced at the end in `_mm512_reduce_add_ps`'s tree.
@inline(__always)
private func tiledHalfDot(_ q: UnsafePointer<Float>, _ k: UnsafeRawPointer, count: Int) -> Float {
    let qr = UnsafeRawPointer(q)
    var acc = SIMD16<Float>()
    var i = 0
    while i < count {
        acc.addProduct(
            halves(k, i &* 2),
            qr.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self))
        i &+= 16
    }
    return reduce16(acc)
}

/// Softmax over `count` (a multiple of 16) scores in place, as ggml's `ggml_vec_soft_max_f32` computes it in
/// its AVX-512 build: exponentials with `ggmlExp` 16 at a time, each block's sum reduced in float and added in
/// double, then one multiplication by the single-precision reciprocal.
private func attentionSoftmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
    var maximum = -Float.infinity
    for i in 0..<count { maximum = max(maximum, x[i]) }
    let raw = UnsafeMutableRawPointer(x)
    var sum: Double = 0
    var i = 0
    while i < count {
        let e = ggmlExp(raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self) - SIMD16(repeating: maximum))
        raw.storeBytes(of: e, toByteOffset: i &* 4, as: SIMD16<Float>.self)
        sum += Double(reduce16(e))
        i &+= 16
    }
    let inverse = Float(1 / sum)
    for j in 0..<count { x[j] *= inverse }
}

/// Σ weight_j · value_j in tinyBLAS's order: position j goes to fused lane j mod 16 (`partial`, 16 ×
/// headDimension floats), lanes reduced at the end. Positions past `length` would add exact zeros: skipped.
private func accumulateHalfValuesTiled(
    _ layer: PagedKVLayer, kvHead: Int, blockTable: UnsafePointer<Int32>, length: Int,
    weights: UnsafePointer<Float>, partial: UnsafeMutablePointer<Float>, into output: UnsafeMutablePointer<Float>
) {
    let hd = layer.headDimension
    partial.initialize(repeating: 0, count: 16 &* hd)
    forEachPosition(layer, kvHead: kvHead, blockTable: blockTable, length: length, keys: false) { j, value in
        let w = weights[j]
        let row = partial + (j & 15) &* hd
        for i in 0..<hd {
            row[i] = row[i].addingProduct(Float(value.loadUnaligned(fromByteOffset: i &* 2, as: Float16.self)), w)
        }
    }
    for i in 0..<hd {
        var lanes = SIMD16<Float>()
        for l in 0..<16 { lanes[l] = partial[l &* hd &+ i] }
        output[i] = reduce16(lanes)
    }
}

/// Σ weight_j · value_j over positions, per output dimension, in ggml's order for a dot product over the
/// (padded) positions: positions in whole 64-steps go to 64 fused partial sums (`partial`, 64 × headDimension
/// floats), reduced like `halfDot`'s accumulators; the rest add in double.
private func accumulateHalfValues(
    _ layer: PagedKVLayer, kvHead: Int, blockTable: UnsafePointer<Int32>, length: Int,
    weights: UnsafePointer<Float>, partial: UnsafeMutablePointer<Float>, into output: UnsafeMutablePointer<Float>
) {
    let hd = layer.headDimension
    let padded = (length + 31) & ~31
    let steps = padded & ~63
    partial.initialize(repeating: 0, count: 64 &* hd)
    forEachPosition(layer, kvHead: kvHead, blockTable: blockTable, length: min(length, steps), keys: false) { j, value in
        let w = weights[j]
        let row = partial + (j & 63) &* hd
        for i in 0..<hd {
            row[i] = row[i].addingProduct(w, Float(value.loadUnaligned(fromByteOffset: i &* 2, as: Float16.self)))
        }
    }
    // The reduction tree of `reduceAccumulators`, applied to all dimensions at once: row r of `partial` holds
    // lane r % 16 of accumulator r / 16 for every dimension.
    func row(_ r: Int) -> UnsafeMutablePointer<Float> { partial + r &* hd }
    for l in 0..<16 {
        let (a, b, c, d) = (row(l), row(16 &+ l), row(32 &+ l), row(48 &+ l))
        for i in 0..<hd { a[i] = (a[i] + c[i]) + (b[i] + d[i]) }
    }
    for l in 0..<8 {
        let (a, b) = (row(l), row(8 &+ l))
        for i in 0..<hd { a[i] = b[i] + a[i] }
    }
    for l in 0..<4 {
        let (a, b) = (row(l), row(4 &+ l))
        for i in 0..<hd { a[i] = b[i] + a[i] }
    }
    let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3))
    // Each dimension's tail is its own chain of double additions in position order; running the chains of all
    // dimensions side by side (positions outer) keeps every chain's order and lets the dimensions vectorize.
    withUnsafeTemporaryAllocation(of: Double.self, capacity: hd) { totals in
        for i in 0..<hd { totals[i] = Double((r0[i] + r2[i]) + (r1[i] + r3[i])) }
        var j = steps
        while j < length {
            let block = Int(blockTable[j / layer.blockSize])
            let value = UnsafeRawPointer(layer.values) + layer.offset(block: block, head: kvHead, slot: j % layer.blockSize)
            let w = weights[j]
            for i in 0..<hd {
                totals[i] += Double(w * Float(value.loadUnaligned(fromByteOffset: i &* 2, as: Float16.self)))
            }
            j &+= 1
        }
        for i in 0..<hd { output[i] = Float(totals[i]) }
    }
}

@inline(__always)
private func dotFloat(_ q: UnsafePointer<Float>, _ k: UnsafeRawPointer, count: Int) -> Float {
    let qr = UnsafeRawPointer(q)
    var acc = SIMD8<Float>()
    var i = 0
    while i &+ 8 <= count {
        acc.addProduct(
            qr.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self),
            k.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self))
        i &+= 8
    }
    var total = acc.sum()
    while i < count {
        total += q[i] * k.loadUnaligned(fromByteOffset: i &* 4, as: Float.self)
        i &+= 1
    }
    return total
}

@inline(__always)
private func accumulateFloat(_ out: UnsafeMutablePointer<Float>, weight: Float, _ v: UnsafeRawPointer, count: Int) {
    for i in 0..<count {
        out[i] += weight * v.loadUnaligned(fromByteOffset: i &* 4, as: Float.self)
    }
}
