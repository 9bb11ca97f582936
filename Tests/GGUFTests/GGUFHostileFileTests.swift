import GGUF
import Testing
import TestSupport

/// One hostile variant of the fixture file and the error it must produce.
struct Corruption: Sendable, CustomTestStringConvertible {
    let name: String
    let expected: GGUFError
    /// Text the error's description must contain (the key or tensor it names).
    let mentions: String?
    let limits: GGUFParser.Limits
    let make: @Sendable () -> [UInt8]

    init(
        _ name: String, _ expected: GGUFError, mentions: String? = nil, limits: GGUFParser.Limits = .init(),
        _ make: @escaping @Sendable () -> [UInt8]
    ) {
        self.name = name
        self.expected = expected
        self.mentions = mentions
        self.limits = limits
        self.make = make
    }

    var testDescription: String { name }
}

/// The fixture with `change` applied, encoded.
private func variant(_ change: (inout HostileFileFixture) -> Void) -> [UInt8] {
    var file = HostileFileFixture()
    change(&file)
    return file.bytes
}

private let base = HostileFileFixture()
private let q = "blk.0.attn_q.weight"  // tensor 1, the quantized one

/// Every hostile variant. Grouped as RELIABILITY.md §4.1 orders the checks.
let corruptions: [Corruption] = [
    // Header: magic, version, counts.
    Corruption("file shorter than a header", .tooSmall(byteCount: 23)) { Array(base.bytes[..<23]) },
    Corruption("bad magic", .badMagic) { patched(base.bytes, at: 0, UInt32(0x4755_4747)) },
    Corruption("version 0", .unsupportedVersion(0)) { patched(base.bytes, at: 4, UInt32(0)) },
    Corruption("version 1", .unsupportedVersion(1)) { patched(base.bytes, at: 4, UInt32(1)) },
    Corruption("version 4", .unsupportedVersion(4)) { patched(base.bytes, at: 4, UInt32(4)) },
    Corruption("big-endian version 3", .bigEndian) { patched(base.bytes, at: 4, UInt32(0x0300_0000)) },
    Corruption("huge tensor count", .countTooLarge(context: "tensor count", count: 1 << 40)) {
        patched(base.bytes, at: HostileFileFixture.tensorCountOffset, UInt64(1) << 40)
    },
    Corruption("huge metadata count", .countTooLarge(context: "metadata count", count: .max)) {
        patched(base.bytes, at: HostileFileFixture.keyCountOffset, UInt64.max)
    },
    Corruption(
        "more tensors than the limit", .tooManyTensors(count: 3, limit: 2),
        limits: { var l = GGUFParser.Limits(); l.maximumTensorCount = 2; return l }()
    ) { base.bytes },

    // Metadata keys.
    Corruption("key length past end of file", .truncated(context: "metadata key #0")) {
        patched(base.bytes, at: base.keyOffset(0), UInt64(base.bytes.count))
    },
    Corruption("key length 2^64-1", .truncated(context: "metadata key #3")) {
        patched(base.bytes, at: base.keyOffset(3), UInt64.max)
    },
    Corruption("empty key", .invalidKey(index: 1, reason: "empty")) {
        variant { $0.metadata.insert(("", .uint8(1)), at: 1) }
    },
    Corruption("key of 65,536 bytes", .invalidKey(index: 2, reason: "65536 bytes long, more than 65535")) {
        variant { $0.metadata.insert((String(repeating: "k", count: 65_536), .uint8(1)), at: 2) }
    },
    Corruption("key not valid UTF-8", .invalidKey(index: 2, reason: "not valid UTF-8")) {
        var bytes = base.bytes
        bytes[base.keyOffset(2) + 8] = 0xC0  // an overlong-encoding lead byte, never valid
        return bytes
    },
    Corruption("duplicate key", .duplicateKey("general.architecture"), mentions: "'general.architecture'") {
        variant { $0.metadata.append(("general.architecture", .string("gpt2"))) }
    },
    Corruption("duplicate key with a newline in it", .duplicateKey("evil\nkey"), mentions: "'evil\\nkey'") {
        variant { $0.metadata += [("evil\nkey", .uint8(1)), ("evil\nkey", .uint8(2))] }
    },

    // Metadata values.
    Corruption("unknown value type", .unknownValueType(key: "llama.block_count", rawType: 13)) {
        patched(base.bytes, at: base.valueTypeOffset(2), UInt32(13))
    },
    Corruption(
        "string value length past end of file",
        .truncated(context: "value of metadata key 'general.architecture'"), mentions: "'general.architecture'"
    ) { patched(base.bytes, at: base.valueOffset(0), UInt64(base.bytes.count)) },
    Corruption(
        "string value longer than the limit",
        .stringTooLong(context: "value of metadata key 'general.architecture'", length: 5, limit: 4),
        limits: { var l = GGUFParser.Limits(); l.maximumStringLength = 4; return l }()
    ) { base.bytes },
    Corruption(
        "array count 2^64-1",
        .countTooLarge(context: "length of array of metadata key 'tokenizer.ggml.tokens'", count: .max)
    ) { patched(base.bytes, at: base.valueOffset(5) + 4, UInt64.max) },
    Corruption(
        "array string element past end of file",
        .truncated(context: "array of metadata key 'tokenizer.ggml.tokens'")
    ) { patched(base.bytes, at: base.valueOffset(5) + 12, UInt64(1) << 32) },
    Corruption(
        "array longer than the limit", .arrayTooLong(key: "tokenizer.ggml.tokens", count: 4, limit: 3),
        limits: { var l = GGUFParser.Limits(); l.maximumArrayCount = 3; return l }()
    ) { base.bytes },
    Corruption("array of an unknown element type", .unknownValueType(key: "tokenizer.ggml.scores", rawType: 99)) {
        patched(base.bytes, at: base.valueOffset(6), UInt32(99))
    },
    Corruption("arrays nested five deep", .arrayNestingTooDeep(key: "deep")) {
        variant { $0.metadata.append(("deep", .array(.array([.array([.array([.array([.uint8([1])])])])])))) }
    },
    Corruption(
        "metadata past its memory budget", .metadataTooLarge(key: "big", limit: 10_000),
        limits: { var l = GGUFParser.Limits(); l.maximumMetadataMemory = 10_000; return l }()
    ) { variant { $0.metadata.append(("big", .array(.string(Array(repeating: "", count: 1000))))) } },

    // general.alignment.
    Corruption("alignment 0", .invalidAlignment("must be a power of two, not 0")) {
        variant { $0.metadata[1].1 = .uint32(0) }
    },
    Corruption("alignment 3", .invalidAlignment("must be a power of two, not 3")) {
        variant { $0.metadata[1].1 = .uint32(3) }
    },
    Corruption("alignment not a uint32", .invalidAlignment("must be a uint32, not uint64")) {
        variant { $0.metadata[1].1 = .uint64(32) }
    },
    Corruption("alignment 2 MiB", .invalidAlignment("2097152 is larger than the limit 1048576")) {
        variant { $0.metadata[1].1 = .uint32(1 << 21) }
    },

    // Tensor names.
    Corruption("empty tensor name", .invalidTensorName(index: 0, reason: "empty")) {
        variant { $0.tensors[0].name = "" }
    },
    Corruption("tensor name of 64 bytes", .invalidTensorName(index: 2, reason: "64 bytes long, more than 63")) {
        variant { $0.tensors[2].name = String(repeating: "n", count: 64) }
    },
    Corruption("tensor name not valid UTF-8", .invalidTensorName(index: 1, reason: "not valid UTF-8")) {
        var bytes = base.bytes
        bytes[base.tensorInfoOffset(1) + 8 + 3] = 0xFF
        return bytes
    },
    Corruption("tensor name length past end of file", .truncated(context: "name of tensor #2")) {
        patched(base.bytes, at: base.tensorInfoOffset(2), UInt64.max)
    },
    Corruption("duplicate tensor name", .duplicateTensor("token_embd.weight"), mentions: "'token_embd.weight'") {
        variant { $0.tensors[2].name = "token_embd.weight" }
    },

    // Tensor shapes and types.
    Corruption("zero dimensions", .invalidDimensions(tensor: q, reason: "0 dimensions (1 to 4 are allowed)")) {
        patched(base.bytes, at: base.dimensionCountOffset(1), UInt32(0))
    },
    Corruption("five dimensions", .invalidDimensions(tensor: q, reason: "5 dimensions (1 to 4 are allowed)")) {
        patched(base.bytes, at: base.dimensionCountOffset(1), UInt32(5))
    },
    Corruption("a zero dimension", .invalidDimensions(tensor: q, reason: "dimension 0 is out of range")) {
        variant { $0.tensors[1].dimensions = [64, 0] }
    },
    Corruption(
        "a dimension above Int.max",
        .invalidDimensions(tensor: q, reason: "dimension 9223372036854775808 is out of range")
    ) { patched(base.bytes, at: base.dimensionOffset(1, 1), UInt64(1) << 63) },
    Corruption(
        "element count overflow", .invalidDimensions(tensor: "token_embd.weight", reason: "element count overflows")
    ) { variant { $0.tensors[0].dimensions = [1 << 32, 1 << 32] } },
    Corruption(
        "byte size overflow", .invalidDimensions(tensor: "token_embd.weight", reason: "byte size overflows")
    ) { variant { $0.tensors[0].dimensions = [1 << 31, 1 << 31] } },  // 2^62 elements fit, 2^64 bytes do not
    Corruption("unknown tensor type", .unknownTensorType(tensor: q, rawType: 4)) {
        variant { $0.tensors[1].rawType = 4 }  // ggml's removed Q4_2
    },
    Corruption(
        "row length not a multiple of the block size",
        .invalidDimensions(tensor: q, reason: "row length 48 is not a multiple of the Q4_0 block size 32")
    ) { variant { $0.tensors[1].dimensions = [48, 3] } },

    // Tensor placement.
    Corruption("misaligned offset", .misalignedTensor(tensor: q, offset: 129, alignment: 32), mentions: "'\(q)'") {
        patched(base.bytes, at: base.dataOffsetField(1), UInt64(129))
    },
    Corruption("offset past end of file", .tensorPastEndOfFile(tensor: q), mentions: "'\(q)' extends past end") {
        patched(base.bytes, at: base.dataOffsetField(1), UInt64(1 << 20))
    },
    Corruption("offset + size overflows", .tensorPastEndOfFile(tensor: q)) {
        patched(base.bytes, at: base.dataOffsetField(1), UInt64(Int.max) & ~31)
    },
    Corruption("offset above Int.max", .tensorPastEndOfFile(tensor: q)) {
        patched(base.bytes, at: base.dataOffsetField(1), UInt64(1) << 63)
    },
    Corruption("overlapping tensors", .overlappingTensors(q, "output_norm.weight")) {
        patched(base.bytes, at: base.dataOffsetField(2), UInt64(160))  // inside blk.0.attn_q.weight's 128..<200
    },
    Corruption("last tensor cut short", .tensorPastEndOfFile(tensor: "output_norm.weight")) {
        Array(base.bytes[..<(base.dataEnd - 1)])
    },
    Corruption("data section missing", .truncated(context: "tensor data section")) {
        Array(base.bytes[..<base.headerEnd])
    },
]

