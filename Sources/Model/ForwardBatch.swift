/// The tokens of one forward call: any mix of prompt chunks and decode tokens from several sequences.
///
/// Token `i` is `tokens[i]` at `positions[i]` of sequence `sequences[i]` (an index into the KV sequences passed
/// with the batch). Tokens of one sequence appear in position order, and every earlier position of a sequence
/// is either in the cache already or earlier in this batch.
package struct ForwardBatch: Sendable {
    package var tokens: [Int32] = []
    package var positions: [Int] = []
    package var sequences: [Int] = []
    /// Whether to compute logits for this token (the last prompt token and decode tokens, usually).
    package var needsLogits: [Bool] = []

    package init() {}

    /// The number of tokens.
    package var count: Int { tokens.count }

    /// The number of tokens whose logits are computed.
    package var logitsCount: Int { needsLogits.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// Appends one token.
    package mutating func append(token: Int32, position: Int, sequence: Int, needsLogits: Bool) {
        tokens.append(token)
        positions.append(position)
        sequences.append(sequence)
        self.needsLogits.append(needsLogits)
    }
}
