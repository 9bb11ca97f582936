/// A read-only view of a weight matrix stored row by row in one of the `WeightFormat`s, usually directly in the
/// memory-mapped model file.
package struct MatrixView: @unchecked Sendable {
    // Sendable because the memory it points to is immutable (a read-only mapping, or interleaved storage written
    // before the view exists) for the model's life.
    /// How rows are laid out in memory.
    package enum Layout: Sendable {
        /// GGUF's: each row's blocks contiguous, row after row.
        case rows
        /// Groups of eight rows interleaved (`InterleavedRows.swift`); Q4_0, Q4_K, Q5_K and Q6_K.
        case interleaved8
    }

    /// The storage format.
    package let format: WeightFormat
    /// Output dimension: the number of rows.
    package let rows: Int
    /// Input dimension: elements per row, a multiple of the format's block size.
    package let columns: Int
    /// The first byte of row 0 (of row group 0 when interleaved).
    package let base: UnsafeRawPointer
    package let layout: Layout
    /// Keeps interleaved storage alive; nil for views into the mapped file.
    private let storage: InterleavedStorage?

    /// Creates a view of row-major data; `columns` must be a whole number of blocks.
    package init(format: WeightFormat, rows: Int, columns: Int, base: UnsafeRawPointer) {
        precondition(columns % format.blockSize == 0, "matrix rows must be whole blocks")
        self.format = format
        self.rows = rows
        self.columns = columns
        self.base = base
        layout = .rows
        storage = nil
    }

    init(interleaved storage: InterleavedStorage, format: WeightFormat, rows: Int, columns: Int) {
        self.format = format
        self.rows = rows
        self.columns = columns
        base = UnsafeRawPointer(storage.bytes)
        layout = .interleaved8
        self.storage = storage
    }

    /// Bytes per row.
    package var rowByteCount: Int { columns / format.blockSize * format.blockByteCount }

    /// The first byte of row `r` (row-major layout only).
    package func row(_ r: Int) -> UnsafeRawPointer {
        precondition(layout == .rows, "an interleaved matrix has no contiguous rows; see copyRow")
        return base + r &* rowByteCount
    }

    /// Whether products with this matrix use quantized (Q8) activations.
    package var usesQuantizedInput: Bool {
        switch format {
        case .f32, .f16, .bf16: false
        default: true
        }
    }
}

/// The input rows of a matrix product: `count` rows of `columns` floats, and the same rows quantized to Q8 for
/// quantized weights (quantize once, share between matrices that take the same input).
package struct MatrixInput {
    package let floats: UnsafePointer<Float>
    package let quantized: Q8Activations?
    package let count: Int
    package let columns: Int

    package init(floats: UnsafePointer<Float>, quantized: Q8Activations?, count: Int, columns: Int) {
        self.floats = floats
        self.quantized = quantized
        self.count = count
        self.columns = columns
    }
}

/// Computes `output[t * weights.rows + r] = weights.row(r) · input.row(t)` for every row and input row.
///
/// Work is split over output rows across the pool's threads; each (row, input) dot product is computed by the
/// same code whatever the batch holds, so a sequence's results do not depend on its batch-mates.
package func multiply(
    _ weights: MatrixView, _ input: MatrixInput, into output: UnsafeMutablePointer<Float>, pool: ThreadPool
) {
    precondition(input.columns == weights.columns, "matrix input width mismatch")
    if weights.usesQuantizedInput {
        precondition(input.quantized != nil, "quantized weights need quantized activations")
    }
    let outputs = weights.rows
    #if arch(x86_64) && !PORTABLE_KERNELS
    if input.count == 1 && hasNativeKernel(weights) {
        let x = Q8RowView(input.quantized!, row: 0)
        pool.parallelFor(outputs, granule: 8) { rows, _ in multiplyRowsAVX2(weights, x, rows: rows, into: output) }
        return
    }
    if input.count > 1 && weights.layout == .interleaved8 {
        pool.parallelFor(outputs, granule: 8) { rows, _ in
            multiplyInterleavedTokensAVX2(weights, input, rows: rows, into: output)
        }
        return
    }
    if input.count > 1 && hasFourTokenKernel(weights.format) {
        let bytes = FourTokenScales.byteCount(blocks: weights.columns / 32)
        pool.parallelFor(outputs, granule: 8) { rows, worker in
            multiplyTokensAVX2(weights, input, rows: rows, scratch: pool.scratch(worker: worker, byteCount: bytes), into: output)
        }
        return
    }
    #endif
    if weights.usesQuantizedInput && !hasNativeKernel(weights.format) {
        // The portable kernels read the activations' folded lanes, written on demand on x86-64.
        input.quantized!.prepareFoldedLanes(rows: input.count)
    }
    if input.count > 1 && hasTiledKernel(weights.format) && !hasNativeKernel(weights.format) {
        let bytes = UnpackedRow.byteCount(blocks: weights.columns / 32)
        pool.parallelFor(outputs, granule: 8) { rows, worker in
            multiplyTiled(weights, input, rows: rows, scratch: pool.scratch(worker: worker, byteCount: bytes), into: output)
        }
        return
    }
    if input.count > 1 && hasTiledKQuantKernel(weights.format) && !hasNativeKernel(weights.format) {
        let bytes = UnpackedKRow.byteCount(blocks: weights.columns / 32)
        pool.parallelFor(outputs, granule: 8) { rows, worker in
            multiplyTiledK(weights, input, rows: rows, scratch: pool.scratch(worker: worker, byteCount: bytes), into: output)
        }
        return
    }
    if input.count == 1 && hasPairKernel(weights.format) {
        let x = Q8RowView(input.quantized!, row: 0)
        let blocks = weights.columns / 32
        let format = weights.format
        pool.parallelFor(outputs, granule: 8) { rows, _ in
            var r = rows.lowerBound
            while r &+ 1 < rows.upperBound {
                (output[r], output[r &+ 1]) = dotPair(format, weights.row(r), weights.row(r &+ 1), x, blocks: blocks)
                r &+= 2
            }
            if r < rows.upperBound { output[r] = dot(weights, row: weights.row(r), input, 0) }
        }
        return
    }
    // Tokens are processed in tiles so a tile's activations stay in cache while every row of the thread's
    // range passes over them; within a tile, each weight row is read once for all its tokens.
    let tile = 16
    pool.parallelFor(outputs, granule: 8) { rows, _ in
        var t0 = 0
        while t0 < input.count {
            let t1 = min(input.count, t0 + tile)
            for r in rows {
                let row = weights.row(r)
                for t in t0..<t1 {
                    output[t &* outputs &+ r] = dot(weights, row: row, input, t)
                }
            }
            t0 = t1
        }
    }
}

