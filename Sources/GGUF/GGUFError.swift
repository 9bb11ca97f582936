/// An error reading a GGUF file: the file cannot be opened, or its contents are malformed.
///
/// Every case renders as one line that names the problem, because the message reaches a person deciding whether
/// their download is broken. Names taken from the file (keys, tensor names) are shown escaped and shortened, so
/// a hostile name cannot break the line or flood a log.
package enum GGUFError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case notAFile(path: String)
    case tooSmall(byteCount: Int)
    case badMagic
    case bigEndian
    case unsupportedVersion(UInt32)
    case truncated(context: String)
    case countTooLarge(context: String, count: UInt64)
    case invalidKey(index: Int, reason: String)
    case invalidUTF8(context: String)
    case duplicateKey(String)
    case unknownValueType(key: String, rawType: UInt32)
    case arrayNestingTooDeep(key: String)
    case stringTooLong(context: String, length: UInt64, limit: Int)
    case arrayTooLong(key: String, count: UInt64, limit: Int)
    case metadataTooLarge(key: String, limit: Int)
    case tooManyTensors(count: UInt64, limit: Int)
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
            v == 1
                ? "GGUF version 1 is not supported (re-convert the model with a current llama.cpp)"
                : "unsupported GGUF version \(v) (versions 2 and 3 are supported)"
        case .truncated(let context): "file is truncated: \(context) extends past end of file"
        case .countTooLarge(let context, let count): "\(context) (\(count)) is larger than the file can hold"
        case .invalidKey(let index, let reason): "metadata key #\(index) is invalid: \(reason)"
        case .invalidUTF8(let context): "\(context) is not valid UTF-8"
        case .duplicateKey(let key): "metadata key \(Self.quoted(key)) appears more than once"
        case .unknownValueType(let key, let raw): "metadata key \(Self.quoted(key)) has unknown value type \(raw)"
        case .arrayNestingTooDeep(let key): "metadata key \(Self.quoted(key)) nests arrays too deeply"
        case .stringTooLong(let context, let length, let limit):
            "\(context) is \(length) bytes long, more than the limit of \(limit)"
        case .arrayTooLong(let key, let count, let limit):
            "metadata key \(Self.quoted(key)) has an array of \(count) elements, more than the limit of \(limit)"
        case .metadataTooLarge(let key, let limit):
            "metadata key \(Self.quoted(key)) takes the metadata past its memory limit of \(limit) bytes"
        case .tooManyTensors(let count, let limit): "tensor count (\(count)) is more than the limit of \(limit)"
        case .invalidAlignment(let reason): "general.alignment \(reason)"
        case .invalidTensorName(let index, let reason): "tensor #\(index) has an invalid name: \(reason)"
        case .duplicateTensor(let name): "tensor \(Self.quoted(name)) appears more than once"
        case .invalidDimensions(let tensor, let reason):
            "tensor \(Self.quoted(tensor)) has invalid dimensions: \(reason)"
        case .unknownTensorType(let tensor, let raw): "tensor \(Self.quoted(tensor)) has unknown type \(raw)"
        case .misalignedTensor(let tensor, let offset, let alignment):
            "tensor \(Self.quoted(tensor)) offset \(offset) is not a multiple of the alignment \(alignment)"
        case .tensorPastEndOfFile(let tensor): "tensor \(Self.quoted(tensor)) extends past end of file"
        case .overlappingTensors(let a, let b): "tensors \(Self.quoted(a)) and \(Self.quoted(b)) overlap"
        }
    }

    /// The longest name shown in a message, in Unicode scalars; longer names are cut with an ellipsis.
    static let maximumDisplayedNameLength = 80

    /// `name` in single quotes, with control, line-breaking and invisible format characters escaped (`\n`,
    /// `\u{2028}`, `\u{202E}`), quotes and backslashes escaped so the quoting stays unambiguous, and cut to
    /// `maximumDisplayedNameLength` scalars, for use inside a one-line message.
    package static func quoted(_ name: String) -> String {
        var shown = ""
        for (index, scalar) in name.unicodeScalars.enumerated() {
            if index == maximumDisplayedNameLength {
                shown += "…"
                break
            }
            switch scalar.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator, .format:
                shown += scalar.escaped(asASCII: true)
            default:
                if scalar == "'" || scalar == "\\" { shown += "\\" }
                shown.unicodeScalars.append(scalar)
            }
        }
        return "'\(shown)'"
    }
}
