/// An error reading a GGUF file: the file cannot be opened, or its contents are malformed.
///
/// Every case renders as one sentence that names the problem, because the message reaches a person
/// deciding whether their download is broken.
package enum GGUFError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case notAFile(path: String)
    case tooSmall(byteCount: Int)
    case badMagic
    case bigEndian
    case unsupportedVersion(UInt32)
    case truncated(context: String)
    case countTooLarge(context: String, count: UInt64)
    case invalidKey(index: Int)
    case invalidUTF8(context: String)
    case duplicateKey(String)
    case unknownValueType(key: String, rawType: UInt32)
    case arrayNestingTooDeep(key: String)
    case invalidAlignment(String)
    case invalidTensorName(index: Int, reason: String)
    case duplicateTensor(String)
    case invalidDimensions(tensor: String, reason: String)
    case unknownTensorType(tensor: String, rawType: UInt32)
    case misalignedTensor(tensor: String, offset: UInt64, alignment: Int)
    case tensorPastEndOfFile(tensor: String)
    case overlappingTensors(String, String)

    package var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open '\(path)': \(reason)"
        case .notAFile(let path): "'\(path)' is not a regular file"
        case .tooSmall(let n): "file is too small to be GGUF (\(n) bytes)"
        case .badMagic: "not a GGUF file (bad magic; expected 'GGUF')"
        case .bigEndian: "big-endian GGUF files are not supported"
        case .unsupportedVersion(let v):
            v == 1 ? "GGUF version 1 is not supported (re-convert the model with a current llama.cpp)"
                : "unsupported GGUF version \(v) (versions 2 and 3 are supported)"
        case .truncated(let context): "file is truncated: \(context) extends past end of file"
        case .countTooLarge(let context, let count): "\(context) (\(count)) is larger than the file can hold"
        case .invalidKey(let index): "metadata key #\(index) is empty or not valid UTF-8"
        case .invalidUTF8(let context): "\(context) is not valid UTF-8"
        case .duplicateKey(let key): "metadata key '\(key)' appears more than once"
        case .unknownValueType(let key, let raw): "metadata key '\(key)' has unknown value type \(raw)"
        case .arrayNestingTooDeep(let key): "metadata key '\(key)' nests arrays too deeply"
        case .invalidAlignment(let reason): "general.alignment \(reason)"
        case .invalidTensorName(let index, let reason): "tensor #\(index) has an invalid name: \(reason)"
        case .duplicateTensor(let name): "tensor '\(name)' appears more than once"
        case .invalidDimensions(let tensor, let reason): "tensor '\(tensor)' has invalid dimensions: \(reason)"
        case .unknownTensorType(let tensor, let raw): "tensor '\(tensor)' has unknown type \(raw)"
        case .misalignedTensor(let tensor, let offset, let alignment):
            "tensor '\(tensor)' offset \(offset) is not a multiple of the alignment \(alignment)"
        case .tensorPastEndOfFile(let tensor): "tensor '\(tensor)' extends past end of file"
        case .overlappingTensors(let a, let b): "tensors '\(a)' and '\(b)' overlap"
        }
    }
}
