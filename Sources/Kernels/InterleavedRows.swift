#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
// Q4_0, Q4_K, Q5_K and Q6_K weights regrouped at load time so that eight rows sit side by side in each vector (Decision 5).
//
// In GGUF's layout a row's blocks are contiguous, so an integer dot product leaves eight lanes of one row's
// partial sums that must be converted, scaled and accumulated one lane at a time. Here a 32-byte load holds four
// packed bytes of each of eight rows: the lanes are rows, a 32-element block's integer sum per row comes out of
// one `vpmaddwd`, and every float operation after it serves eight rows. Decode reads one stream of memory per
// row group. (llama.cpp repacks Q4_0 the same way on AVX2.)
//
// A group of eight rows is a run of group blocks, one per block of the format:
//
// Q4_0, 144 bytes per 32 columns:
//   0..<16     the eight rows' binary16 scales d, row 0 first
//   16..<144   four 32-byte chunks; chunk c holds, for rows 0…7 in turn, packed bytes 4c…4c+3 of that row's
//              block (low nibbles: elements 4c…4c+3, high nibbles: elements 16+4c…16+4c+3)
// Q4_K, 1184 bytes per 256 columns:
//   0..<16     the rows' d; 16..<32 the rows' dmin (binary16)
//   32..<96    the 6-bit scales unpacked to bytes: sub-block j's eight rows at 32 + 8j
//   96..<160   the 6-bit minimums, likewise
//   160..<1184 for each pair p of sub-blocks, eight 32-byte chunks; chunk c holds, for rows 0…7, packed bytes
//              32p+4c…32p+4c+3 (low nibbles: sub-block 2p, high nibbles: sub-block 2p+1, elements 4c…4c+3)
// Q5_K, 1440 bytes per 256 columns: Q4_K's 1184 (from the row's d, dmin, scales and qs), then
//   1184..<1440 eight chunks; chunk c holds, for rows 0…7, qh bytes 4c…4c+3 (bit j: sub-block j's fifth bit)
// Q6_K, 1680 bytes per 256 columns:
//   0..<16     the rows' d (binary16)
//   16..<144   the 16 int8 scales: scale k's eight rows at 16 + 8k
//   144..<1168 for each half h and each 32-byte run q of the half's 64 low-nibble bytes, eight chunks; chunk c
//              holds, for rows 0…7, ql bytes 64h+32q+4c…+3
//   1168..<1680 for each half h, eight chunks; chunk c holds, for rows 0…7, qh bytes 32h+4c…+3
// Rows past the matrix's last (it is padded to a multiple of eight) are zero, so their results are 0.

/// Memory holding a matrix in the interleaved layout, freed with the last view of it.
package final class InterleavedStorage: @unchecked Sendable {
    // Sendable because the bytes are written once, before any view escapes, and only read afterwards.
    package let bytes: UnsafeMutableRawPointer
    package let byteCount: Int

    /// Anonymous pages straight from the kernel, so a refusal is an answer (nil), not a trap in the allocator.
    init?(byteCount: Int) {
        let size = max(1, byteCount)
        guard let pages = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              pages != MAP_FAILED else { return nil }
        self.byteCount = size
        bytes = pages
    }

    deinit { munmap(bytes, byteCount) }
}

/// Rows per interleaved group.
let interleavedGroupRows = 8
/// Bytes of one Q4_0 group block: eight scales and eight rows' 16 packed bytes.
let interleavedQ4_0BlockBytes = 144
/// Bytes of one Q4_K group block: eight rows' d, dmin, unpacked scales and minimums, and 128 packed bytes each.
let interleavedQ4_KBlockBytes = 1184
/// Bytes of one Q5_K group block: Q4_K's, then eight rows' 32 bytes of fifth bits.
let interleavedQ5_KBlockBytes = 1440
/// Bytes of one Q6_K group block: eight rows' 210 bytes, regrouped.
let interleavedQ6_KBlockBytes = 1680

extension WeightFormat {
    /// Bytes of one interleaved group block, and columns per block; nil for formats never interleaved.
    var interleavedBlock: (bytes: Int, columns: Int)? {
        switch self {
        case .q4_0: (interleavedQ4_0BlockBytes, 32)
        case .q4_K: (interleavedQ4_KBlockBytes, 256)
        case .q5_K: (interleavedQ5_KBlockBytes, 256)
        case .q6_K: (interleavedQ6_KBlockBytes, 256)
        default: nil
        }
    }
}

extension MatrixView {
    /// Whether this matrix can be stored interleaved (`interleaved()`).
    /// Only on x86-64, where the AVX2 kernels read it; elsewhere the portable kernels read GGUF's layout.
    package var canInterleave: Bool {
        #if arch(x86_64) && !PORTABLE_KERNELS
        format.interleavedBlock != nil && layout == .rows
        #else
        false
        #endif
    }

