#if !_endian(little)
#error("The dequantization kernels read GGUF's little-endian blocks with native loads.")
#endif

/// Weight storage formats the engine computes with.
///
/// Each format stores a row as a sequence of fixed-size blocks; the layouts are ggml's (`ggml-common.h`), which
/// every GGUF file uses. The plain float formats are "blocks" of one element.
package enum WeightFormat: Sendable, CaseIterable {
    case f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q2_K, q3_K, q4_K, q5_K, q6_K

    /// The number of elements one block holds (1, 32 or 256).
    package var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0: 32
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K: 256
        }
    }

    /// The number of bytes one block occupies.
    package var blockByteCount: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .q4_0: 18  // f16 d, 16 bytes of nibbles
        case .q4_1: 20  // f16 d, f16 m, 16 bytes of nibbles
        case .q5_0: 22  // f16 d, u32 high bits, 16 bytes of nibbles
        case .q5_1: 24  // f16 d, f16 m, u32 high bits, 16 bytes of nibbles
        case .q8_0: 34  // f16 d, 32 int8
        case .q2_K: 84  // 16 scale/min bytes, 64 bytes of 2-bit values, f16 d, f16 dmin
        case .q3_K: 110  // 32 bytes high-bit mask, 64 bytes of 2-bit values, 12 bytes of 6-bit scales, f16 d
        case .q4_K: 144  // f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles
        case .q5_K: 176  // as q4_K plus 32 bytes of high bits before the nibbles
        case .q6_K: 210  // 128 bytes low nibbles, 64 bytes high 2 bits, 16 int8 scales, f16 d
        }
    }

    /// The type id ggml and GGUF use for this format (the `type` field of a GGUF tensor info).
    package var ggmlTypeID: UInt32 {
        switch self {
        case .f32: 0
        case .f16: 1
        case .q4_0: 2
        case .q4_1: 3
        case .q5_0: 6
        case .q5_1: 7
        case .q8_0: 8
        case .q2_K: 10
        case .q3_K: 11
        case .q4_K: 12
        case .q5_K: 13
        case .q6_K: 14
        case .bf16: 30
        }
    }

    /// Creates the format with ggml type id `ggmlTypeID`, or nil when the engine cannot compute with that type.
    package init?(ggmlTypeID: UInt32) {
        guard let format = WeightFormat.allCases.first(where: { $0.ggmlTypeID == ggmlTypeID }) else { return nil }
        self = format
    }

    /// The number of bytes `elementCount` elements occupy, or nil when the count is negative, not a whole number
    /// of blocks, or the size overflows `Int`.
    package func byteCount(forElements elementCount: Int) -> Int? {
        guard elementCount >= 0, elementCount % blockSize == 0 else { return nil }
        let (bytes, overflow) = (elementCount / blockSize).multipliedReportingOverflow(by: blockByteCount)
        return overflow ? nil : bytes
    }
}
