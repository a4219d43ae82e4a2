import EventLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the members of a JSON object strictly: every member must be known, of the right type
/// and form; an optional member given as `null` counts as absent. Each problem is a 400
/// ``DomainError`` naming the member.
///
/// Use ``read(_:path:what:_:)``. Each accessor reads its member once, and a read counts the
/// members present: an object whose members were all read is done without keeping their names
/// (the projection decodes every event of the log this way). Only when some member was not
/// read is the object read again, this time noting every name asked for, to name the unknown
/// member. Each member is asked for at most once per read.
///
/// The members are a JSON object (``FieldObject``): a `JSONValue`'s (commands, imports, decoded
/// events) or a stored record's `data` read in place (a rebuild of the projections), whose texts
/// are then `StoredText` and never become `String`s.
struct FieldReader<Object: FieldObject> {
    typealias Value = Object.Value
    typealias Text = Value.Text
    private let members: Object
    /// How many members present were read.
    private var readCount = 0
    /// The names asked for, when naming an unknown member (nil: only counting).
    private var known: Set<String>?
    /// Prefix for messages, e.g. `attachments[0].`.
    private let path: String

    private init(_ members: Object, path: String, naming: Bool) {
        self.members = members
        self.path = path
        known = naming ? [] : nil
    }

    /// Reads `value`, which must be an object, with `read`, then refuses any member `read` did
    /// not read.
    static func read<T>(
        _ value: Value, path: String = "", what: String = "the body",
        _ read: (inout FieldReader) throws(DomainError) -> T
    ) throws(DomainError) -> T {
        guard let members = value.object else { throw .badRequest("\(what) must be a JSON object") }
        var reader = FieldReader(members, path: path, naming: false)
        let result = try read(&reader)
        if reader.readCount == members.count { return result }
        var naming = FieldReader(members, path: path, naming: true)
        _ = try read(&naming)
        let unknown = members.names.filter { !(naming.known?.contains($0) ?? false) }.sorted(by: Identifier.precedes)
        if let first = unknown.first { throw .badRequest("unknown field \"\(path)\(first)\"") }
        return result
    }

    private func name(_ key: String) -> String { "\"\(path)\(key)\"" }

    /// The raw member, nil when absent or null. Once every member present was read, a member
    /// asked for after is absent: answered without a lookup (the fold decodes every event, and
    /// most leave their optional members out).
    mutating func value(_ key: String) -> Value? {
        if known == nil {
            if readCount == members.count { return nil }
        } else {
            known?.insert(key)
        }
        guard let v = members.member(key) else { return nil }
        readCount += 1
        return v.isNull ? nil : v
    }

    /// Whether the member is present at all (null included). Read it after.
    mutating func isPresent(_ key: String) -> Bool {
        known?.insert(key)
        return members.member(key) != nil
    }

    mutating func string(_ key: String) throws(DomainError) -> Text? {
        guard let v = value(key) else { return nil }
        guard let s = v.text else { throw .badRequest("\(name(key)) must be a string") }
        return s
    }

    mutating func requiredString(_ key: String) throws(DomainError) -> Text {
        guard let s = try string(key) else { throw .badRequest("\(name(key)) is required") }
        return s
    }

    mutating func identifier(_ key: String) throws(DomainError) -> Text? {
        guard let s = try string(key) else { return nil }
        if let problem = s.identifierProblem { throw .badRequest("\(name(key)) \(problem)") }
        return s
    }

    mutating func requiredIdentifier(_ key: String) throws(DomainError) -> Text {
        guard let s = try identifier(key) else { throw .badRequest("\(name(key)) is required") }
        return s
    }

