import GGUF
import Testing
import TestSupport

@Suite struct GGUFFileTests {
    @Test func readsTheLlamaVocabularyFixture() throws {
        let file = try GGUFFile(contentsOf: Fixtures.llamaVocabulary)
        #expect(file.version == 3)
        #expect(file.tensors.isEmpty)
        #expect(file.metadata["tokenizer.ggml.model"]?.stringValue == "llama")
        #expect(file.metadata["tokenizer.ggml.tokens"]?.arrayValue?.count == 32000)
        guard case .float32(let scores)? = file.metadata["tokenizer.ggml.scores"]?.arrayValue else {
            Issue.record("scores are not a float32 array")
            return
        }
        #expect(scores.count == 32000)
    }

    @Test func roundTripsEveryValueTypeAndTensors() throws {
        var writer = GGUFWriter()
        let values: [(String, GGUFValue)] = [
            ("a.u8", .uint8(200)), ("a.i8", .int8(-5)), ("a.u16", .uint16(60000)), ("a.i16", .int16(-30000)),
            ("a.u32", .uint32(4_000_000_000)), ("a.i32", .int32(-2_000_000_000)), ("a.u64", .uint64(1 << 40)),
            ("a.i64", .int64(-(1 << 40))), ("a.f32", .float32(1.5)), ("a.f64", .float64(-2.25)),
            ("a.bool", .bool(true)), ("a.str", .string("héllo ✓")),
            ("a.arr", .array(.int32([1, -2, 3]))), ("a.strs", .array(.string(["x", "", "yz"]))),
            ("a.nested", .array(.array([.uint8([1, 2]), .uint8([]), .uint8([3])]))),
        ]
        for (k, v) in values { writer.set(k, v) }
        writer.addTensor("w", dimensions: [4, 2], values: [1, 2, 3, 4, 5, 6, 7, 8])
        writer.addTensor("b", dimensions: [3], values: [9, 10, 11])
        let path = Fixtures.temporaryFile(writer.encoded())
        let file = try GGUFFile(contentsOf: path)
        for (k, v) in values { #expect(file.metadata[k] == v, "\(k)") }
        #expect(file.contents.metadataKeys == values.map(\.0))
        let w = try #require(file.tensor(named: "w"))
        #expect(w.dimensions == [4, 2])
        #expect(w.type == .f32)
        let floats = file.bytes(of: w).withMemoryRebound(to: Float.self) { Array($0) }
        #expect(floats == [1, 2, 3, 4, 5, 6, 7, 8])
        let b = try #require(file.tensor(named: "b"))
        #expect(b.offset % 32 == 0)
        #expect(file.bytes(of: b).withMemoryRebound(to: Float.self) { Array($0) } == [9, 10, 11])
    }
}
