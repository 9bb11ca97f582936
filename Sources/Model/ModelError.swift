import GGUF

/// An error building a model from a GGUF file: missing or inconsistent hyperparameters or tensors, or a tensor
/// type the engine cannot compute with. Each renders as one sentence naming the key or tensor.
package enum ModelError: Error, Equatable, CustomStringConvertible {
    case file(GGUFError)
    case unsupportedArchitecture(String)
    case missingKey(String)
    case invalidKey(String, reason: String)
    case missingTensor(String)
    case tensorShape(String, expected: [Int], actual: [Int])
    case unsupportedTensorType(String, GGMLType)
    case invalidHyperparameters(String)

    package var description: String {
        switch self {
        case .file(let error): "\(error)"
        case .unsupportedArchitecture(let arch):
            "unsupported model architecture '\(arch)' (LlamaServe runs Llama-architecture models)"
        case .missingKey(let key): "model metadata has no '\(key)'"
        case .invalidKey(let key, let reason): "model metadata '\(key)' \(reason)"
        case .missingTensor(let name): "model has no tensor '\(name)'"
        case .tensorShape(let name, let expected, let actual):
            "tensor '\(name)' has shape \(actual), expected \(expected)"
        case .unsupportedTensorType(let name, let type):
            "tensor '\(name)' has type \(type.name), which LlamaServe cannot compute with (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)"
        case .invalidHyperparameters(let reason): "invalid model hyperparameters: \(reason)"
        }
    }
}
