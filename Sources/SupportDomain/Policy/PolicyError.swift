/// Why a policy file was rejected, naming the offending key path.
///
/// `description` reads like `schedule.mon[1]: "13:00-12:00" ends before it starts`.
public struct PolicyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The broad class of a policy-file problem.
    public enum Kind: Hashable, Sendable {
        /// The file is not well-formed JSON (or not UTF-8).
        case malformedJSON
        /// An object has a key the format does not define.
        case unknownKey
        /// An object has the same key twice.
        case duplicateKey
        /// An object lacks a key the format requires.
        case missingKey
        /// A value has the wrong JSON type.
        case wrongType
        /// A value has the right type but is not allowed.
        case invalidValue
    }

    /// The broad class of the problem.
    public let kind: Kind

    /// Where the problem is, for example `schedule.mon[1]` or `targets.high.firstReply.seconds`;
    /// empty for the document as a whole.
    public let keyPath: String

    /// What is wrong, without the key path, for example `"13:00-12:00" ends before it starts`.
    public let message: String

    /// Creates an error.
    public init(kind: Kind, keyPath: String, message: String) {
        self.kind = kind
        self.keyPath = keyPath
        self.message = message
    }

    /// `keyPath: message`, or just the message when the key path is empty.
    public var description: String {
        keyPath.isEmpty ? message : keyPath + ": " + message
    }
}