@Suite struct GGUFHostileFileTests {
    @Test func fixtureIsValid() throws {
        let contents = try parse(base.bytes).get()
        #expect(contents.tensors.map(\.name) == ["token_embd.weight", q, "output_norm.weight"])
        #expect(contents.tensors.map(\.type) == [.f32, .q4_0, .f16])
        #expect(contents.metadataKeys.count == 8)
        // The fixture must have padding between its directory and its data, or "data section missing" would
        // test something else.
        #expect(base.headerEnd % 32 != 0)
        #expect(base.dataEnd > base.headerEnd)
    }

    @Test func thereAreAtLeast25Corruptions() {
        #expect(corruptions.count >= 25)
        #expect(Set(corruptions.map(\.name)).count == corruptions.count)
    }

    @Test(arguments: corruptions)
    func corruptionGivesItsError(_ corruption: Corruption) {
        let result = parse(corruption.make(), limits: corruption.limits)
        guard case .failure(let error) = result else {
            Issue.record("parsed without error")
            return
        }
        #expect(error == corruption.expected)
        let message = error.description
        #expect(!message.isEmpty)
        #expect(!message.contains { $0.isNewline }, "one line: \(message)")
        if let mentions = corruption.mentions { #expect(message.contains(mentions), "\(message)") }
    }

    @Test func everyTruncationThrows() {
        // Every prefix that ends before the last tensor byte is an incomplete file; none may parse or trap.
        let bytes = base.bytes
        var parsed: [Int] = []
        for length in 0..<base.dataEnd {
            if case .success = parse(bytes, prefix: length) { parsed.append(length) }
        }
        #expect(parsed.isEmpty)
        // Prefixes that keep all tensor data (and drop only trailing padding) are complete files.
        for length in base.dataEnd...bytes.count {
            #expect(throws: Never.self) { try parse(bytes, prefix: length).get() }
        }
    }

    @Test func randomByteMutationsThrowOrParseSafely() {
        // A deterministic miniature of the fuzzer: 4,000 variants with 1 to 4 bytes overwritten by random or
        // boundary values. Each must parse (with every tensor inside the file) or throw a one-line error; a trap
        // would end the test process.
        let bytes = base.bytes
        var state: UInt64 = 0x5EED
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        let interesting: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFF]
        var outcomes: [Bool: Int] = [:]
        for _ in 0..<4_000 {
            var mutated = bytes
            for _ in 0...(next() % 4) {
                let random = UInt8(truncatingIfNeeded: next())
                let value = next() % 2 == 0 ? interesting[next() % interesting.count] : random
                mutated[next() % mutated.count] = value
            }
            switch parse(mutated) {
            case .success(let contents):
                outcomes[true, default: 0] += 1
                for t in contents.tensors {
                    #expect(contents.dataOffset + t.offset + t.byteCount <= mutated.count, "\(t.name)")
                }
            case .failure(let error):
                outcomes[false, default: 0] += 1
                #expect(!error.description.contains { $0.isNewline }, "\(error)")
            }
        }
        // Both outcomes occur, or the mutations were not exercising the parser.
        #expect(outcomes[true, default: 0] > 0 && outcomes[false, default: 0] > 0, "\(outcomes)")
    }

