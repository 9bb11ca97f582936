/// A reader over untrusted little-endian bytes that checks every read against the end of the buffer.
///
/// Reads never trap: a read that would pass the end throws, naming what was being read.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    private(set) var position: Int = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - position }

    mutating func skip(_ count: Int, context: @autoclosure () -> String) throws(GGUFError) {
        guard count >= 0, count <= remaining else { throw .truncated(context: context()) }
        position += count
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ context: @autoclosure () -> String) throws(GGUFError) -> T {
        guard MemoryLayout<T>.size <= remaining else { throw .truncated(context: context()) }
        // Safe because the bounds were checked above; loadUnaligned tolerates any alignment.
        let value = bytes.loadUnaligned(fromByteOffset: position, as: T.self)
        position += MemoryLayout<T>.size
        return T(littleEndian: value)
    }

    mutating func readFloat(_ context: @autoclosure () -> String) throws(GGUFError) -> Float {
        Float(bitPattern: try read(UInt32.self, context()))
    }

    mutating func readDouble(_ context: @autoclosure () -> String) throws(GGUFError) -> Double {
        Double(bitPattern: try read(UInt64.self, context()))
    }

    /// Reads a `uint64` length followed by that many bytes, checking the length against the bytes left before
    /// touching them. Nothing is copied: callers check the length against their own limit before decoding.
    mutating func readStringBytes(_ context: @autoclosure () -> String) throws(GGUFError) -> UnsafeRawBufferPointer {
        let length = try read(UInt64.self, context())
        guard length <= UInt64(remaining) else { throw .truncated(context: context()) }
        let start = position
        position += Int(length)
        // Safe because start + length <= bytes.count was checked above.
        return UnsafeRawBufferPointer(rebasing: bytes[start..<position])
    }
}
