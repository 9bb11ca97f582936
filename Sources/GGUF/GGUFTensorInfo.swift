/// The description of one tensor in a GGUF file: its name, shape, element type and where its data lies.
package struct GGUFTensorInfo: Sendable, Equatable {
    /// The tensor's name (`blk.3.attn_q.weight`).
    package let name: String
    /// The shape, innermost (contiguous) dimension first, as ggml orders `ne`.
    package let dimensions: [Int]
    /// The element type.
    package let type: GGMLType
    /// The byte offset of the tensor's data from the start of the file's data section.
    package let offset: Int
    /// The number of bytes the tensor's data occupies.
    package let byteCount: Int

    /// The total number of elements.
    package var elementCount: Int { dimensions.reduce(1, *) }
}
