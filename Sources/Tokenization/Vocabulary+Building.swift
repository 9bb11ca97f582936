extension Vocabulary {
    /// Validates `description` and builds the vocabulary, applying llama.cpp's defaults and fix-ups
    /// (`llama_vocab::impl::load`, build b4748):
    ///
    /// - SentencePiece: BOS 1, EOS 2 and unknown 0 unless the file names others; BOS added and the dummy
    ///   prefix on unless the file says otherwise.
    /// - Byte-level BPE: BOS added only for pre-tokenizers that ask for it (Llama 3) unless the file says;
    ///   no default BOS/EOS ids (llama.cpp's default of 11 is a GPT-NeoX leftover, so a file that names none
    ///   has none here).
    /// - End-of-turn, end-of-message and fill-in-the-middle tokens the file does not name are found by their
    ///   text, and those tokens, like every end-of-generation text, become control tokens.
    ///
    /// - Throws: `VocabularyError` for anything inconsistent: lengths, types, scores, duplicate texts,
    ///   malformed byte tokens, merges that refer to or produce texts that are not tokens, special ids out
    ///   of range, BOS/EOS requested but absent, an unknown model or pre-tokenizer.
    package init(_ description: VocabularyDescription) throws(VocabularyError) {
        guard let model = TokenizerModel(rawValue: description.model) else {
            throw .unsupportedModel(description.model)
        }
        let count = description.tokens.count
        guard count > 0 else { throw .noTokens }
        guard count <= Int(Int32.max) else { throw .tooManyTokens(count) }

        var choice = PreTokenizer.Choice(preTokenizer: .none)
        if model == .bytePair {
            guard let name = description.preTokenizer, let found = PreTokenizer.choice(forName: name) else {
                throw .unsupportedPreTokenizer(description.preTokenizer)
            }
            choice = found
        }

        let scores = try Self.validatedScores(description.scores, count: count)
        var types = try Self.validatedTypes(description.tokenTypes, count: count)
        let texts: TokenTextStorage
        switch TokenTextStorage.make(description.tokens) {
        case .success(let built): texts = built
        case .failure(.duplicate(let first, let second)):
            throw .duplicateText(first: first, second: second, text: description.tokens[second])
        case .failure(.tooLarge(let byteCount)):
            throw .textsTooLarge(byteCount: byteCount)
        }

        let byteTokens = model == .sentencePiece ? try Self.byteTokenTable(types: types, texts: texts) : []

        var special = SpecialTokens()
        if model == .sentencePiece {
            for (role, id) in [(SpecialTokenRole.unknown, 0), (.beginOfSequence, 1), (.endOfSequence, 2)] where id < count {
                special[role] = TokenID(id)
            }
        }
        for role in SpecialTokenRole.allCases {
            guard let id = description.specialTokenIDs[role] else { continue }
            guard (0..<count).contains(id) else {
                throw .specialTokenOutOfRange(key: role.metadataKey, id: id, tokenCount: count)
            }
            special[role] = TokenID(id)
        }
        let endOfGeneration = Self.detectEndOfGeneration(special: &special, types: &types, texts: texts)
        var merges = MergeTable.empty
        if model == .bytePair {
            guard let rules = description.merges else { throw .missingKey("tokenizer.ggml.merges") }
            merges = try Self.validatedMerges(rules, texts: texts, types: types)
        }

        let addsBOS: Bool, addsEOS: Bool, addsSpacePrefix: Bool
        switch model {
        case .sentencePiece:
            addsBOS = description.addBOS ?? true
            addsEOS = description.addEOS ?? false
            addsSpacePrefix = description.addSpacePrefix ?? true
        case .bytePair:
            addsBOS = description.addBOS ?? choice.addsBOSByDefault
            addsEOS = description.addEOS ?? false
            addsSpacePrefix = false
        }
        if addsBOS, special.beginOfSequence == nil {
            throw .missingSpecialToken(flag: "tokenizer.ggml.add_bos_token", role: "BOS")
        }
        if addsEOS, special.endOfSequence == nil {
            throw .missingSpecialToken(flag: "tokenizer.ggml.add_eos_token", role: "EOS")
        }

        // After the type fix-ups above, as in llama.cpp, so forced control tokens are partitioned too.
        var partition: [TokenID] = []
        for id in 0..<count where types[id].isSpecial && texts.length(of: id) > 0 { partition.append(TokenID(id)) }
        partition.sort { a, b in
            let (la, lb) = (texts.length(of: Int(a)), texts.length(of: Int(b)))
            return la != lb ? la > lb : a < b
        }

        self.init(
            model: model, preTokenizer: choice.preTokenizer,
            preTokenizerName: model == .bytePair ? description.preTokenizer : nil, specialTokens: special,
            endOfGenerationTokens: endOfGeneration, addsBOS: addsBOS, addsEOS: addsEOS,
            addsSpacePrefix: addsSpacePrefix, ignoresMerges: choice.ignoresMerges, texts: texts, scores: scores,
            types: types, merges: merges, byteTokens: byteTokens, partitionTokens: partition)
    }

    private static func validatedScores(_ scores: [Float]?, count: Int) throws(VocabularyError) -> [Float] {
        guard let scores else { return [] }
        guard scores.count == count else {
            throw .lengthMismatch(key: "tokenizer.ggml.scores", count: scores.count, tokenCount: count)
        }
        // A NaN score would make the merge order meaningless (every comparison false).
        if let bad = scores.firstIndex(where: \.isNaN) { throw .invalidScore(token: bad) }
        return scores
    }

    private static func validatedTypes(_ rawTypes: [Int32]?, count: Int) throws(VocabularyError) -> [TokenType] {
        guard let rawTypes else { return Array(repeating: .normal, count: count) }
        guard rawTypes.count == count else {
            throw .lengthMismatch(key: "tokenizer.ggml.token_type", count: rawTypes.count, tokenCount: count)
        }
        var types: [TokenType] = []
        types.reserveCapacity(count)
        for (index, raw) in rawTypes.enumerated() {
            guard let type = TokenType(rawValue: raw) else { throw .invalidTokenType(token: index, value: raw) }
            types.append(type)
        }
        return types
    }

    /// Checks every byte-type token is `<0xNN>` and maps byte values to them.
    private static func byteTokenTable(types: [TokenType], texts: TokenTextStorage) throws(VocabularyError) -> [TokenID] {
        var table = [TokenID](repeating: -1, count: 256)
        for id in 0..<types.count where types[id] == .byte {
            let text = texts.text(of: id)
            guard let byte = byteValue(ofByteTokenText: text) else {
                throw .invalidByteToken(token: id, text: String(decoding: text, as: UTF8.self))
            }
            if table[Int(byte)] >= 0 { throw .duplicateByteToken(first: Int(table[Int(byte)]), second: id, byte: byte) }
            table[Int(byte)] = TokenID(id)
        }
        return table
    }

    /// The byte `<0xNN>` stands for, or nil when the text is not exactly that shape.
    static func byteValue(ofByteTokenText text: ArraySlice<UInt8>) -> UInt8? {
        let i = text.startIndex
        guard text.count == 6, text[i] == 0x3C, text[i + 1] == 0x30, text[i + 2] == 0x78, text[i + 5] == 0x3E,
            let high = hexDigitValue(text[i + 3]), let low = hexDigitValue(text[i + 4])
        else { return nil }
        return high << 4 | low
    }

    private static func hexDigitValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }

    /// Parses "left right" rules (split at the first space after the first byte, as llama.cpp does) into id
    /// triples; both parts and their concatenation must be tokens. Rules whose result is not mergeable
    /// (a control token) are left out, keeping the others' order, so plain text can never merge into one.
    private static func validatedMerges(
        _ merges: [String], texts: TokenTextStorage, types: [TokenType]
    ) throws(VocabularyError) -> MergeTable {
        var rules: [MergeTable.Rule] = []
        rules.reserveCapacity(merges.count)
        for (index, merge) in merges.enumerated() {
            switch parseMerge(merge, texts: texts) {
            case .rule(let rule):
                if types[Int(rule.merged)].isMergeable { rules.append(rule) }
            case .noSeparator:
                throw .invalidMerge(index: index, merge: merge, reason: "is not two tokens separated by a space")
            case .unknownPart(let part):
                throw .invalidMerge(index: index, merge: merge, reason: "refers to '\(part)', which is not a token")
            case .unknownResult:
                let result = merge.replacingFirstSpace()
                throw .invalidMerge(index: index, merge: merge, reason: "produces '\(result)', which is not a token")
            }
        }
        return MergeTable(rules: rules)
    }

    private enum ParsedMerge {
        case rule(MergeTable.Rule)
        case noSeparator
        case unknownPart(String)
        case unknownResult
    }

    /// Splits and looks up one rule.
    private static func parseMerge(_ merge: String, texts: TokenTextStorage) -> ParsedMerge {
        var merge = merge  // `withUTF8` needs a variable; native strings are not copied
        return merge.withUTF8 { bytes in
            guard bytes.count > 1, let space = bytes[1...].firstIndex(of: 0x20) else { return .noSeparator }
            let left = UnsafeBufferPointer(rebasing: bytes[..<space])
            let right = UnsafeBufferPointer(rebasing: bytes[(space + 1)...])
            guard let leftID = texts.id(of: left) else { return .unknownPart(String(decoding: left, as: UTF8.self)) }
            guard let rightID = texts.id(of: right) else { return .unknownPart(String(decoding: right, as: UTF8.self)) }
            guard let mergedID = texts.id(of: left, followedBy: right) else { return .unknownResult }
            return .rule(MergeTable.Rule(left: leftID, right: rightID, merged: mergedID))
        }
    }

    /// Fills in the roles found by text and returns the sorted end-of-generation tokens, forcing every token
    /// detected by text to the control type (llama.cpp does the same, warning that the file is probably wrong).
    private static func detectEndOfGeneration(
        special: inout SpecialTokens, types: inout [TokenType], texts: TokenTextStorage
    ) -> [TokenID] {
        let detectedRoles: [SpecialTokenRole] = [
            .endOfTurn, .endOfMessage, .fillInMiddlePrefix, .fillInMiddleSuffix, .fillInMiddleMiddle,
            .fillInMiddlePad, .fillInMiddleRepository, .fillInMiddleSeparator,
        ]
        for role in detectedRoles where special[role] == nil {
            for text in role.detectionTexts {
                guard let id = texts.id(of: Array(text.utf8)) else { continue }
                special[role] = id
                types[Int(id)] = .control
                break
            }
        }
        var endOfGeneration = Set<TokenID>()
        for role in [SpecialTokenRole.fillInMiddlePad, .fillInMiddleRepository, .fillInMiddleSeparator] {
            if let id = special[role] { endOfGeneration.insert(id) }
        }
        for text in SpecialTokenRole.endOfGenerationTexts {
            guard let id = texts.id(of: Array(text.utf8)) else { continue }
            endOfGeneration.insert(id)
            types[Int(id)] = .control
        }
        for role in [SpecialTokenRole.endOfSequence, .endOfTurn, .endOfMessage] {
            if let id = special[role] { endOfGeneration.insert(id) }
        }
        return endOfGeneration.sorted()
    }
}

extension String {
    /// The merge rule's two parts joined: the text without its separating space (the first after the first
    /// byte, as llama.cpp splits).
    fileprivate func replacingFirstSpace() -> String {
        let utf8 = Array(self.utf8)
        guard utf8.count > 1, let space = utf8[1...].firstIndex(of: 0x20) else { return self }
        return String(decoding: utf8[..<space] + utf8[(space + 1)...], as: UTF8.self)
    }
}
