// libFuzzer entry point for the GGUF parser. Not part of the SwiftPM package: scripts/fuzz-gguf.sh compiles this
// file together with Sources/GGUF/*.swift as one module with `-sanitize=fuzzer,address`.
//
// Each input is parsed from memory (no file I/O) twice: with the default limits, and with tight limits so that
// small inputs also reach the length, count, depth and memory caps. Beyond "no crash, no ASan report", it checks
// the parser's promises: every tensor of a parsed file lies inside the input (its first and last bytes are read,
// so ASan sees any lie), every error is one line, and tightening the limits never makes a bad file acceptable.

/// Limits small enough for a fuzz input (≤ 64 KiB) to exceed each of them.
let tightLimits: GGUFParser.Limits = {
    var limits = GGUFParser.Limits()
    limits.maximumArrayDepth = 2
    limits.maximumKeyLength = 64
    limits.maximumStringLength = 256
    limits.maximumArrayCount = 64
    limits.maximumMetadataMemory = 4 << 10
    limits.maximumTensorCount = 8
    return limits
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUFParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    let relaxed = check(bytes, limits: GGUFParser.Limits())
    let tight = check(bytes, limits: tightLimits)
    if let tight {
        // Whatever passes the tight limits passes the default ones, with the same tensor directory.
        guard let relaxed else { fatalError("accepted only under tighter limits") }
        precondition(tight.tensors == relaxed.tensors && tight.metadataKeys == relaxed.metadataKeys)
    }
    return 0
}

/// Parses `bytes`, checks the result's invariants, and returns it (nil when the parser threw).
func check(_ bytes: UnsafeRawBufferPointer, limits: GGUFParser.Limits) -> GGUFContents? {
    do throws(GGUFError) {
        let contents = try GGUFParser.parse(bytes, limits: limits)
        var sum: UInt8 = 0
        for tensor in contents.tensors {
            let start = contents.dataOffset + tensor.offset
            precondition(tensor.byteCount > 0 && start + tensor.byteCount <= bytes.count, "tensor out of bounds")
            sum &+= bytes[start] &+ bytes[start + tensor.byteCount - 1]
        }
        blackHole(sum)
        precondition(contents.metadataKeys.count == contents.metadata.count, "keys and values disagree")
        for key in contents.metadataKeys { precondition(!key.isEmpty && contents.metadata[key] != nil) }
        return contents
    } catch {
        let message = error.description
        precondition(!message.isEmpty && !message.contains(where: \.isNewline), "bad message: \(message)")
        return nil
    }
}

@inline(never)
func blackHole(_ value: UInt8) {
    if value == 0x5A, CommandLine.arguments.isEmpty { print(value) }  // never true; keeps the reads alive
}
