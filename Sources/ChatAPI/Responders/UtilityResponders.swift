import HTTP
import Inference
import Tokenization

func modelsResponse(_ service: APIService, id: String?) throws(APIError) -> HTTPResponse {
    var w = JSONWriter()
    func model() {
        w.raw("{")
        w.key("id"); w.string(service.modelName); w.raw(",")
        w.key("object"); w.string("model"); w.raw(",")
        w.key("created"); w.number(service.created); w.raw(",")
        w.key("owned_by"); w.string("llamaserve"); w.raw(",")
        w.key("max_model_len"); w.number(service.limits.contextLength); w.raw(",")
        w.key("meta"); w.raw("{")
        w.key("n_vocab"); w.number(service.limits.vocabularySize); w.raw(",")
        w.key("n_ctx"); w.number(service.limits.contextLength); w.raw(",")
        w.key("chat_template"); w.string(service.template.name)
        w.raw("}}")
    }
    if let id {
        guard id == service.modelName else {
            throw APIError(status: 404, message: "The model '\(id)' does not exist; this server serves '\(service.modelName)'.",
                           param: "model", code: "model_not_found")
        }
        model()
    } else {
        w.raw(#"{"object":"list","data":["#)
        model()
        w.raw("]}")
    }
    return .json(w.string)
}

/// `POST /tokenize`: llama.cpp's `{content, add_special, parse_special, with_pieces}` or vLLM's
/// `{prompt, add_special_tokens}` / `{messages}`.
func tokenizeResponse(_ service: APIService, _ request: HTTPRequest) throws(APIError) -> HTTPResponse {
    let r = try RequestObject.parse(request.body)
    let tokenizer = service.tokenizer
    var tokens: [TokenID]
    if let messages = try r.array("messages") {
        tokens = try service.template.promptTokens(try ChatCompletionRequest.parseMessages(messages), tokenizer: tokenizer)
    } else {
        let text: String
        let addSpecial: Bool
        if let content = try r.string("content") {
            text = content
            addSpecial = try r.bool("add_special") ?? false
        } else if let prompt = try r.string("prompt") {
            text = prompt
            addSpecial = try r.bool("add_special_tokens") ?? true
        } else {
            throw .invalid("content", "content (or prompt, or messages) is required")
        }
        tokens = tokenizer.encode(text, addSpecial: addSpecial, parseSpecial: try r.bool("parse_special") ?? true)
    }
    let withPieces = try r.bool("with_pieces") ?? false
    var w = JSONWriter()
    w.raw("{")
    w.key("tokens"); w.raw("[")
    for (i, token) in tokens.enumerated() {
        if i > 0 { w.raw(",") }
        if withPieces {
            w.raw("{"); w.key("id"); w.number(Int(token)); w.raw(",")
            w.key("piece"); w.string(String(decoding: tokenizer.piece(for: token), as: UTF8.self)); w.raw("}")
        } else {
            w.number(Int(token))
        }
    }
    w.raw("],")
    w.key("count"); w.number(tokens.count); w.raw(",")
    w.key("max_model_len"); w.number(service.limits.contextLength)
    w.raw("}")
    return .json(w.string)
}

/// `POST /detokenize`: `{tokens: [ids]}` → llama.cpp's `content` and vLLM's `prompt` (the same text).
func detokenizeResponse(_ service: APIService, _ request: HTTPRequest) throws(APIError) -> HTTPResponse {
    let r = try RequestObject.parse(request.body)
    guard let items = try r.array("tokens") else { throw .invalid("tokens", "tokens is required: an array of token ids") }
    let size = service.limits.vocabularySize
    let tokens = try items.map { (item: JSONValue) throws(APIError) -> TokenID in
        guard case .number(let n) = item, n.isInteger, let id = n.integer, id >= 0, id < size else {
            throw .invalid("tokens", "tokens must hold token ids in 0..<\(size)")
        }
        return TokenID(id)
    }
    let text = service.tokenizer.decode(tokens, removeSpecial: false, unparseSpecial: true)
    var w = JSONWriter()
    w.raw("{"); w.key("content"); w.string(text); w.raw(","); w.key("prompt"); w.string(text); w.raw("}")
    return .json(w.string)
}

/// `GET /tokenizer_info`, in vLLM's shape (what lm-evaluation-harness's remote tokenizer reads).
func tokenizerInfoResponse(_ service: APIService) -> HTTPResponse {
    let vocabulary = service.tokenizer.vocabulary
    var w = JSONWriter()
    func token(_ key: String, _ id: TokenID?) {
        w.key(key)
        if let id { w.string(vocabulary.text(of: id)) } else { w.null() }
        w.raw(",")
    }
    w.raw("{")
    w.key("tokenizer_class"); w.string(vocabulary.model == .sentencePiece ? "LlamaTokenizer" : "PreTrainedTokenizerFast"); w.raw(",")
    token("bos_token", vocabulary.specialTokens.beginOfSequence)
    token("eos_token", vocabulary.specialTokens.endOfSequence)
    token("unk_token", vocabulary.specialTokens.unknown)
    token("pad_token", vocabulary.specialTokens.padding)
    w.key("add_bos_token"); w.bool(vocabulary.addsBOS); w.raw(",")
    w.key("add_eos_token"); w.bool(vocabulary.addsEOS); w.raw(",")
    w.key("vocab_size"); w.number(vocabulary.count); w.raw(",")
    w.key("model_max_length"); w.number(service.limits.contextLength); w.raw(",")
    w.key("chat_template"); if let t = service.modelTemplate { w.string(t) } else { w.null() }
    w.raw(",")
    w.key("chat_template_name"); w.string(service.template.name)
    w.raw("}")
    return .json(w.string)
}

/// `POST /apply-template`: exactly what the model will see for a chat request.
func applyTemplateResponse(_ service: APIService, _ request: HTTPRequest) throws(APIError) -> HTTPResponse {
    let r = try RequestObject.parse(request.body)
    guard let items = try r.array("messages") else { throw .invalid("messages", "messages is required") }
    let tokens = try service.template.promptTokens(try ChatCompletionRequest.parseMessages(items), tokenizer: service.tokenizer)
    let prompt = service.tokenizer.decode(tokens, removeSpecial: false, unparseSpecial: true)
    var w = JSONWriter()
    w.raw("{"); w.key("prompt"); w.string(prompt); w.raw(","); w.key("tokens"); w.raw("[")
    for (i, t) in tokens.enumerated() {
        if i > 0 { w.raw(",") }
        w.number(Int(t))
    }
    w.raw("]}")
    return .json(w.string)
}

extension ChatTemplate {
    /// The tokens of a conversation, with template errors as API errors.
    func promptTokens(_ messages: [ChatMessage], tokenizer: any Tokenizer) throws(APIError) -> [TokenID] {
        do {
            return try tokens(messages, tokenizer: tokenizer)
        } catch {
            throw .invalid(error.parameter, error.description)
        }
    }
}
