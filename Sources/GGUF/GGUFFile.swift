/// A GGUF file, memory-mapped read-only, with its validated header.
///
/// Tensor data is never copied: `bytes(of:)` returns a view into the mapping, valid while the file lives.
package final class GGUFFile: Sendable {
    /// The validated header.
    package let contents: GGUFContents
    /// The path the file was opened from.
    package let path: String
    private let mapping: MappedFile
    private let tensorIndex: [String: Int]

    /// Opens, maps and validates the GGUF file at `path`.
    ///
    /// - Parameters:
    ///   - path: the file to open.
    ///   - limits: what the file may declare; the defaults suit every real model.
    /// - Throws: `GGUFError` naming the first problem found.
    package init(contentsOf path: String, limits: GGUFParser.Limits = GGUFParser.Limits()) throws(GGUFError) {
        let mapping = try MappedFile(path: path)
        self.contents = try GGUFParser.parse(mapping.bytes, limits: limits)
        self.mapping = mapping
        self.path = path
        var index: [String: Int] = [:]
        for (i, tensor) in contents.tensors.enumerated() { index[tensor.name] = i }
        self.tensorIndex = index
    }

    /// The format version.
    package var version: UInt32 { contents.version }
    /// Metadata values by key.
    package var metadata: [String: GGUFValue] { contents.metadata }
    /// Tensor descriptions in file order.
    package var tensors: [GGUFTensorInfo] { contents.tensors }
    /// The size of the file in bytes.
    package var byteCount: Int { mapping.bytes.count }

    /// The tensor named `name`, if the file has one.
    package func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { contents.tensors[$0] }
    }

    /// Drops the resident pages of `bytes` (offsets within `tensor`'s data; all of it by default) from this
    /// process once they have been copied (see `MappedFile.releasePages`); `bytes(of:)` stays valid and reads
    /// fault the pages back in.
    package func releasePages(of tensor: GGUFTensorInfo, bytes: Range<Int>? = nil) {
        let start = contents.dataOffset + tensor.offset
        let range = bytes ?? 0..<tensor.byteCount
        mapping.releasePages((start + max(0, range.lowerBound))..<(start + min(tensor.byteCount, range.upperBound)))
    }

    /// The data of `tensor`, a view into the mapping. The parser checked that it lies within the file.
    package func bytes(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        let start = contents.dataOffset + tensor.offset
        // Safe because GGUFParser checked offset + byteCount <= data section size for every tensor.
        return UnsafeRawBufferPointer(rebasing: mapping.bytes[start..<(start + tensor.byteCount)])
    }
}
