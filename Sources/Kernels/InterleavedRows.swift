// Q4_0 weights regrouped at load time so that eight rows sit side by side in each vector (Decision 5).
//
// In GGUF's layout a row's blocks are contiguous, so an integer dot product leaves eight lanes of one row's
// partial sums that must be converted, scaled and accumulated one lane at a time. Here a 32-byte load holds four
// packed bytes of each of eight rows: the lanes are rows, a whole block's integer sum per row comes out of one
// `vpmaddwd`, and one conversion and one fused multiply-add serve eight rows. This is also the order llama.cpp
// sums Q4_0 in on AVX2 (it repacks Q4_0 the same way), and decode reads one stream of memory per row group.
//
// A group of eight rows is `blocks` group blocks of 144 bytes, one per 32-column block:
//   bytes 0..<16     the eight rows' binary16 scales, row 0 first
//   bytes 16..<144   four 32-byte chunks; chunk c holds, for rows 0…7 in turn, packed bytes 4c…4c+3 of that
//                    row's block (low nibbles: elements 4c…4c+3, high nibbles: elements 16+4c…16+4c+3)
// Rows past the matrix's last (it is padded to a multiple of eight) are zero: scale 0, so their results are 0.

/// Memory holding a matrix in the interleaved layout, freed with the last view of it.
package final class InterleavedStorage: @unchecked Sendable {
    // Sendable because the bytes are written once, before any view escapes, and only read afterwards.
    package let bytes: UnsafeMutableRawPointer
    package let byteCount: Int

    init(byteCount: Int) {
        self.byteCount = byteCount
        bytes = .allocate(byteCount: max(1, byteCount), alignment: 64)
    }

    deinit { bytes.deallocate() }
}

/// Rows per interleaved group.
let interleavedGroupRows = 8
/// Bytes of one Q4_0 group block: eight scales and eight rows' 16 packed bytes.
let interleavedQ4_0BlockBytes = 144

extension MatrixView {
    /// Whether this matrix can be stored interleaved (`interleaved()`).
    /// Only on x86-64, where the AVX2 kernels read it; elsewhere the portable kernels read GGUF's layout.
    package var canInterleave: Bool {
        #if arch(x86_64)
        format == .q4_0 && layout == .rows
        #else
        false
        #endif
    }

    /// A copy of this Q4_0 matrix in the interleaved layout, repacked by the pool's threads.
    package func interleaved(pool: ThreadPool) -> MatrixView {
        precondition(canInterleave, "only row-major Q4_0 matrices are interleaved")
        let blocks = columns / 32
        let groups = (rows + interleavedGroupRows - 1) / interleavedGroupRows
        let groupBytes = blocks * interleavedQ4_0BlockBytes
        let storage = InterleavedStorage(byteCount: groups * groupBytes)
        let source = self
        pool.parallelFor(groups) { range, _ in
            for g in range {
                interleaveGroup(source, group: g, into: storage.bytes + g &* groupBytes)
            }
        }
        return MatrixView(interleavedQ4_0: storage, rows: rows, columns: columns)
    }

    /// The first byte of row group `g` (interleaved layout).
    @inline(__always)
    func group(_ g: Int) -> UnsafeRawPointer {
        base + g &* (columns / 32) &* interleavedQ4_0BlockBytes
    }

    /// Row `r`'s bytes in GGUF's layout (`rowByteCount` of them), whatever the layout: for checks and for
    /// the rare caller that needs one row.
    package func copyRow(_ r: Int, into out: UnsafeMutableRawPointer) {
        guard layout == .interleaved8 else {
            out.copyMemory(from: row(r), byteCount: rowByteCount)
            return
        }
        let g = group(r / interleavedGroupRows)
        let j = r % interleavedGroupRows
        for b in 0..<(columns / 32) {
            let source = g + b &* interleavedQ4_0BlockBytes
            let block = out + b &* 18
            block.copyMemory(from: source + 2 &* j, byteCount: 2)
            for c in 0..<4 {
                let from: Int = 16 &+ 32 &* c &+ 4 &* j
                let to: Int = 2 &+ 4 &* c
                (block + to).copyMemory(from: source + from, byteCount: 4)
            }
        }
    }
}

/// Writes row group `g` of row-major Q4_0 `source` interleaved at `out`.
private func interleaveGroup(_ source: MatrixView, group g: Int, into out: UnsafeMutableRawPointer) {
    let blocks = source.columns / 32
    for b in 0..<blocks {
        let block = out + b &* interleavedQ4_0BlockBytes
        for j in 0..<interleavedGroupRows {
            let r = g &* interleavedGroupRows &+ j
            guard r < source.rows else {
                block.storeBytes(of: 0, toByteOffset: 2 &* j, as: UInt16.self)
                for c in 0..<4 { block.storeBytes(of: 0, toByteOffset: 16 &+ 32 &* c &+ 4 &* j, as: UInt32.self) }
                continue
            }
            let row = source.row(r) + b &* 18
            block.storeBytes(of: row.loadUnaligned(as: UInt16.self), toByteOffset: 2 &* j, as: UInt16.self)
            for c in 0..<4 {
                let packed = row.loadUnaligned(fromByteOffset: 2 &+ 4 &* c, as: UInt32.self)
                block.storeBytes(of: packed, toByteOffset: 16 &+ 32 &* c &+ 4 &* j, as: UInt32.self)
            }
        }
    }
}
