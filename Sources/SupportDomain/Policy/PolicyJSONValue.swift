import EventLog
import Foundation

/// A parsed JSON value as the policy-file reader sees it: the log's strict ``JSONValue`` (which
/// already refuses duplicate members), with numbers as text so that integers can be told apart
/// from `2.0` or `1e3`, and members in a stable (sorted) order so errors are reported
/// deterministically.
indirect enum PolicyJSONValue {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([PolicyJSONValue])
    case object([(key: String, value: PolicyJSONValue)])

    /// The JSON type with its article, for messages: `a string`, `an array`, `null`, ….
    var typeDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

extension PolicyJSONValue {
    /// The policy reader's view of a value parsed by the log's ``JSONParser``.
    init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .number(String(i))
        case .double(let d):
            // An integral number too large for Int64 keeps an integer's text, so the reader
            // reports it as out of range rather than as a fraction.
            self = .number(d == d.rounded() && abs(d) >= 9.2e18 && abs(d) < 1e300 ? String(format: "%.0f", d) : d.description)
        case .string(let s): self = .string(s)
        case .array(let a): self = .array(a.map(PolicyJSONValue.init))
        case .object(let o):
            self = .object(
                o.keys.sorted(by: Identifier.precedes)
                    .map { (key: $0, value: PolicyJSONValue(o[$0] ?? .null)) })
        }
    }
}
