import GGUF

/// Builds GGUF files in memory for tests: metadata of every type, tensors of any type with raw data.
///
/// The writer follows the layout `GGUFParser` documents. It does not validate: tests use it to build broken
/// files too, so `rawTensor` and `patch` let a test write any bytes it likes.
package struct GGUFWriter {
    package var version: UInt32 = 3
    package var alignment: Int = 32
    private var metadata: [(String, GGUFValue)] = []
    private var tensors: [(name: String, dimensions: [Int], type: UInt32, data: [UInt8])] = []

    package init() {}

    /// Adds a metadata entry (in order; duplicates are kept, so tests can write them).
    package mutating func set(_ key: String, _ value: GGUFValue) {
        metadata.append((key, value))
    }

    /// Adds a tensor with the given shape, type and raw data bytes.
    package mutating func addTensor(_ name: String, dimensions: [Int], type: GGMLType, data: [UInt8]) {
        tensors.append((name, dimensions, type.rawValue, data))
    }

    /// Adds an F32 tensor.
    package mutating func addTensor(_ name: String, dimensions: [Int], values: [Float]) {
        var data: [UInt8] = []
        data.reserveCapacity(values.count * 4)
        for v in values { data.append(contentsOf: withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init)) }
        tensors.append((name, dimensions, GGMLType.f32.rawValue, data))
    }

    /// Adds a tensor whose type id is written as given, known or not.
    package mutating func addRawTensor(_ name: String, dimensions: [Int], rawType: UInt32, data: [UInt8]) {
        tensors.append((name, dimensions, rawType, data))
    }

    /// The byte offsets, within the returned file, of each tensor's info record and of the data section.
    package struct Layout {
        package var tensorInfoOffsets: [Int] = []
        package var dataOffset = 0
        package var metadataOffsets: [Int] = []
    }

    /// Encodes the file.
    package func encoded() -> [UInt8] { encodedWithLayout().bytes }

    /// Encodes the file and reports where its parts landed, so tests can corrupt specific fields.
    package func encodedWithLayout() -> (bytes: [UInt8], layout: Layout) {
        var out: [UInt8] = []
        var layout = Layout()
        out.append(contentsOf: Array("GGUF".utf8))
        out.appendLE(version)
        out.appendLE(UInt64(tensors.count))
        out.appendLE(UInt64(metadata.count))
        for (key, value) in metadata {
            layout.metadataOffsets.append(out.count)
            out.appendString(key)
            out.appendValue(value)
        }
        var offsets: [Int] = []
        var running = 0
        for tensor in tensors {
            offsets.append(running)
            running += tensor.data.count
            running = (running + alignment - 1) / alignment * alignment
        }
        for (tensor, offset) in zip(tensors, offsets) {
            layout.tensorInfoOffsets.append(out.count)
            out.appendString(tensor.name)
            out.appendLE(UInt32(tensor.dimensions.count))
            for d in tensor.dimensions { out.appendLE(UInt64(d)) }
            out.appendLE(tensor.type)
            out.appendLE(UInt64(offset))
        }
        while out.count % alignment != 0 { out.append(0) }
        layout.dataOffset = out.count
        for (tensor, offset) in zip(tensors, offsets) {
            while out.count < layout.dataOffset + offset { out.append(0) }
            out.append(contentsOf: tensor.data)
        }
        while out.count % alignment != 0 { out.append(0) }
        return (out, layout)
    }
}

extension [UInt8] {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func appendString(_ s: String) {
        appendLE(UInt64(s.utf8.count))
        append(contentsOf: Array(s.utf8))
    }

    mutating func appendValue(_ value: GGUFValue) {
        switch value {
        case .uint8(let v): appendLE(UInt32(0)); appendLE(v)
        case .int8(let v): appendLE(UInt32(1)); appendLE(v)
        case .uint16(let v): appendLE(UInt32(2)); appendLE(v)
        case .int16(let v): appendLE(UInt32(3)); appendLE(v)
        case .uint32(let v): appendLE(UInt32(4)); appendLE(v)
        case .int32(let v): appendLE(UInt32(5)); appendLE(v)
        case .float32(let v): appendLE(UInt32(6)); appendLE(v.bitPattern)
        case .bool(let v): appendLE(UInt32(7)); append(v ? 1 : 0)
        case .string(let s): appendLE(UInt32(8)); appendString(s)
        case .array(let a): appendLE(UInt32(9)); appendArray(a)
        case .uint64(let v): appendLE(UInt32(10)); appendLE(v)
        case .int64(let v): appendLE(UInt32(11)); appendLE(v)
        case .float64(let v): appendLE(UInt32(12)); appendLE(v.bitPattern)
        }
    }

    mutating func appendArray(_ array: GGUFArray) {
        func header(_ type: UInt32) {
            appendLE(type)
            appendLE(UInt64(array.count))
        }
        switch array {
        case .uint8(let a): header(0); a.forEach { appendLE($0) }
        case .int8(let a): header(1); a.forEach { appendLE($0) }
        case .uint16(let a): header(2); a.forEach { appendLE($0) }
        case .int16(let a): header(3); a.forEach { appendLE($0) }
        case .uint32(let a): header(4); a.forEach { appendLE($0) }
        case .int32(let a): header(5); a.forEach { appendLE($0) }
        case .float32(let a): header(6); a.forEach { appendLE($0.bitPattern) }
        case .bool(let a): header(7); a.forEach { append($0 ? 1 : 0) }
        case .string(let a): header(8); a.forEach { appendString($0) }
        case .array(let a): header(9); a.forEach { appendArray($0) }
        case .uint64(let a): header(10); a.forEach { appendLE($0) }
        case .int64(let a): header(11); a.forEach { appendLE($0) }
        case .float64(let a): header(12); a.forEach { appendLE($0.bitPattern) }
        }
    }
}
