#if arch(x86_64) && !PORTABLE_KERNELS
@testable import Kernels
import Testing

/// The AVX2 dot products must equal the portable kernels bit for bit (interleaved ones: `InterleavedProductTests`), including
/// at the extremes of every format's range (all-zero and all-one bits, −128 in Q8_0) and with activations at ±127.
@Suite struct AVX2KernelTests {
    static let formats: [WeightFormat] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K]

    /// Random rows, then one row of all-zero and one of all-one payload bytes (scales kept sane).
    static func matrix(_ format: WeightFormat, columns: Int, seed: UInt64) -> (bytes: [UInt8], rows: Int) {
        var state = seed
        var bytes: [UInt8] = []
        let randomRows = 7
        for _ in 0..<randomRows {
            bytes += TiledProductTests.randomRow(format, blocks: columns / format.blockSize, seed: &state)
        }
        for fill: UInt8 in [0x00, 0xFF, 0x80] {
            var row = [UInt8](repeating: fill, count: columns / format.blockSize * format.blockByteCount)
            TiledProductTests.setSaneScales(&row, format)
            bytes += row
        }
        return (bytes, randomRows + 3)
    }

    static func activations(columns: Int, seed: Int) -> [Float] {
        (0..<columns).map { i in
            // Mostly spread values, with blocks that saturate to ±127 and a block of zeros.
            if (i / 32) % 5 == 3 { return 0 }
            if (i / 32) % 5 == 4 { return i % 2 == 0 ? 50 : -50 }
            return Float(((i + seed) * 7919) % 2001 - 1000) / 333
        }
    }

    @Test(arguments: formats)
    func singleRowsEqualPortable(format: WeightFormat) {
        let columns = format.blockSize == 256 ? 1024 : 320
        let (bytes, rows) = Self.matrix(format, columns: columns, seed: 11)
        let input = Self.activations(columns: columns, seed: 3)
        let q8 = Q8Activations(rowLength: columns, rowCapacity: 1)
        defer { q8.deallocate() }
        input.withUnsafeBufferPointer { q8.quantize($0.baseAddress!, rows: 1) }
        let x = Q8RowView(q8, row: 0)
        var nonZero = 0
        bytes.withUnsafeBytes { w in
            let view = MatrixView(format: format, rows: rows, columns: columns, base: w.baseAddress!)
            for r in 0..<rows {
                let native = dotAVX2(format, view.row(r), x, columns: columns)
                let portable = dotPortable(format, view.row(r), x, columns: columns)
                #expect(native.bitPattern == portable.bitPattern, "row \(r): \(native) vs \(portable)")
                if native != 0 { nonZero += 1 }
            }
        }
        #expect(nonZero >= rows - 2)
    }
}
#endif
