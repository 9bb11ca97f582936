/// Dequantizes `count` elements stored in `format`, starting at `source`, into `output`.
///
/// Every format is decoded exactly as ggml's reference `dequantize_row_*` functions and the `gguf` Python
/// package do, and in the same arithmetic order, so results match them bit for bit. Nothing is allocated.
///
/// - Parameters:
///   - format: how the source is stored.
///   - source: the first byte of the first block; any alignment. `format.byteCount(forElements: count)` bytes
///     must be readable from it.
///   - count: the number of elements; a non-negative multiple of `format.blockSize`.
///   - output: room for `count` floats; must not overlap the source.
package func dequantize(
    _ format: WeightFormat, _ source: UnsafeRawPointer, count: Int, into output: UnsafeMutablePointer<Float>
) {
    precondition(count >= 0 && count % format.blockSize == 0, "dequantize: \(count) is not a whole number of blocks")
    let blockCount = count / format.blockSize
    switch format {
    case .f32: convertFloat32(source, count: count, into: output)
    case .f16: convertFloat16(source, count: count, into: output)
    case .bf16: convertBFloat16(source, count: count, into: output)
    case .q4_0: dequantizeQ4_0(source, blockCount: blockCount, into: output)
    case .q4_1: dequantizeQ4_1(source, blockCount: blockCount, into: output)
    case .q5_0: dequantizeQ5_0(source, blockCount: blockCount, into: output)
    case .q5_1: dequantizeQ5_1(source, blockCount: blockCount, into: output)
    case .q8_0: dequantizeQ8_0(source, blockCount: blockCount, into: output)
    case .q2_K: dequantizeQ2_K(source, blockCount: blockCount, into: output)
    case .q3_K: dequantizeQ3_K(source, blockCount: blockCount, into: output)
    case .q4_K: dequantizeQ4_K(source, blockCount: blockCount, into: output)
    case .q5_K: dequantizeQ5_K(source, blockCount: blockCount, into: output)
    case .q6_K: dequantizeQ6_K(source, blockCount: blockCount, into: output)
    }
}
