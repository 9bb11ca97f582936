/// Every token's text as UTF-8 bytes in one contiguous buffer, with a hash index from text to token id.
///
/// One buffer instead of 49,152 `String`s keeps a vocabulary small (≈ 0.5 MB for SmolLM2) and lets the
/// tokenizers look up a byte range of their input without building a `String` or an `Array` for it.
/// Lookup is open addressing with linear probing on a power-of-two table at most half full.
package struct TokenTextStorage: Sendable {
    /// The concatenated texts.
    private let bytes: [UInt8]
    /// `offsets[i] ..< offsets[i + 1]` is token `i`'s text.
    private let offsets: [Int32]
    /// Hash slots: a token id (-1 for an empty slot) and the high half of its text's hash, compared before
    /// the bytes so that a probe rarely touches the text buffer for a different token.
    private let slots: [Slot]
    private let slotMask: Int

    /// The number of tokens.
    package var count: Int { offsets.count - 1 }

    /// Builds the storage and index.
    ///
    /// - Parameter texts: the tokens' texts, in id order.
    /// - Returns: the storage, or the ids of the first two tokens with the same non-empty text (a vocabulary
    ///   needs unique texts to map text back to ids), or `.tooLarge` when the texts total 2 GiB or more
    ///   (offsets are 32-bit). Empty texts are stored but not indexed.
    package static func make(_ texts: [String]) -> Result<TokenTextStorage, BuildError> {
        var bytes: [UInt8] = []
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(texts.count + 1)
        bytes.reserveCapacity(texts.count * 8)
        for text in texts {
            bytes.append(contentsOf: text.utf8)
            offsets.append(Int32(truncatingIfNeeded: bytes.count))
        }
        // Offsets are Int32; real vocabularies total a few MB, but the file is untrusted.
        guard bytes.count < Int(Int32.max) else { return .failure(.tooLarge(byteCount: bytes.count)) }
        var capacity = 16
        while capacity < texts.count * 2 { capacity <<= 1 }
        var slots = [Slot](repeating: Slot(id: -1, tag: 0), count: capacity)
        let mask = capacity - 1
        let duplicate: BuildError? = bytes.withUnsafeBufferPointer { all in
            for id in 0..<texts.count {
                let start = Int(offsets[id]), end = Int(offsets[id + 1])
                guard end > start else { continue }
                let text = UnsafeBufferPointer(rebasing: all[start..<end])
                let hash = Self.hash(text)
                var slot = Int(truncatingIfNeeded: hash) & mask
                while slots[slot].id >= 0 {
                    let other = Int(slots[slot].id)
                    let otherText = UnsafeBufferPointer(rebasing: all[Int(offsets[other])..<Int(offsets[other + 1])])
                    if otherText.elementsEqual(text) { return .duplicate(first: other, second: id) }
                    slot = (slot + 1) & mask
                }
                slots[slot] = Slot(id: Int32(id), tag: UInt32(truncatingIfNeeded: hash >> 32))
            }
            return nil
        }
        if let duplicate { return .failure(duplicate) }
        return .success(TokenTextStorage(bytes: bytes, offsets: offsets, slots: slots, slotMask: mask))
    }

    private struct Slot {
        var id: Int32
        var tag: UInt32
    }

    private init(bytes: [UInt8], offsets: [Int32], slots: [Slot], slotMask: Int) {
        self.bytes = bytes
        self.offsets = offsets
        self.slots = slots
        self.slotMask = slotMask
    }

    /// Why the storage cannot be built.
    package enum BuildError: Error, Equatable {
        /// Two tokens with the same text.
        case duplicate(first: Int, second: Int)
        /// The texts total more than 32-bit offsets can address.
        case tooLarge(byteCount: Int)
    }

    /// The bytes of token `id`'s text. `id` must be in range.
    package func text(of id: Int) -> ArraySlice<UInt8> {
        bytes[Int(offsets[id])..<Int(offsets[id + 1])]
    }

    /// The byte length of token `id`'s text.
    package func length(of id: Int) -> Int { Int(offsets[id + 1] - offsets[id]) }

    /// The token whose text is exactly `text`, if any. The tokenizers' hottest call: kept separate from the
    /// two-part lookup below so that it stays small enough to inline.
    @inline(__always)
    package func id(of text: UnsafeBufferPointer<UInt8>) -> TokenID? {
        guard !text.isEmpty else { return nil }
        return bytes.withUnsafeBufferPointer { all in
            let hash = Self.hash(text)
            let tag = UInt32(truncatingIfNeeded: hash >> 32)
            var slot = Int(truncatingIfNeeded: hash) & slotMask
            while true {
                let entry = slots[slot]
                let candidate = entry.id
                if candidate < 0 { return nil }
                let start = Int(offsets[Int(candidate)]), end = Int(offsets[Int(candidate) + 1])
                if entry.tag == tag, end - start == text.count,
                    memoryEqual(all.baseAddress! + start, text.baseAddress, text.count)
                {
                    return candidate
                }
                slot = (slot + 1) & slotMask
            }
        }
    }

    /// The token whose text is exactly `first` followed by `second`, found without joining them (merge rules
    /// name their result this way).
    package func id(of first: UnsafeBufferPointer<UInt8>, followedBy second: UnsafeBufferPointer<UInt8>) -> TokenID? {
        let length = first.count + second.count
        guard length > 0 else { return nil }
        return bytes.withUnsafeBufferPointer { all in
            let hash = Self.finish(Self.hash(second, from: Self.hash(first, from: Self.seed)))
            let tag = UInt32(truncatingIfNeeded: hash >> 32)
            var slot = Int(truncatingIfNeeded: hash) & slotMask
            while true {
                let entry = slots[slot]
                let candidate = entry.id
                if candidate < 0 { return nil }
                let start = Int(offsets[Int(candidate)]), end = Int(offsets[Int(candidate) + 1])
                if entry.tag == tag, end - start == length,
                    memoryEqual(all.baseAddress! + start, first.baseAddress, first.count),
                    memoryEqual(all.baseAddress! + start + first.count, second.baseAddress, second.count)
                {
                    return candidate
                }
                slot = (slot + 1) & slotMask
            }
        }
    }

    /// The token whose text is exactly `text`, if any.
    package func id<C: Collection<UInt8>>(of text: C) -> TokenID? {
        let found = text.withContiguousStorageIfAvailable { id(of: $0) }
        if let found { return found }
        return Array(text).withUnsafeBufferPointer { id(of: $0) }
    }

    /// FNV-1a over the bytes, then a final avalanche so that nearby texts land on distant slots.
    @inline(__always)
    static func hash(_ text: UnsafeBufferPointer<UInt8>) -> UInt64 { finish(hash(text, from: seed)) }

    private static let seed: UInt64 = 0xcbf2_9ce4_8422_2325

    /// Continues FNV-1a over more bytes, so hashing two parts equals hashing their concatenation.
    @inline(__always)
    private static func hash(_ text: UnsafeBufferPointer<UInt8>, from state: UInt64) -> UInt64 {
        var h = state
        for byte in text {
            h = (h ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return h
    }

    @inline(__always)
    private static func finish(_ state: UInt64) -> UInt64 {
        var h = state
        h ^= h >> 29
        h = h &* 0xbf58_476d_1ce4_e5b9
        h ^= h >> 32
        return h
    }
}

/// Compares `count` bytes; a plain loop, because tokens are short and this avoids importing libc.
@inline(__always)
private func memoryEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>?, _ count: Int) -> Bool {
    guard count > 0, let b else { return true }
    var i = 0
    while i < count {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}
