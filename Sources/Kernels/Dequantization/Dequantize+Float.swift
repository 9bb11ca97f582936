// The unquantized formats: F32 (a copy), F16 and BF16 (exact widening).

/// Copies `count` little-endian `Float`s from `source` (any alignment) into `output`.
package func convertFloat32(_ source: UnsafeRawPointer, count: Int, into output: UnsafeMutablePointer<Float>) {
    // Safe because the caller guarantees 4 × count readable bytes and room for count floats; copyMemory is a
    // byte copy, so the source's alignment does not matter.
    UnsafeMutableRawPointer(output).copyMemory(from: source, byteCount: count &* 4)
}

/// Converts `count` little-endian binary16 values at `source` (any alignment) to `Float`, exactly.
package func convertFloat16(_ source: UnsafeRawPointer, count: Int, into output: UnsafeMutablePointer<Float>) {
    for i in 0..<count {
        // Safe because the caller guarantees 2 × count readable bytes and room for count floats.
        let bits = source.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)
        output[i] = floatFromHalfBits(UInt16(littleEndian: bits))
    }
}

/// Converts `count` little-endian bfloat16 values at `source` (any alignment) to `Float`, exactly.
package func convertBFloat16(_ source: UnsafeRawPointer, count: Int, into output: UnsafeMutablePointer<Float>) {
    for i in 0..<count {
        // Safe because the caller guarantees 2 × count readable bytes and room for count floats.
        let bits = source.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)
        output[i] = floatFromBFloat16Bits(UInt16(littleEndian: bits))
    }
}