    mutating func enumeration<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type) throws(DomainError) -> E?
    where E.RawValue == String {
        guard let text = try string(key) else { return nil }
        // An enumeration's names are short: the string is small, made without an allocation.
        let s = text.string
        guard let e = E(rawValue: s) else {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            throw .badRequest("\(name(key)) must be one of \(allowed), not \"\(s)\"")
        }
        return e
    }

    mutating func requiredEnumeration<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) throws(DomainError) -> E
    where E.RawValue == String {
        guard let e = try enumeration(key, type) else { throw .badRequest("\(name(key)) is required") }
        return e
    }

    /// An integer member: a JSON number with no fraction and no exponent (``JSONValue/intValue``).
    mutating func integer(_ key: String) throws(DomainError) -> Int64? {
        guard let v = value(key) else { return nil }
        guard let i = v.integer else {
            throw .badRequest("\(name(key)) must be an integer, written without fraction or exponent")
        }
        return i
    }

    /// A JSON `true` or `false`.
    mutating func boolean(_ key: String) throws(DomainError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard let b = v.boolean else { throw .badRequest("\(name(key)) must be true or false") }
        return b
    }

    /// A required version: an integer >= 1.
    mutating func requiredVersion(_ key: String) throws(DomainError) -> UInt64 {
        guard let v = try integer(key) else { throw .badRequest("\(name(key)) is required") }
        guard v >= 1 else { throw .badRequest("\(name(key)) must be a version (an integer >= 1)") }
        return UInt64(v)
    }

    /// A required mail text (an address or a Message-ID): not empty, at most 998 bytes (a mail
    /// line's limit, RFC 5322 §2.1.1), no control characters.
    mutating func requiredMailText(_ key: String) throws(DomainError) -> Text {
        let s = try requiredString(key)
        if let problem = s.mailTextProblem { throw .badRequest("\(name(key)) \(problem)") }
        return s
    }

    /// The `email` member of a message taken from mail: `{"messageId", "from"}`.
    mutating func mailOrigin(_ key: String) throws(DomainError) -> TicketEventOf<Text>.MailOrigin? {
        guard let v = value(key) else { return nil }
        let path = self.path
        return try Self.read(v, path: "\(path)\(key).", what: name(key)) { r throws(DomainError) in
            TicketEventOf<Text>.MailOrigin(messageId: try r.requiredMailText("messageId"), from: try r.requiredMailText("from"))
        }
    }

    /// A required instant: an RFC 3339 UTC string with 0 to 3 fraction digits (SPEC §2.1).
    mutating func requiredInstant(_ key: String) throws(DomainError) -> Timestamp {
        let text = try requiredString(key)
        guard let t = Timestamp(rfc3339: text.string) else {
            throw .badRequest("\(name(key)) must be an RFC 3339 UTC instant such as 2026-03-01T10:22:33.000Z")
        }
        return t
    }

    /// The `automation` member of a note recording an automatic reaction:
    /// `{"rule", "due", "target"}` (`target` on an SLA breach only, and required there).
    mutating func automationRecord(_ key: String) throws(DomainError) -> AutomationRecord? {
        guard let v = value(key) else { return nil }
        let path = self.path
        return try Self.read(v, path: "\(path)\(key).", what: name(key)) { r throws(DomainError) in
            let rule = try r.requiredEnumeration("rule", AutomationRule.self)
            let due = try r.requiredInstant("due")
            let target = try r.enumeration("target", SLAMetric.self)
            switch (rule, target) {
            case (.slaBreach, nil): throw .badRequest("\"\(path)\(key).target\" is required for rule sla-breach")
            case (.slaBreach, _), (_, nil): break
            case (_, .some): throw .badRequest("\"\(path)\(key).target\" is only for rule sla-breach")
            }
            return AutomationRecord(rule: rule, due: due, target: target)
        }
    }

    mutating func identifierArray(_ key: String) throws(DomainError) -> Text.List? {
        guard let v = value(key) else { return nil }
        guard let items = v.items else { throw .badRequest("\(name(key)) must be an array of strings") }
        for (k, item) in items.enumerated() {
            guard let s = item.text else { throw .badRequest("\(name(key))[\(k)] must be a string") }
            if let problem = s.identifierProblem { throw .badRequest("\(name(key))[\(k)] \(problem)") }
        }
        return v.textList
    }

    mutating func attachments(_ key: String) throws(DomainError) -> Text.Attachments? {
        guard let v = value(key) else { return nil }
        guard let items = v.items else { throw .badRequest("\(name(key)) must be an array") }
        var out = Text.Attachments()
        for (k, item) in items.enumerated() {
            let path = self.path
            try Self.read(item, path: "\(path)\(key)[\(k)].", what: "\(name(key))[\(k)]") { r throws(DomainError) in
                let name = try r.requiredString("name")
                guard let size = try r.integer("size") else { throw .badRequest("\"\(path)\(key)[\(k)].size\" is required") }
                guard size >= 0 else { throw .badRequest("\"\(path)\(key)[\(k)].size\" must be an integer >= 0") }
                let contentType = try r.requiredString("contentType")
                let sha = try r.requiredString("sha256")
                guard sha.isLowercaseHexDigest else {
                    throw .badRequest("\"\(path)\(key)[\(k)].sha256\" must be 64 lowercase hex digits")
                }
                out.append(name: name, size: size, contentType: contentType, sha256: sha)
            }
        }
        return out
    }
}

