import GGUF
import TestSupport

/// A small valid GGUF file, and the means to corrupt precise fields of it.
///
/// Metadata of several types (strings, integers, a float, a bool, arrays of strings, floats and integers) and
/// three tensors: F32, Q4_0 (quantized) and F16. The tests derive every hostile variant from this one file, so
/// each variant differs from a valid file in exactly the way its name says.
struct HostileFileFixture {
    struct Tensor {
        var name: String
        var dimensions: [Int]
        var rawType: UInt32
        var data: [UInt8]
    }

    var version: UInt32 = 3
    var metadata: [(String, GGUFValue)] = [
        ("general.architecture", .string("llama")),
        ("general.alignment", .uint32(32)),
        ("llama.block_count", .uint32(1)),
        ("llama.rope.freq_base", .float32(10_000)),
        ("general.quantized", .bool(true)),
        ("tokenizer.ggml.tokens", .array(.string(["<unk>", "<s>", "</s>", "hello"]))),
        ("tokenizer.ggml.scores", .array(.float32([0, 0, 0, -1.5]))),
        ("tokenizer.ggml.token_type", .array(.int32([2, 3, 3, 1]))),
    ]
    var tensors: [Tensor] = [
        Tensor(
            name: "token_embd.weight", dimensions: [8, 4], rawType: GGMLType.f32.rawValue,
            data: (0..<32).flatMap { i in withUnsafeBytes(of: Float(i).bitPattern.littleEndian, Array.init) }),
        Tensor(
            name: "blk.0.attn_q.weight", dimensions: [64, 2], rawType: GGMLType.q4_0.rawValue,
            data: (0..<72).map { UInt8(truncatingIfNeeded: $0 &* 37) }),
        Tensor(
            name: "output_norm.weight", dimensions: [8], rawType: GGMLType.f16.rawValue,
            data: Array(repeating: 0x3C, count: 16)),
    ]

    /// Encodes the file with `GGUFWriter`.
    func encoded() -> (bytes: [UInt8], layout: GGUFWriter.Layout) {
        var writer = GGUFWriter()
        writer.version = version
        for (key, value) in metadata { writer.set(key, value) }
        for t in tensors { writer.addRawTensor(t.name, dimensions: t.dimensions, rawType: t.rawType, data: t.data) }
        return writer.encodedWithLayout()
    }

    /// The valid file's bytes.
    var bytes: [UInt8] { encoded().bytes }

    // MARK: - Field offsets in the encoded file

    static let tensorCountOffset = 8
    static let keyCountOffset = 16

    /// The offset of metadata entry `index`'s key length.
    func keyOffset(_ index: Int) -> Int { encoded().layout.metadataOffsets[index] }

    /// The offset of metadata entry `index`'s value (just after its type).
    func valueOffset(_ index: Int) -> Int { keyOffset(index) + 8 + metadata[index].0.utf8.count + 4 }

    /// The offset of the value-type field of metadata entry `index`.
    func valueTypeOffset(_ index: Int) -> Int { valueOffset(index) - 4 }

    /// The offset of tensor `index`'s info record (its name length).
    func tensorInfoOffset(_ index: Int) -> Int { encoded().layout.tensorInfoOffsets[index] }

    /// The offset of tensor `index`'s dimension count.
    func dimensionCountOffset(_ index: Int) -> Int { tensorInfoOffset(index) + 8 + tensors[index].name.utf8.count }

    /// The offset of tensor `index`'s `j`th dimension.
    func dimensionOffset(_ index: Int, _ j: Int) -> Int { dimensionCountOffset(index) + 4 + 8 * j }

    /// The offset of tensor `index`'s data offset field.
    func dataOffsetField(_ index: Int) -> Int { dimensionOffset(index, tensors[index].dimensions.count) + 4 }

    /// The offset just past the tensor directory (where padding to the data section begins).
    var headerEnd: Int { dataOffsetField(tensors.count - 1) + 8 }

    /// The offset just past the last tensor's data.
    var dataEnd: Int {
        let layout = encoded().layout
        let last = tensors.count - 1
        let offset = Int(readLE(UInt64.self, bytes, at: dataOffsetField(last)))
        return layout.dataOffset + offset + tensors[last].data.count
    }
}

/// `bytes` with the little-endian `value` written at `offset`.
func patched<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, _ value: T) -> [UInt8] {
    var out = bytes
    withUnsafeBytes(of: value.littleEndian) { raw in
        for (i, b) in raw.enumerated() { out[offset + i] = b }
    }
    return out
}

/// Reads a little-endian integer at `offset`.
func readLE<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
    var value: T = 0
    for i in 0..<MemoryLayout<T>.size { value |= T(truncatingIfNeeded: bytes[offset + i]) << (8 * i) }
    return value
}

/// Parses `bytes` (all of them, or the first `prefix`) as a whole file.
func parse(
    _ bytes: [UInt8], prefix: Int? = nil, limits: GGUFParser.Limits = .init()
) -> Result<GGUFContents, GGUFError> {
    bytes.withUnsafeBytes { raw in
        let view = UnsafeRawBufferPointer(rebasing: raw[..<(prefix ?? raw.count)])
        do throws(GGUFError) {
            return .success(try GGUFParser.parse(view, limits: limits))
        } catch {
            return .failure(error)
        }
    }
}