    @Test func errorsNameTheProblemInOneLine() {
        #expect(
            GGUFError.tensorPastEndOfFile(tensor: "blk.3.attn_q.weight").description
                == "tensor 'blk.3.attn_q.weight' extends past end of file")
        // Control characters, line separators and bidirectional overrides are escaped; long names are cut.
        let hostile = GGUFError.duplicateKey("a\r\nb\u{2028}c\u{202E}d").description
        #expect(hostile == "metadata key 'a\\r\\nb\\u{2028}c\\u{202E}d' appears more than once")
        // Quotes and backslashes in a name are escaped, so the quoted name's end is unambiguous.
        #expect(GGUFError.duplicateTensor("it's\\").description == "tensor 'it\\'s\\\\' appears more than once")
        let long = GGUFError.duplicateTensor(String(repeating: "x", count: 10_000)).description
        #expect(long.count < 120)
        #expect(long.contains("…"))
    }

    @Test func realVocabulariesFitInOneAndAHalfTimesTheirSize() throws {
        // The memory budget must not refuse real files: the shared vocabulary fixtures (32 K and 49 K tokens,
        // metadata only) parse even when the metadata may take just 1.5 times the file's size (they need about
        // 1.1 and 1.2), well inside the default of 64 MiB plus twice the size.
        for path in [Fixtures.llamaVocabulary, Fixtures.starcoderVocabulary] {
            let bytes = try #require(Fixtures.read(path), "missing \(path)")
            var limits = GGUFParser.Limits()
            limits.maximumMetadataMemory = bytes.count * 3 / 2
            let contents = try parse(bytes, limits: limits).get()
            #expect(contents.metadata["tokenizer.ggml.tokens"]?.arrayValue?.count ?? 0 > 30_000)
            limits.maximumMetadataMemory = bytes.count / 2
            #expect(throws: GGUFError.self) { try parse(bytes, limits: limits).get() }
        }
    }

    @Test func corruptFileOnDiskThrowsFromGGUFFile() {
        let path = Fixtures.temporaryFile(Array(base.bytes[..<(base.dataEnd - 1)]))
        #expect(throws: GGUFError.tensorPastEndOfFile(tensor: "output_norm.weight")) {
            try GGUFFile(contentsOf: path)
        }
    }
}
