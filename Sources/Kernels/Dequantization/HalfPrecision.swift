/// Conversions from the two 16-bit float formats GGUF stores (IEEE binary16 and bfloat16) to `Float`.
///
/// Both conversions are exact: every binary16 and bfloat16 value is representable as a `Float`. They work on
/// bit patterns rather than through `Float16`, because the hardware and compiler-rt conversions quiet a
/// signalling NaN, while ggml and numpy keep the payload bit for bit (`0x7C01` becomes `0x7F802000`).

/// Converts the IEEE binary16 value with bit pattern `bits` to `Float`, exactly.
///
/// Zeros, subnormals, infinities and NaNs (payload and sign included) map as numpy's `float16 → float32` does.
/// Written with selects rather than branches, so that a loop calling it vectorises.
@inline(__always)
package func floatFromHalfBits(_ bits: UInt16) -> Float {
    let h = UInt32(truncatingIfNeeded: bits)
    let sign = (h & 0x8000) << 16
    let magnitude = h & 0x7FFF
    let exponent = magnitude & 0x7C00
    // Move exponent and mantissa into place and rebias the exponent from 15 to 127. This is the answer for
    // normal numbers.
    let normal = (magnitude << 13) &+ ((127 - 15) << 23)
    // Infinity and NaN: the exponent must become all ones, so add the rest of the rebias (255 - 143); the
    // mantissa (NaN payload) moves over unchanged.
    let special = normal &+ ((128 - 16) << 23)
    // Zero and subnormals: `normal` is 2^-15 · (1 + m/1024); bumping its exponent gives 2^-14 · (1 + m/1024),
    // and subtracting 2^-14 leaves m · 2^-24. The subtraction is exact (both operands share the exponent).
    let subnormal = (Float(bitPattern: normal &+ (1 << 23)) - Float(bitPattern: 113 << 23)).bitPattern
    let result = exponent == 0x7C00 ? special : (exponent == 0 ? subnormal : normal)
    return Float(bitPattern: result | sign)
}

/// Converts the bfloat16 value with bit pattern `bits` to `Float`, exactly (bfloat16 is the top half of a
/// `Float`, so this keeps every bit, NaN payloads included).
@inline(__always)
package func floatFromBFloat16Bits(_ bits: UInt16) -> Float {
    Float(bitPattern: UInt32(truncatingIfNeeded: bits) << 16)
}

/// Reads the little-endian binary16 value at `offset` bytes past `pointer` (any alignment) as a `Float`.
@inline(__always)
func loadHalf(_ pointer: UnsafeRawPointer, _ offset: Int) -> Float {
    // Safe because callers pass offsets inside the block they were given.
    floatFromHalfBits(UInt16(littleEndian: pointer.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
}
