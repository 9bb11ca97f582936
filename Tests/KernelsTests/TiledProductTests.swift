@testable import Kernels
import Testing

/// The multi-token (tiled) products must equal the single-token ones bit for bit, for every format with a
/// tiled kernel: a token's logits may not depend on how many tokens share its forward pass.
@Suite struct TiledProductTests {
    static func randomRow(_ format: WeightFormat, blocks: Int, seed: inout UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: blocks * format.blockByteCount)
        for i in bytes.indices {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            bytes[i] = UInt8(truncatingIfNeeded: seed >> 33)
        }
        setSaneScales(&bytes, format)
        return bytes
    }

    /// Sets every block's binary16 scales (and minimums) to 0x2E00 ≈ 0.09, so results are finite.
    static func setSaneScales(_ bytes: inout [UInt8], _ format: WeightFormat) {
        let scaleOffsets: [Int] = switch format {
        case .q4_1, .q5_1, .q4_K, .q5_K: [0, 2]
        case .q2_K: [80, 82]
        case .q3_K: [108]
        case .q6_K: [208]
        default: [0]
        }
        for b in 0..<(bytes.count / format.blockByteCount) {
            for o in scaleOffsets {
                bytes[b * format.blockByteCount + o] = 0x00
                bytes[b * format.blockByteCount + o + 1] = 0x2E
            }
        }
    }

    @Test(arguments: [WeightFormat.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K])
    func tiledEqualsSingleToken(format: WeightFormat) {
        let columns = format.blockSize == 256 ? 512 : 96, rows = 7, tokens = 5
        var seed: UInt64 = 42
        let matrix = (0..<rows).flatMap { _ in Self.randomRow(format, blocks: columns / format.blockSize, seed: &seed) }
        let input = (0..<(tokens * columns)).map { i in Float((i * 7919) % 2001 - 1000) / 333 }
        let q8 = Q8Activations(rowLength: columns, rowCapacity: tokens)
        defer { q8.deallocate() }
        let pool = ThreadPool(threadCount: 2)
        var together = [Float](repeating: 0, count: tokens * rows)
        var alone = [Float](repeating: 0, count: tokens * rows)
        matrix.withUnsafeBytes { w in
            input.withUnsafeBufferPointer { x in
                let view = MatrixView(format: format, rows: rows, columns: columns, base: w.baseAddress!)
                q8.quantize(x.baseAddress!, rows: tokens)
                together.withUnsafeMutableBufferPointer { out in
                    multiply(view, MatrixInput(floats: x.baseAddress!, quantized: q8, count: tokens, columns: columns),
                             into: out.baseAddress!, pool: pool)
                }
                for t in 0..<tokens {
                    q8.quantize(x.baseAddress! + t * columns, rows: 1)
                    var one = [Float](repeating: 0, count: rows)
                    one.withUnsafeMutableBufferPointer { out in
                        multiply(view, MatrixInput(floats: x.baseAddress! + t * columns, quantized: q8, count: 1, columns: columns),
                                 into: out.baseAddress!, pool: pool)
                    }
                    for r in 0..<rows { alone[t * rows + r] = one[r] }
                }
            }
        }
        #expect(together == alone)
        #expect(together.contains { $0 != 0 })
    }
}

/// The two-row decode kernels must equal the one-row kernels bit for bit.
@Suite struct PairProductTests {
    @Test(arguments: [WeightFormat.q4_1, .q8_0])
    func pairsEqualSingleRows(format: WeightFormat) {
        let columns = 128, rows = 9
        var seed: UInt64 = 7
        let matrix = (0..<rows).flatMap { _ in TiledProductTests.randomRow(format, blocks: columns / 32, seed: &seed) }
        let input = (0..<columns).map { i in Float((i * 7919) % 2001 - 1000) / 333 }
        let q8 = Q8Activations(rowLength: columns, rowCapacity: 1)
        defer { q8.deallocate() }
        var paired = [Float](repeating: 0, count: rows)
        var single = [Float](repeating: 0, count: rows)
        matrix.withUnsafeBytes { w in
            input.withUnsafeBufferPointer { x in
                q8.quantize(x.baseAddress!, rows: 1)
                q8.prepareFoldedLanes(rows: 1)
                let view = MatrixView(format: format, rows: rows, columns: columns, base: w.baseAddress!)
                // The pair kernels directly: on x86-64 `multiply` takes the AVX2 one-row kernels instead.
                let row = Q8RowView(q8, row: 0)
                for r in stride(from: 0, to: rows - 1, by: 2) {
                    (paired[r], paired[r + 1]) = dotPair(format, view.row(r), view.row(r + 1), row, blocks: columns / 32)
                }
                paired[rows - 1] = dotPortable(format, view.row(rows - 1), row, columns: columns)
                for r in 0..<rows { single[r] = dotPortable(format, view.row(r), row, columns: columns) }
            }
        }
        #expect(paired == single)
        #expect(paired.contains { $0 != 0 })
    }
}

/// One dispatch over two or three matrices must give each matrix's own `multiply` results, including where a
/// thread's chunk of rows straddles two matrices.
@Suite struct SharedInputProductTests {
    @Test(arguments: [1, 3])
    func fusedEqualsSeparate(tokens: Int) {
        let columns = 256
        let shapes: [(WeightFormat, Int)] = [(.q4_K, 37), (.q6_K, 13), (.q4_0, 29)]
        var seed: UInt64 = 99
        let matrices = shapes.map { format, rows in
            (0..<rows).flatMap { _ in TiledProductTests.randomRow(format, blocks: columns / format.blockSize, seed: &seed) }
        }
        let input = (0..<(tokens * columns)).map { i in Float((i * 7919) % 2001 - 1000) / 333 }
        let q8 = Q8Activations(rowLength: columns, rowCapacity: tokens)
        defer { q8.deallocate() }
        let pool = ThreadPool(threadCount: 2)
        var f0 = [Float](repeating: 0, count: tokens * shapes[0].1)
        var f1 = [Float](repeating: 0, count: tokens * shapes[1].1)
        var f2 = [Float](repeating: 0, count: tokens * shapes[2].1)
        var separate = [f0, f1, f2]
        matrices[0].withUnsafeBytes { w0 in
            matrices[1].withUnsafeBytes { w1 in
                matrices[2].withUnsafeBytes { w2 in
                    input.withUnsafeBufferPointer { x in
                        q8.quantize(x.baseAddress!, rows: tokens)
                        let views = [w0, w1, w2].enumerated().map { i, w in
                            // Q4_0 interleaved where it can be, so a thread's chunk straddles into a row group.
                            let view = MatrixView(format: shapes[i].0, rows: shapes[i].1, columns: columns, base: w.baseAddress!)
                            return (view.canInterleave ? view.interleaved(pool: pool) : nil) ?? view
                        }
                        let m = MatrixInput(floats: x.baseAddress!, quantized: q8, count: tokens, columns: columns)
                        f0.withUnsafeMutableBufferPointer { o0 in
                            f1.withUnsafeMutableBufferPointer { o1 in
                                f2.withUnsafeMutableBufferPointer { o2 in
                                    multiply((views[0], views[1], views[2]), m,
                                             into: (o0.baseAddress!, o1.baseAddress!, o2.baseAddress!), pool: pool)
                                }
                            }
                        }
                        for i in 0..<3 {
                            separate[i].withUnsafeMutableBufferPointer { multiply(views[i], m, into: $0.baseAddress!, pool: pool) }
                        }
                    }
                }
            }
        }
        let fused = [f0, f1, f2]
        #expect(fused == separate)
        #expect(fused.allSatisfy { $0.contains { $0 != 0 } })
    }
}
