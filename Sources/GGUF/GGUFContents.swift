/// The parsed header of a GGUF file: version, metadata and tensor directory, with every size and offset
/// validated against the bytes available. It holds no reference to the bytes themselves.
package struct GGUFContents: Sendable {
    /// The GGUF format version (2 or 3).
    package let version: UInt32
    /// Metadata keys in file order.
    package let metadataKeys: [String]
    /// Metadata values by key.
    package let metadata: [String: GGUFValue]
    /// Tensor descriptions in file order.
    package let tensors: [GGUFTensorInfo]
    /// The alignment of tensor data (`general.alignment`, default 32).
    package let alignment: Int
    /// The byte offset of the data section from the start of the file.
    package let dataOffset: Int

    /// The default alignment of tensor data when `general.alignment` is absent.
    package static let defaultAlignment = 32
}
