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
///
/// Every count, length, dimension and offset is checked, with overflow-safe arithmetic, against the bytes left
/// and against the limits below before anything is sized from it, so a hostile file gets a `GGUFError` — never
/// a trap, an out-of-bounds read or an allocation far beyond the file's own size (RELIABILITY.md §4.1).
package enum GGUFParser {
    /// Limits on what a file may declare beyond fitting in the file itself. They bound the memory a hostile
    /// file can make the parser allocate; tests lower them to reach each check with a small file.
    package struct Limits: Sendable {
        /// Arrays nested deeper than this are refused; real files do not nest arrays at all.
        package var maximumArrayDepth = 4
        /// The GGUF specification limits keys to 65,535 bytes.
        package var maximumKeyLength = 65_535
        /// A string value longer than this is refused (ggml allows 1 GiB; no real metadata string approaches
        /// 64 MiB, and ggml PR #1516 argues for this cap).
        package var maximumStringLength = 64 << 20
        /// An array longer than this is refused: 64 times the largest vocabulary in use (256 K tokens).
        package var maximumArrayCount = 1 << 24
        /// The metadata of any file may take at most this much memory, however large the file is. Below that,
        /// the limit is 64 MiB plus twice the file's size (a real vocabulary costs about 1.2 times its bytes).
        package var maximumMetadataMemory = 1 << 30
        /// More tensors than this are refused: the largest models have a few thousand, and each costs a few
        /// hundred bytes of memory against at least 33 bytes of file.
        package var maximumTensorCount = 1 << 20

        /// The default limits, which every real model file is well within.
        package init() {}

        /// The memory the metadata of a file of `byteCount` bytes may take.
        func metadataMemoryLimit(fileSize byteCount: Int) -> Int {
            let (twice, overflow) = byteCount.multipliedReportingOverflow(by: 2)
            let (limit, overflow2) = twice.addingReportingOverflow(64 << 20)
            return overflow || overflow2 ? maximumMetadataMemory : min(maximumMetadataMemory, limit)
        }
    }

    /// Tensor names are at most 63 bytes in ggml (`GGML_MAX_NAME` is 64 with the terminator).
    static let maximumTensorNameLength = 63
    /// ggml tensors have at most four dimensions.
    static let maximumDimensions = 4
    /// A larger alignment would only waste address space; llama.cpp caps it similarly.
    static let maximumAlignment = 1 << 20

    /// Parses the header in `bytes`, which must be the whole file.
    ///
    /// - Parameters:
    ///   - bytes: the file's contents.
    ///   - limits: what the file may declare; the defaults suit every real model.
    /// - Returns: the validated header; every tensor lies within `bytes`.
    /// - Throws: `GGUFError` naming the first problem found.
    package static func parse(
        _ bytes: UnsafeRawBufferPointer, limits: Limits = Limits()
    ) throws(GGUFError) -> GGUFContents {
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
        // Each entry needs a minimum number of bytes (a key: 8 + 1 + 4 + 1; a tensor: 8 + 1 + 4 + 8 + 4 + 8), so
        // the counts are bounded by the file size before any allocation is sized from them.
        guard keyCount <= UInt64(cursor.remaining / 14) else {
            throw .countTooLarge(context: "metadata count", count: keyCount)
        }
        guard tensorCount <= UInt64(cursor.remaining / 33) else {
            throw .countTooLarge(context: "tensor count", count: tensorCount)
        }
        guard tensorCount <= UInt64(limits.maximumTensorCount) else {
            throw .tooManyTensors(count: tensorCount, limit: limits.maximumTensorCount)
        }

        var reader = MetadataReader(limits: limits, budget: limits.metadataMemoryLimit(fileSize: bytes.count))
        let (keys, metadata) = try reader.readEntries(Int(keyCount), from: &cursor)
        let alignment = try validatedAlignment(metadata["general.alignment"])

        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(Int(tensorCount))
        var names: Set<String> = []
        for index in 0..<Int(tensorCount) {
            let tensor = try readTensorInfo(index: index, alignment: alignment, from: &cursor)
            guard names.insert(tensor.name).inserted else { throw .duplicateTensor(tensor.name) }
            tensors.append(tensor)
        }

        // The data section starts at the next multiple of the alignment after the tensor directory. Neither sum
        // can overflow: the header end is at most the file size and the padding is below 1 MiB.
        let headerEnd = cursor.position
        let dataOffset = headerEnd + (alignment - headerEnd % alignment) % alignment
        if !tensors.isEmpty, dataOffset > bytes.count { throw .truncated(context: "tensor data section") }
        try validatePlacement(tensors, dataSize: max(0, bytes.count - dataOffset))

        return GGUFContents(
            version: version, metadataKeys: keys, metadata: metadata, tensors: tensors,
            alignment: alignment, dataOffset: min(dataOffset, bytes.count))
    }

    static let magic: UInt32 = 0x4655_4747  // "GGUF" read little-endian

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
}