/// `multiply` for two or three matrices that take the same input (Q, K, V; gate, up). A decode step's
/// products are short, and one thread-pool dispatch over all their rows costs less than one per matrix; the
/// results are those of separate `multiply` calls, row for row.
package func multiply(
    _ matrices: (MatrixView, MatrixView, MatrixView?), _ input: MatrixInput,
    into outputs: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>?),
    pool: ThreadPool
) {
    #if arch(x86_64) && !PORTABLE_KERNELS
    let (a, b, c) = matrices
    let together = input.count == 1 && input.quantized != nil && hasNativeKernel(a) && hasNativeKernel(b)
        && (c.map { hasNativeKernel($0) } ?? true)
        && a.columns == input.columns && b.columns == input.columns && (c?.columns ?? input.columns) == input.columns
    if together {
        let x = Q8RowView(input.quantized!, row: 0)
        let total = a.rows + b.rows + (c?.rows ?? 0)
        pool.parallelFor(total, granule: 8) { rows, _ in
            // A chunk may straddle two matrices: split it at their boundaries.
            var start = rows.lowerBound
            while start < rows.upperBound {
                if start < a.rows {
                    let end = min(rows.upperBound, a.rows)
                    multiplyRowsAVX2(a, x, rows: start..<end, into: outputs.0)
                    start = end
                } else if start < a.rows + b.rows {
                    let end = min(rows.upperBound, a.rows + b.rows)
                    multiplyRowsAVX2(b, x, rows: (start - a.rows)..<(end - a.rows), into: outputs.1)
                    start = end
                } else {
                    let offset = a.rows + b.rows
                    multiplyRowsAVX2(c!, x, rows: (start - offset)..<(rows.upperBound - offset), into: outputs.2!)
                    start = rows.upperBound
                }
            }
        }
        return
    }
    #endif
    multiply(matrices.0, input, into: outputs.0, pool: pool)
    multiply(matrices.1, input, into: outputs.1, pool: pool)
    if let c = matrices.2, let output = outputs.2 { multiply(c, input, into: output, pool: pool) }
}

/// One weight row · one input row.
@inline(__always)
func dot(_ weights: MatrixView, row: UnsafeRawPointer, _ input: MatrixInput, _ t: Int) -> Float {
    let columns = weights.columns
    switch weights.format {
    case .f32: return dotF32(row, input.floats + t &* columns, count: columns)
    case .f16: return dotF16(row, input.floats + t &* columns, count: columns)
    case .bf16: return dotBF16(row, input.floats + t &* columns, count: columns)
    default: break
    }
    let x = Q8RowView(input.quantized!, row: t)
    #if arch(x86_64) && !PORTABLE_KERNELS
    return dotAVX2(weights.format, row, x, columns: columns)
    #else
    return dotPortable(weights.format, row, x, columns: columns)
    #endif
}

/// One quantized row · one activation row with the portable `SIMD` kernels (on x86-64, the reference the
/// AVX2 kernels are tested against).
func dotPortable(_ format: WeightFormat, _ row: UnsafeRawPointer, _ x: Q8RowView, columns: Int) -> Float {
    switch format {
    case .q4_0: return dotQ4_0(row, x, blocks: columns / 32)
    case .q4_1: return dotQ4_1(row, x, blocks: columns / 32)
    case .q5_0: return dotQ5_0(row, x, blocks: columns / 32)
    case .q5_1: return dotQ5_1(row, x, blocks: columns / 32)
    case .q8_0: return dotQ8_0(row, x, blocks: columns / 32)
    case .q2_K: return dotQ2_K(row, x, superBlocks: columns / 256)
    case .q3_K: return dotQ3_K(row, x, superBlocks: columns / 256)
    case .q4_K: return dotQ4_K(row, x, superBlocks: columns / 256)
    case .q5_K: return dotQ5_K(row, x, superBlocks: columns / 256)
    case .q6_K: return dotQ6_K(row, x, superBlocks: columns / 256)
    case .f32, .f16, .bf16: return 0  // handled above
    }
}