    /// A copy of this matrix in the interleaved layout, repacked by the pool's threads; nil when the memory for
    /// it cannot be had (the row-major view computes the same results, more slowly). The rows are copied in slabs;
    /// `copied` is told each slab's rows once they are done, so their source can be let go before the next.
    package func interleaved(pool: ThreadPool, copied: ((Range<Int>) -> Void)? = nil) -> MatrixView? {
        precondition(canInterleave, "only row-major Q4_0, Q4_K, Q5_K and Q6_K matrices are interleaved")
        let groups = (rows + interleavedGroupRows - 1) / interleavedGroupRows
        let groupBytes = interleavedGroupByteCount
        guard let storage = InterleavedStorage(byteCount: groups * groupBytes) else { return nil }
        let source = self
        // About 1 MiB of weights a slab: a tensor's source and its copy are never both resident for long.
        let slab = max(1, (1 << 20) / groupBytes)
        var first = 0
        while first < groups {
            let end = min(groups, first + slab)
            pool.parallelFor(end - first) { range, _ in
                for g in (first + range.lowerBound)..<(first + range.upperBound) {
                    let out = storage.bytes + g &* groupBytes
                    switch source.format {
                    case .q4_0: interleaveQ4_0Group(source, group: g, into: out)
                    case .q4_K, .q5_K: interleaveScaleMinKGroup(source, group: g, into: out)
                    default: interleaveQ6_KGroup(source, group: g, into: out)
                    }
                }
            }
            copied?((first * interleavedGroupRows)..<min(rows, end * interleavedGroupRows))
            first = end
        }
        return MatrixView(interleaved: storage, format: format, rows: rows, columns: columns)
    }

    /// Bytes per group of eight interleaved rows.
    var interleavedGroupByteCount: Int {
        let block = format.interleavedBlock!
        return columns / block.columns &* block.bytes
    }

