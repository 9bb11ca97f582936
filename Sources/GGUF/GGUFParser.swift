/// Parses and validates the GGUF header in a buffer of untrusted bytes.
///
/// Layout (all little-endian):
/// ```
/// "GGUF" | u32 version | u64 tensorCount | u64 kvCount
/// kvCount × (string key | u32 valueType | value)
/// tensorCount × (string name | u32 nDims | nDims × u64 ne | u32 type | u64 offset)
/// padding to `general.alignment` | tensor data
/// ```
/// A string is `u64 length` + bytes; an array is `u32 elementType | u64 count | elements`.
package enum GGUFParser {
    /// Arrays nested deeper than this are refused; real files nest at most once.
    static let maximumArrayDepth = 4
    /// Tensor names are at most 63 bytes in ggml (`GGML_MAX_NAME` is 64 with the terminator).
    static let maximumTensorNameLength = 63
    /// ggml tensors have at most four dimensions.
    static let maximumDimensions = 4
    /// A larger alignment would only waste address space; llama.cpp caps it similarly.
    static let maximumAlignment = 1 << 20

    /// Parses the header in `bytes`, which must be the whole file.
    ///
    /// - Parameter bytes: the file's contents.
    /// - Returns: the validated header; every tensor lies within `bytes`.
    /// - Throws: `GGUFError` naming the first problem found.
    package static func parse(_ bytes: UnsafeRawBufferPointer) throws(GGUFError) -> GGUFContents {
        var cursor = ByteCursor(bytes)
        guard bytes.count >= 24 else {
            if bytes.count >= 4, try cursor.read(UInt32.self, "magic") != magic { throw .badMagic }
            throw .tooSmall(byteCount: bytes.count)
        }
        guard try cursor.read(UInt32.self, "magic") == magic else { throw .badMagic }
        let version = try cursor.read(UInt32.self, "version")
        // A byte-swapped version number has its low half zero (ggml's own endianness test).
        if version & 0xFFFF == 0, version != 0 { throw .bigEndian }
        guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }

        let tensorCount = try cursor.read(UInt64.self, "tensor count")
        let keyCount = try cursor.read(UInt64.self, "metadata count")
        // Each entry needs a minimum number of bytes, so the counts are bounded by the file size before any
        // allocation is sized from them.
        guard keyCount <= UInt64(cursor.remaining / 13) else {
            throw .countTooLarge(context: "metadata count", count: keyCount)
        }
        guard tensorCount <= UInt64(cursor.remaining / 33) else {
            throw .countTooLarge(context: "tensor count", count: tensorCount)
        }

        var keys: [String] = []
        var metadata: [String: GGUFValue] = [:]
        keys.reserveCapacity(Int(keyCount))
        for index in 0..<Int(keyCount) {
            guard let key = try cursor.readStrictString("metadata key #\(index)"), !key.isEmpty else {
                throw .invalidKey(index: index)
            }
            guard metadata[key] == nil else { throw .duplicateKey(key) }
            let rawType = try cursor.read(UInt32.self, "type of metadata key '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw .unknownValueType(key: key, rawType: rawType)
            }
            metadata[key] = try readValue(type, key: key, depth: 0, from: &cursor)
            keys.append(key)
        }

        let alignment = try validatedAlignment(metadata["general.alignment"])

        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(Int(tensorCount))
        var names: Set<String> = []
        for index in 0..<Int(tensorCount) {
            let tensor = try readTensorInfo(index: index, alignment: alignment, from: &cursor)
            guard names.insert(tensor.name).inserted else { throw .duplicateTensor(tensor.name) }
            tensors.append(tensor)
        }

        // The data section starts at the next multiple of the alignment after the tensor directory.
        let headerEnd = cursor.position
        let padding = (alignment - headerEnd % alignment) % alignment
        let (dataOffset, overflow) = headerEnd.addingReportingOverflow(padding)
        if !tensors.isEmpty {
            guard !overflow, dataOffset <= bytes.count else { throw .truncated(context: "tensor data section") }
        }
        let dataSize = max(0, bytes.count - dataOffset)
        try validatePlacement(tensors, dataSize: dataSize)

        return GGUFContents(
            version: version, metadataKeys: keys, metadata: metadata, tensors: tensors,
            alignment: alignment, dataOffset: overflow ? bytes.count : dataOffset)
    }

    static let magic: UInt32 = 0x4655_4747  // "GGUF" read little-endian

    // MARK: - Metadata values

    private static func readValue(
        _ type: GGUFValueType, key: String, depth: Int, from cursor: inout ByteCursor
    ) throws(GGUFError) -> GGUFValue {
        let context = "value of metadata key '\(key)'"
        switch type {
        case .uint8: return .uint8(try cursor.read(UInt8.self, context))
        case .int8: return .int8(try cursor.read(Int8.self, context))
        case .uint16: return .uint16(try cursor.read(UInt16.self, context))
        case .int16: return .int16(try cursor.read(Int16.self, context))
        case .uint32: return .uint32(try cursor.read(UInt32.self, context))
        case .int32: return .int32(try cursor.read(Int32.self, context))
        case .uint64: return .uint64(try cursor.read(UInt64.self, context))
        case .int64: return .int64(try cursor.read(Int64.self, context))
        case .float32: return .float32(try cursor.readFloat(context))
        case .float64: return .float64(try cursor.readDouble(context))
        case .bool:
            let raw = try cursor.read(UInt8.self, context)
            return .bool(raw != 0)
        case .string: return .string(try cursor.readString(context))
        case .array: return .array(try readArray(key: key, depth: depth, from: &cursor))
        }
    }

    private static func readArray(key: String, depth: Int, from cursor: inout ByteCursor) throws(GGUFError) -> GGUFArray {
        guard depth < maximumArrayDepth else { throw .arrayNestingTooDeep(key: key) }
        let context = "array of metadata key '\(key)'"
        let rawType = try cursor.read(UInt32.self, context)
        guard let type = GGUFValueType(rawValue: rawType) else { throw .unknownValueType(key: key, rawType: rawType) }
        let count = try cursor.read(UInt64.self, context)
        // Bound the element count by the bytes left before reserving anything.
        guard count <= UInt64(cursor.remaining / type.minimumByteCount) else {
            throw .countTooLarge(context: "length of \(context)", count: count)
        }
        let n = Int(count)
        switch type {
        case .uint8: return .uint8(try readScalars(n, context, &cursor))
        case .int8: return .int8(try readScalars(n, context, &cursor))
        case .uint16: return .uint16(try readScalars(n, context, &cursor))
        case .int16: return .int16(try readScalars(n, context, &cursor))
        case .uint32: return .uint32(try readScalars(n, context, &cursor))
        case .int32: return .int32(try readScalars(n, context, &cursor))
        case .uint64: return .uint64(try readScalars(n, context, &cursor))
        case .int64: return .int64(try readScalars(n, context, &cursor))
        case .float32:
            let bits: [UInt32] = try readScalars(n, context, &cursor)
            return .float32(bits.map(Float.init(bitPattern:)))
        case .float64:
            let bits: [UInt64] = try readScalars(n, context, &cursor)
            return .float64(bits.map(Double.init(bitPattern:)))
        case .bool:
            let raw: [UInt8] = try readScalars(n, context, &cursor)
            return .bool(raw.map { $0 != 0 })
        case .string:
            var strings: [String] = []
            strings.reserveCapacity(n)
            for _ in 0..<n { strings.append(try cursor.readString(context)) }
            return .string(strings)
        case .array:
            var arrays: [GGUFArray] = []
            arrays.reserveCapacity(n)
            for _ in 0..<n { arrays.append(try readArray(key: key, depth: depth + 1, from: &cursor)) }
            return .array(arrays)
        }
    }

    private static func readScalars<T: FixedWidthInteger>(
        _ count: Int, _ context: String, _ cursor: inout ByteCursor
    ) throws(GGUFError) -> [T] {
        let byteCount = count * MemoryLayout<T>.size  // cannot overflow: count <= remaining / size
        guard byteCount <= cursor.remaining else { throw .truncated(context: context) }
        let start = cursor.position
        try cursor.skip(byteCount, context: context)
        let base = cursor.bytes.baseAddress!.advanced(by: start)
        return (0..<count).map { i in
            // Safe because start + count * size <= bytes.count was checked above.
            T(littleEndian: UnsafeRawPointer(base).loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
        }
    }

    private static func validatedAlignment(_ value: GGUFValue?) throws(GGUFError) -> Int {
        guard let value else { return GGUFContents.defaultAlignment }
        guard case .uint32(let raw) = value else {
            throw .invalidAlignment("must be a uint32, not \(value.typeDescription)")
        }
        let alignment = Int(raw)
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw .invalidAlignment("must be a power of two, not \(alignment)")
        }
        guard alignment <= maximumAlignment else {
            throw .invalidAlignment("\(alignment) is larger than the limit \(maximumAlignment)")
        }
        return alignment
    }

    // MARK: - Tensor directory

    private static func readTensorInfo(
        index: Int, alignment: Int, from cursor: inout ByteCursor
    ) throws(GGUFError) -> GGUFTensorInfo {
        guard let name = try cursor.readStrictString("name of tensor #\(index)") else {
            throw .invalidTensorName(index: index, reason: "not valid UTF-8")
        }
        guard !name.isEmpty else { throw .invalidTensorName(index: index, reason: "empty") }
        guard name.utf8.count <= maximumTensorNameLength else {
            throw .invalidTensorName(index: index, reason: "longer than \(maximumTensorNameLength) bytes")
        }
        let dimensionCount = try cursor.read(UInt32.self, "dimension count of tensor '\(name)'")
        guard (1...UInt32(maximumDimensions)).contains(dimensionCount) else {
            throw .invalidDimensions(tensor: name, reason: "\(dimensionCount) dimensions (1 to 4 are allowed)")
        }
        var dimensions: [Int] = []
        var elementCount = 1
        for _ in 0..<Int(dimensionCount) {
            let raw = try cursor.read(UInt64.self, "dimensions of tensor '\(name)'")
            guard raw > 0, raw <= UInt64(Int.max) else {
                throw .invalidDimensions(tensor: name, reason: "dimension \(raw) is out of range")
            }
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: Int(raw))
            guard !overflow else { throw .invalidDimensions(tensor: name, reason: "element count overflows") }
            elementCount = product
            dimensions.append(Int(raw))
        }
        let rawType = try cursor.read(UInt32.self, "type of tensor '\(name)'")
        guard let type = GGMLType(rawValue: rawType) else { throw .unknownTensorType(tensor: name, rawType: rawType) }
        guard dimensions[0] % type.blockSize == 0 else {
            throw .invalidDimensions(
                tensor: name, reason: "row length \(dimensions[0]) is not a multiple of the \(type.name) block size \(type.blockSize)")
        }
        guard let byteCount = type.byteCount(forElements: elementCount) else {
            throw .invalidDimensions(tensor: name, reason: "byte size overflows")
        }
        let rawOffset = try cursor.read(UInt64.self, "offset of tensor '\(name)'")
        guard rawOffset % UInt64(alignment) == 0 else {
            throw .misalignedTensor(tensor: name, offset: rawOffset, alignment: alignment)
        }
        guard rawOffset <= UInt64(Int.max) else { throw .tensorPastEndOfFile(tensor: name) }
        return GGUFTensorInfo(
            name: name, dimensions: dimensions, type: type, offset: Int(rawOffset), byteCount: byteCount)
    }

    private static func validatePlacement(_ tensors: [GGUFTensorInfo], dataSize: Int) throws(GGUFError) {
        for tensor in tensors {
            let (end, overflow) = tensor.offset.addingReportingOverflow(tensor.byteCount)
            guard !overflow, end <= dataSize else { throw .tensorPastEndOfFile(tensor: tensor.name) }
        }
        let sorted = tensors.sorted { $0.offset < $1.offset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.offset + a.byteCount > b.offset {
            throw .overlappingTensors(a.name, b.name)
        }
    }
}
