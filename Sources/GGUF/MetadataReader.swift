/// Reads the metadata section of a GGUF file, charging everything it allocates against a memory budget.
///
/// Every length is checked against the bytes left (so each element costs file bytes) and against a per-string
/// or per-array limit, and the memory the values will take is charged before they are allocated. Together these
/// bound the metadata's memory by a small multiple of the file's size, whatever the file declares: a file of
/// many long arrays of empty strings or nested empty arrays cannot make the reader allocate gigabytes.
struct MetadataReader {
    /// The caps on lengths, counts and depth.
    let limits: GGUFParser.Limits
    /// Bytes of memory the metadata may still take.
    private(set) var budget: Int
    /// The budget at the start, for messages.
    let memoryLimit: Int

    init(limits: GGUFParser.Limits, budget: Int) {
        self.limits = limits
        self.budget = budget
        self.memoryLimit = budget
    }

    /// What one key/value entry costs beyond its key's and value's own storage: slots in the key list and the
    /// dictionary (whose load factor and growth roughly double them).
    static let entryCost = 128

    /// Reads `count` key/value entries.
    ///
    /// - Returns: the keys in file order and the values by key.
    /// - Throws: `GGUFError` for an empty, over-long, non-UTF-8 or duplicate key, an unknown value type, an
    ///   over-long string or array, or metadata past the memory budget.
    mutating func readEntries(
        _ count: Int, from cursor: inout ByteCursor
    ) throws(GGUFError) -> (keys: [String], values: [String: GGUFValue]) {
        var keys: [String] = []
        var values: [String: GGUFValue] = [:]
        for index in 0..<count {
            let raw = try cursor.readStringBytes("metadata key #\(index)")
            guard !raw.isEmpty else { throw .invalidKey(index: index, reason: "empty") }
            guard raw.count <= limits.maximumKeyLength else {
                throw .invalidKey(
                    index: index, reason: "\(raw.count) bytes long, more than \(limits.maximumKeyLength)")
            }
            guard let key = String(validating: raw, as: UTF8.self) else {
                throw .invalidKey(index: index, reason: "not valid UTF-8")
            }
            guard values[key] == nil else { throw .duplicateKey(key) }
            try charge(Self.entryCost + Self.stringCost(raw.count), key: key)
            let rawType = try cursor.read(UInt32.self, "type of metadata key \(GGUFError.quoted(key))")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw .unknownValueType(key: key, rawType: rawType)
            }
            values[key] = try readValue(type, key: key, from: &cursor)
            keys.append(key)
        }
        return (keys, values)
    }

    // MARK: - Values

    private mutating func readValue(
        _ type: GGUFValueType, key: String, from cursor: inout ByteCursor
    ) throws(GGUFError) -> GGUFValue {
        let context = "value of metadata key \(GGUFError.quoted(key))"
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
        case .bool: return .bool(try cursor.read(UInt8.self, context) != 0)
        case .string: return .string(try readString(key: key, context: context, from: &cursor))
        case .array: return .array(try readArray(key: key, depth: 0, from: &cursor))
        }
    }

    /// Reads a string value, repairing invalid UTF-8 with U+FFFD (metadata values are informational).
    private mutating func readString(
        key: String, context: @autoclosure () -> String, from cursor: inout ByteCursor
    ) throws(GGUFError) -> String {
        let raw = try cursor.readStringBytes(context())
        guard raw.count <= limits.maximumStringLength else {
            throw .stringTooLong(context: context(), length: UInt64(raw.count), limit: limits.maximumStringLength)
        }
        let string = String(decoding: raw, as: UTF8.self)
        // Charged after decoding because repair can triple the length (one byte becomes U+FFFD); the one string
        // is bounded by the length limit, and the budget stops the next.
        try charge(Self.stringCost(string.utf8.count), key: key)
        return string
    }

    private mutating func readArray(
        key: String, depth: Int, from cursor: inout ByteCursor
    ) throws(GGUFError) -> GGUFArray {
        guard depth < limits.maximumArrayDepth else { throw .arrayNestingTooDeep(key: key) }
        let context = "array of metadata key \(GGUFError.quoted(key))"
        let rawType = try cursor.read(UInt32.self, context)
        guard let type = GGUFValueType(rawValue: rawType) else { throw .unknownValueType(key: key, rawType: rawType) }
        let count = try cursor.read(UInt64.self, context)
        // Bound the element count by the bytes left, then by the limit, then charge it, before reserving anything.
        guard count <= UInt64(cursor.remaining / type.minimumByteCount) else {
            throw .countTooLarge(context: "length of \(context)", count: count)
        }
        guard count <= UInt64(limits.maximumArrayCount) else {
            throw .arrayTooLong(key: key, count: count, limit: limits.maximumArrayCount)
        }
        let n = Int(count)
        try charge(Self.arrayCost(n, elementStride: type.inMemoryStride), key: key)
        switch type {
        case .uint8: return .uint8(try Self.readScalars(n, UInt8.self, context, &cursor) { $0 })
        case .int8: return .int8(try Self.readScalars(n, Int8.self, context, &cursor) { $0 })
        case .uint16: return .uint16(try Self.readScalars(n, UInt16.self, context, &cursor) { $0 })
        case .int16: return .int16(try Self.readScalars(n, Int16.self, context, &cursor) { $0 })
        case .uint32: return .uint32(try Self.readScalars(n, UInt32.self, context, &cursor) { $0 })
        case .int32: return .int32(try Self.readScalars(n, Int32.self, context, &cursor) { $0 })
        case .uint64: return .uint64(try Self.readScalars(n, UInt64.self, context, &cursor) { $0 })
        case .int64: return .int64(try Self.readScalars(n, Int64.self, context, &cursor) { $0 })
        case .float32: return .float32(try Self.readScalars(n, UInt32.self, context, &cursor, Float.init(bitPattern:)))
        case .float64:
            return .float64(try Self.readScalars(n, UInt64.self, context, &cursor, Double.init(bitPattern:)))
        case .bool: return .bool(try Self.readScalars(n, UInt8.self, context, &cursor) { $0 != 0 })
        case .string:
            var strings: [String] = []
            strings.reserveCapacity(n)
            for _ in 0..<n { strings.append(try readString(key: key, context: context, from: &cursor)) }
            return .string(strings)
        case .array:
            var arrays: [GGUFArray] = []
            arrays.reserveCapacity(n)
            for _ in 0..<n { arrays.append(try readArray(key: key, depth: depth + 1, from: &cursor)) }
            return .array(arrays)
        }
    }

    /// Reads `count` fixed-size little-endian values, converting each, into one array allocated once.
    private static func readScalars<Raw: FixedWidthInteger, Element>(
        _ count: Int, _: Raw.Type, _ context: String, _ cursor: inout ByteCursor, _ convert: (Raw) -> Element
    ) throws(GGUFError) -> [Element] {
        let size = MemoryLayout<Raw>.size
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow else { throw .truncated(context: context) }
        let start = cursor.position
        try cursor.skip(byteCount, context: context)
        guard count > 0, let base = cursor.bytes.baseAddress else { return [] }
        return Array(unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count {
                // Safe because start + count × size <= bytes.count (skip checked it) and i < count = capacity.
                let raw = base.loadUnaligned(fromByteOffset: start &+ i &* size, as: Raw.self)
                (buffer.baseAddress! + i).initialize(to: convert(Raw(littleEndian: raw)))
            }
            initialized = count
        }
    }

    // MARK: - Accounting

    private mutating func charge(_ bytes: Int, key: String) throws(GGUFError) {
        guard bytes <= budget else { throw .metadataTooLarge(key: key, limit: memoryLimit) }
        budget -= bytes
    }

    /// The heap memory a native Swift string of `utf8Count` bytes takes: none up to 15 bytes (stored inline),
    /// otherwise a 32-byte header plus the bytes and a terminator, in 16-byte malloc granules.
    static func stringCost(_ utf8Count: Int) -> Int {
        utf8Count <= 15 ? 0 : (32 + utf8Count + 1 + 15) & ~15
    }

    /// The heap memory an array of `count` elements of `elementStride` bytes takes (a 32-byte header plus the
    /// elements), saturating rather than overflowing so an absurd count is simply over budget.
    static func arrayCost(_ count: Int, elementStride: Int) -> Int {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: elementStride)
        return overflow || bytes > Int.max - 32 ? Int.max : 32 + bytes
    }
}

extension GGUFValueType {
    /// The stride of one element of this type in the Swift array that holds it.
    var inMemoryStride: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string: MemoryLayout<String>.stride
        case .array: MemoryLayout<GGUFArray>.stride
        }
    }
}