    /// The first byte of row group `g` (interleaved layout).
    @inline(__always)
    func group(_ g: Int) -> UnsafeRawPointer {
        base + g &* interleavedGroupByteCount
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
        if format == .q4_K || format == .q5_K {
            copyScaleMinKRow(g, format: format, row: j, superBlocks: columns / 256, into: out)
            return
        }
        if format == .q6_K {
            for sb in 0..<(columns / 256) {
                q6KPieces(row: out + sb &* 210, group: UnsafeMutableRawPointer(mutating: g + sb &* interleavedQ6_KBlockBytes),
                          j: j) { row, group, count in row.copyMemory(from: group, byteCount: count) }
            }
            return
        }
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

/// Row `j` of a Q4_K or Q5_K group in GGUF's layout: the 6-bit scales and minimums packed back as `scaleAndMin`
/// reads them.
private func copyScaleMinKRow(
    _ g: UnsafeRawPointer, format: WeightFormat, row j: Int, superBlocks: Int, into out: UnsafeMutableRawPointer
) {
    let groupBytes = format.interleavedBlock!.bytes, rowBytes = format.blockByteCount
    let qs = scaleMinKQuantsOffset(format)
    for sb in 0..<superBlocks {
        let source = g + sb &* groupBytes
        let block = out + sb &* rowBytes
        block.copyMemory(from: source + 2 &* j, byteCount: 2)
        (block + 2).copyMemory(from: source + (16 &+ 2 &* j), byteCount: 2)
        func scale(_ k: Int) -> UInt8 { source.load(fromByteOffset: 32 &+ 8 &* k &+ j, as: UInt8.self) }
        func minimum(_ k: Int) -> UInt8 { source.load(fromByteOffset: 96 &+ 8 &* k &+ j, as: UInt8.self) }
        for k in 0..<4 {
            block.storeBytes(of: scale(k) | (scale(k &+ 4) >> 4) << 6, toByteOffset: 4 &+ k, as: UInt8.self)
            block.storeBytes(of: minimum(k) | (minimum(k &+ 4) >> 4) << 6, toByteOffset: 8 &+ k, as: UInt8.self)
            block.storeBytes(of: (scale(k &+ 4) & 0x0F) | (minimum(k &+ 4) & 0x0F) << 4, toByteOffset: 12 &+ k, as: UInt8.self)
        }
        for p in 0..<4 {
            for c in 0..<8 {
                let from: Int = 160 &+ 256 &* p &+ 32 &* c &+ 4 &* j
                let to: Int = qs &+ 32 &* p &+ 4 &* c
                (block + to).copyMemory(from: source + from, byteCount: 4)
            }
        }
        if format == .q5_K {
            for c in 0..<8 {
                let from: Int = 1184 &+ 32 &* c &+ 4 &* j
                (block + (16 &+ 4 &* c)).copyMemory(from: source + from, byteCount: 4)
            }
        }
    }
}

/// Writes row group `g` of row-major Q4_0 `source` interleaved at `out`.
private func interleaveQ4_0Group(_ source: MatrixView, group g: Int, into out: UnsafeMutableRawPointer) {
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

/// Where a Q4_K or Q5_K super-block's packed nibbles start (after d, dmin, the 12 scale bytes and Q5_K's qh).
private func scaleMinKQuantsOffset(_ format: WeightFormat) -> Int { format == .q5_K ? 48 : 16 }

/// Writes row group `g` of row-major Q4_K or Q5_K `source` interleaved at `out`.
private func interleaveScaleMinKGroup(_ source: MatrixView, group g: Int, into out: UnsafeMutableRawPointer) {
    out.initializeMemory(as: UInt8.self, repeating: 0, count: source.interleavedGroupByteCount)
    let isQ5 = source.format == .q5_K
    let groupBytes = source.format.interleavedBlock!.bytes, rowBytes = source.format.blockByteCount
    let qs = scaleMinKQuantsOffset(source.format)
    for sb in 0..<(source.columns / 256) {
        let block = out + sb &* groupBytes
        for j in 0..<interleavedGroupRows {
            let r = g &* interleavedGroupRows &+ j
            guard r < source.rows else { continue }
            let row = source.row(r) + sb &* rowBytes
            block.storeBytes(of: row.loadUnaligned(as: UInt16.self), toByteOffset: 2 &* j, as: UInt16.self)
            block.storeBytes(of: row.loadUnaligned(fromByteOffset: 2, as: UInt16.self), toByteOffset: 16 &+ 2 &* j, as: UInt16.self)
            for k in 0..<8 {
                let (scale, minimum) = scaleAndMin(row + 4, k)
                block.storeBytes(of: scale, toByteOffset: 32 &+ 8 &* k &+ j, as: UInt8.self)
                block.storeBytes(of: minimum, toByteOffset: 96 &+ 8 &* k &+ j, as: UInt8.self)
            }
            for p in 0..<4 {
                for c in 0..<8 {
                    let packed = row.loadUnaligned(fromByteOffset: qs &+ 32 &* p &+ 4 &* c, as: UInt32.self)
                    let to: Int = 160 &+ 256 &* p &+ 32 &* c &+ 4 &* j
                    block.storeBytes(of: packed, toByteOffset: to, as: UInt32.self)
                }
            }
            if isQ5 {
                for c in 0..<8 {
                    let bits = row.loadUnaligned(fromByteOffset: 16 &+ 4 &* c, as: UInt32.self)
                    block.storeBytes(of: bits, toByteOffset: 1184 &+ 32 &* c &+ 4 &* j, as: UInt32.self)
                }
            }
        }
    }
}

/// Calls `move(row byte, group byte, count)` for every piece of row `j`'s Q6_K super-block at `row` and its place in
/// the group block at `group`: the one table of where each byte goes, read both ways.
@inline(__always)
private func q6KPieces(
    row: UnsafeMutableRawPointer, group: UnsafeMutableRawPointer, j: Int,
    _ move: (UnsafeMutableRawPointer, UnsafeMutableRawPointer, Int) -> Void
) {
    move(row + 208, group + 2 &* j, 2)
    for k in 0..<16 { move(row + (192 &+ k), group + (16 &+ 8 &* k &+ j), 1) }
    for h in 0..<2 {
        for q in 0..<2 {
            for c in 0..<8 {
                let from: Int = 64 &* h &+ 32 &* q &+ 4 &* c
                let to: Int = 144 &+ 512 &* h &+ 256 &* q &+ 32 &* c &+ 4 &* j
                move(row + from, group + to, 4)
            }
        }
        for c in 0..<8 {
            let from: Int = 128 &+ 32 &* h &+ 4 &* c
            let to: Int = 1168 &+ 256 &* h &+ 32 &* c &+ 4 &* j
            move(row + from, group + to, 4)
        }
    }
}

/// Writes row group `g` of row-major Q6_K `source` interleaved at `out`.
private func interleaveQ6_KGroup(_ source: MatrixView, group g: Int, into out: UnsafeMutableRawPointer) {
    out.initializeMemory(as: UInt8.self, repeating: 0, count: source.interleavedGroupByteCount)
    for j in 0..<interleavedGroupRows {
        let r = g &* interleavedGroupRows &+ j
        guard r < source.rows else { continue }
        for sb in 0..<(source.columns / 256) {
            q6KPieces(row: UnsafeMutableRawPointer(mutating: source.row(r) + sb &* 210),
                      group: out + sb &* interleavedQ6_KBlockBytes, j: j) { row, group, count in
                group.copyMemory(from: row, byteCount: count)
            }
        }
    }
}
