@testable import Kernels
import Testing

/// Interleaved Q4_0, Q4_K, Q5_K and Q6_K matrices (eight rows per group) must hold the same rows as GGUF's layout and give
/// the portable `dotQ4_0`, `dotQ4_K`, `dotQ5_K` and `dotQ6_K` results bit for bit, for one token and for many, whatever the row count.
@Suite struct InterleavedProductTests {
    static func columns(_ format: WeightFormat) -> Int { format == .q4_0 ? 320 : 768 }

    /// 13 rows (a padded second group): random rows, then rows of all-zero, all-one and 0x80 payload bytes.
    static func matrix(_ format: WeightFormat = .q4_0) -> (bytes: [UInt8], rows: Int) {
        var state: UInt64 = 5
        var bytes: [UInt8] = []
        let blocks = columns(format) / format.blockSize
        for _ in 0..<10 { bytes += TiledProductTests.randomRow(format, blocks: blocks, seed: &state) }
        for fill: UInt8 in [0x00, 0xFF, 0x80] {
            var row = [UInt8](repeating: fill, count: blocks * format.blockByteCount)
            TiledProductTests.setSaneScales(&row, format)
            bytes += row
        }
        return (bytes, 13)
    }

    /// Spread values, blocks that saturate to ±127, and a block of zeros.
    static func activations(seed: Int, columns: Int = columns(.q4_0)) -> [Float] {
        (0..<columns).map { i in
            if (i / 32) % 5 == 3 { return 0 }
            if (i / 32) % 5 == 4 { return i % 2 == 0 ? 50 : -50 }
            return Float(((i + seed) * 7919) % 2001 - 1000) / 333
        }
    }

    @Test(arguments: [WeightFormat.q4_0, .q4_K, .q5_K, .q6_K])
    func rowsSurviveInterleaving(format: WeightFormat) {
        #if arch(x86_64) && !PORTABLE_KERNELS
        let (bytes, rows) = Self.matrix(format)
        let pool = ThreadPool(threadCount: 2)
        bytes.withUnsafeBytes { w in
            let view = MatrixView(format: format, rows: rows, columns: Self.columns(format), base: w.baseAddress!)
            let interleaved = view.interleaved(pool: pool)!
            #expect(interleaved.layout == .interleaved8)
            var row = [UInt8](repeating: 0, count: view.rowByteCount)
            for r in 0..<rows {
                row.withUnsafeMutableBytes { interleaved.copyRow(r, into: $0.baseAddress!) }
                #expect(row[...] == bytes[(r * view.rowByteCount)..<((r + 1) * view.rowByteCount)], "row \(r)")
            }
        }
        #endif
    }

    @Test(arguments: [WeightFormat.q4_0, .q4_K, .q5_K, .q6_K], [1, 4, 9])
    func productsEqualPortable(format: WeightFormat, tokens: Int) {
        #if arch(x86_64) && !PORTABLE_KERNELS
        let (bytes, rows) = Self.matrix(format)
        let columns = Self.columns(format)
        let input = (0..<tokens).flatMap { Self.activations(seed: $0, columns: columns) }
        let q8 = Q8Activations(rowLength: columns, rowCapacity: tokens)
        defer { q8.deallocate() }
        let pool = ThreadPool(threadCount: 2)
        var native = [Float](repeating: .nan, count: tokens * rows)
        var portable = [Float](repeating: 0, count: tokens * rows)
        bytes.withUnsafeBytes { w in
            input.withUnsafeBufferPointer { x in
                q8.quantize(x.baseAddress!, rows: tokens)
                let view = MatrixView(format: format, rows: rows, columns: columns, base: w.baseAddress!)
                let interleaved = view.interleaved(pool: pool)!
                native.withUnsafeMutableBufferPointer { out in
                    multiply(interleaved, MatrixInput(floats: x.baseAddress!, quantized: q8, count: tokens, columns: columns),
                             into: out.baseAddress!, pool: pool)
                }
                for t in 0..<tokens {
                    for r in 0..<rows { portable[t * rows + r] = dotPortable(format, view.row(r), Q8RowView(q8, row: t), columns: columns) }
                }
            }
        }
        #expect(native.map(\.bitPattern) == portable.map(\.bitPattern))
        #expect(portable.filter { $0 != 0 }.count >= tokens * (rows - 2))
        #endif
    }

    /// `dotQ4_0`'s order stated in scalar code: each block's integer sum, one fused multiply-add per block.
    @Test func portableOrderIsBlockSums() {
        let (bytes, rows) = Self.matrix()
        let columns = Self.columns(.q4_0)
        let input = Self.activations(seed: 2)
        let q8 = Q8Activations(rowLength: columns, rowCapacity: 1)
        defer { q8.deallocate() }
        input.withUnsafeBufferPointer { q8.quantize($0.baseAddress!, rows: 1) }
        bytes.withUnsafeBytes { w in
            for r in 0..<rows {
                var expected: Float = 0
                for b in 0..<(columns / 32) {
                    let block = w.baseAddress! + r * (columns / 32 * 18) + b * 18
                    var total: Int32 = 0
                    for i in 0..<32 {
                        let byte = block.load(fromByteOffset: 2 + i % 16, as: UInt8.self)
                        let nibble = Int32(i < 16 ? byte & 15 : byte >> 4) - 8
                        total += nibble * Int32(q8.quants[b * 32 + i])
                    }
                    let d = Float(Float16(bitPattern: block.loadUnaligned(as: UInt16.self)))
                    expected = expected.addingProduct(Float(total), d * q8.scales[b])
                }
                let actual = dotQ4_0(w.baseAddress! + r * (columns / 32 * 18), Q8RowView(q8, row: 0), blocks: columns / 32)
                #expect(actual.bitPattern == expected.bitPattern, "row \(r)")
            }
        }
    }
}
