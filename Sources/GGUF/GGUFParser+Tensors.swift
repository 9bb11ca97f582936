// The tensor directory: names, shapes, types and where each tensor's data lies.

extension GGUFParser {
    static func readTensorInfo(
        index: Int, alignment: Int, from cursor: inout ByteCursor
    ) throws(GGUFError) -> GGUFTensorInfo {
        let rawName = try cursor.readStringBytes("name of tensor #\(index)")
        // The length is checked before decoding, so a long name costs no allocation.
        guard !rawName.isEmpty else { throw .invalidTensorName(index: index, reason: "empty") }
        guard rawName.count <= maximumTensorNameLength else {
            throw .invalidTensorName(
                index: index, reason: "\(rawName.count) bytes long, more than \(maximumTensorNameLength)")
        }
        guard let name = String(validating: rawName, as: UTF8.self) else {
            throw .invalidTensorName(index: index, reason: "not valid UTF-8")
        }
        let dimensionCount = try cursor.read(UInt32.self, "dimension count of tensor \(GGUFError.quoted(name))")
        guard (1...UInt32(maximumDimensions)).contains(dimensionCount) else {
            throw .invalidDimensions(tensor: name, reason: "\(dimensionCount) dimensions (1 to 4 are allowed)")
        }
        var dimensions: [Int] = []
        dimensions.reserveCapacity(Int(dimensionCount))
        var elementCount = 1
        for _ in 0..<Int(dimensionCount) {
            let raw = try cursor.read(UInt64.self, "dimensions of tensor \(GGUFError.quoted(name))")
            // Zero is refused too: ggml divides by dimensions (GHSA-3p75-pq92-q28f), and no weight is empty.
            guard raw > 0, raw <= UInt64(Int.max) else {
                throw .invalidDimensions(tensor: name, reason: "dimension \(raw) is out of range")
            }
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: Int(raw))
            guard !overflow else { throw .invalidDimensions(tensor: name, reason: "element count overflows") }
            elementCount = product
            dimensions.append(Int(raw))
        }
        let rawType = try cursor.read(UInt32.self, "type of tensor \(GGUFError.quoted(name))")
        guard let type = GGMLType(rawValue: rawType) else { throw .unknownTensorType(tensor: name, rawType: rawType) }
        guard dimensions[0] % type.blockSize == 0 else {
            let reason =
                "row length \(dimensions[0]) is not a multiple of the \(type.name) block size \(type.blockSize)"
            throw .invalidDimensions(tensor: name, reason: reason)
        }
        guard let byteCount = type.byteCount(forElements: elementCount) else {
            throw .invalidDimensions(tensor: name, reason: "byte size overflows")
        }
        let rawOffset = try cursor.read(UInt64.self, "offset of tensor \(GGUFError.quoted(name))")
        guard rawOffset % UInt64(alignment) == 0 else {
            throw .misalignedTensor(tensor: name, offset: rawOffset, alignment: alignment)
        }
        guard rawOffset <= UInt64(Int.max) else { throw .tensorPastEndOfFile(tensor: name) }
        return GGUFTensorInfo(
            name: name, dimensions: dimensions, type: type, offset: Int(rawOffset), byteCount: byteCount)
    }

    /// Checks that every tensor lies within the data section and that no two share a byte. (llama.cpp demands
    /// that tensors are packed in file order; gaps and reordering are harmless, so they are accepted here.)
    static func validatePlacement(_ tensors: [GGUFTensorInfo], dataSize: Int) throws(GGUFError) {
        for tensor in tensors {
            let (end, overflow) = tensor.offset.addingReportingOverflow(tensor.byteCount)
            guard !overflow, end <= dataSize else { throw .tensorPastEndOfFile(tensor: tensor.name) }
        }
        let sorted = tensors.sorted { $0.offset < $1.offset }
        // The sums cannot overflow: each end was checked against the data size above.
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.offset + a.byteCount > b.offset {
            throw .overlappingTensors(a.name, b.name)
        }
    }
}