/// The members of a JSON object, as ``FieldReader`` reads them.
protocol FieldObject {
    associatedtype Value: FieldValue where Value.Object == Self
    /// How many members (distinct names).
    var count: Int { get }
    /// The member named `name`, null included; nil when absent.
    func member(_ name: String) -> Value?
    /// Every member's name (to name an unknown one).
    var names: [String] { get }
}

/// A JSON value, as ``FieldReader`` reads it.
protocol FieldValue {
    associatedtype Object: FieldObject where Object.Value == Self
    associatedtype Text: EventText
    associatedtype Items: Sequence<Self>
    var isNull: Bool { get }
    var text: Text? { get }
    /// An integer: a JSON number written without fraction or exponent (``JSONValue/intValue``).
    var integer: Int64? { get }
    var items: Items? { get }
    /// A JSON `true` or `false`.
    var boolean: Bool? { get }
    var object: Object? { get }
    /// The texts of an array whose every element is a text.
    var textList: Text.List { get }
}

extension [String: JSONValue]: FieldObject {
    @inline(__always) func member(_ name: String) -> JSONValue? { self[name] }
    var names: [String] { Array(keys) }
}

extension JSONValue: FieldValue {
    var text: String? { stringValue }
    var integer: Int64? { intValue }
    var items: [JSONValue]? { arrayValue }
    var boolean: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }
    var object: [String: JSONValue]? { objectValue }
    var textList: [String] { arrayValue?.compactMap(\.stringValue) ?? [] }
}

extension BinaryJSON.Object: FieldObject {
    @inline(__always)
    func member(_ name: String) -> BinaryJSON.Value? {
        // A member name is a small string (no contiguous storage to lend): `withUTF8` reads it in place.
        var name = name
        return name.withUTF8 { member(UnsafeRawBufferPointer($0)) }
    }
}

extension BinaryJSON.Value: FieldValue {
    var textList: StoredTextList { StoredTextList(items: items) }
}

/// The identifiers of a stored `tags.changed`, read in place.
package struct StoredTextList: Sequence, IteratorProtocol {
    var items: BinaryJSON.Value.Items?

    package mutating func next() -> StoredText? { items?.next()?.text }
}

/// A stored message's attachments, checked and not kept (a rebuild has no use for them).
package struct StoredAttachments: AttachmentList {
    package private(set) var count = 0
    package init() {}
    package mutating func append(name: StoredText, size: Int64, contentType: StoredText, sha256: StoredText) { count += 1 }
}

extension StoredText: EventText {
    package typealias List = StoredTextList
    package typealias Attachments = StoredAttachments

    package var identifierProblem: String? {
        let n = bytes.count
        if n == 0 { return "must not be empty" }
        // Each code point takes at least one byte, and a repaired byte is one code point.
        if n <= Identifier.maximumLength { return nil }
        return Identifier.problem(with: string)
    }

    package func same(as other: StoredText) -> Bool {
        if isASCII, other.isASCII {
            return bytes.count == other.bytes.count
                && (bytes.count == 0 || memcmp(bytes.baseAddress!, other.bytes.baseAddress!, bytes.count) == 0)
        }
        return Identifier.same(string, other.string)
    }

    package var mailTextProblem: String? { SupportDomain.mailTextProblem(utf8: bytes) }

    package var isLowercaseHexDigest: Bool {
        // A repaired byte is never a hex digit: the bytes decide.
        bytes.count == 64 && bytes.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    package static func firstShared(_ a: StoredTextList, _ b: StoredTextList) -> StoredText? {
        a.first { x in b.contains { $0.same(as: x) } }
    }
}
