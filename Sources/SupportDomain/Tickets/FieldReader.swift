import EventLog

/// Reads the members of a JSON object strictly: every member must be known, of the right type
/// and form; an optional member given as `null` counts as absent. Each problem is a 400
/// ``DomainError`` naming the member.
///
/// Use ``read(_:path:what:_:)``. Each accessor reads its member once, and a read counts the
/// members present: an object whose members were all read is done without keeping their names
/// (the projection decodes every event of the log this way). Only when some member was not
/// read is the object read again, this time noting every name asked for, to name the unknown
/// member. Each member is asked for at most once per read.
struct FieldReader {
    private let members: [String: JSONValue]
    /// How many members present were read.
    private var readCount = 0
    /// The names asked for, when naming an unknown member (nil: only counting).
    private var known: Set<String>?
    /// Prefix for messages, e.g. `attachments[0].`.
    private let path: String

    private init(_ members: [String: JSONValue], path: String, naming: Bool) {
        self.members = members
        self.path = path
        known = naming ? [] : nil
    }

    /// Reads `value`, which must be an object, with `read`, then refuses any member `read` did
    /// not read.
    static func read<T>(
        _ value: JSONValue, path: String = "", what: String = "the body",
        _ read: (inout FieldReader) throws(DomainError) -> T
    ) throws(DomainError) -> T {
        guard case .object(let members) = value else { throw .badRequest("\(what) must be a JSON object") }
        var reader = FieldReader(members, path: path, naming: false)
        let result = try read(&reader)
        if reader.readCount == members.count { return result }
        var naming = FieldReader(members, path: path, naming: true)
        _ = try read(&naming)
        let unknown = members.keys.filter { !(naming.known?.contains($0) ?? false) }.sorted(by: Identifier.precedes)
        if let first = unknown.first { throw .badRequest("unknown field \"\(path)\(first)\"") }
        return result
    }

    private func name(_ key: String) -> String { "\"\(path)\(key)\"" }

    /// The raw member, nil when absent or null. Once every member present was read, a member
    /// asked for after is absent: answered without a lookup (the fold decodes every event, and
    /// most leave their optional members out).
    mutating func value(_ key: String) -> JSONValue? {
        if known == nil {
            if readCount == members.count { return nil }
        } else {
            known?.insert(key)
        }
        guard let v = members[key] else { return nil }
        readCount += 1
        return v.isNull ? nil : v
    }

    /// Whether the member is present at all (null included). Read it after.
    mutating func isPresent(_ key: String) -> Bool {
        known?.insert(key)
        return members[key] != nil
    }

    mutating func string(_ key: String) throws(DomainError) -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else { throw .badRequest("\(name(key)) must be a string") }
        return s
    }

    mutating func requiredString(_ key: String) throws(DomainError) -> String {
        guard let s = try string(key) else { throw .badRequest("\(name(key)) is required") }
        return s
    }

    mutating func identifier(_ key: String) throws(DomainError) -> String? {
        guard let s = try string(key) else { return nil }
        if let problem = Identifier.problem(with: s) { throw .badRequest("\(name(key)) \(problem)") }
        return s
    }

    mutating func requiredIdentifier(_ key: String) throws(DomainError) -> String {
        guard let s = try identifier(key) else { throw .badRequest("\(name(key)) is required") }
        return s
    }

    mutating func enumeration<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type) throws(DomainError) -> E?
    where E.RawValue == String {
        guard let s = try string(key) else { return nil }
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
        guard let i = v.intValue else {
            throw .badRequest("\(name(key)) must be an integer, written without fraction or exponent")
        }
        return i
    }

    mutating func identifierArray(_ key: String) throws(DomainError) -> [String]? {
        guard let v = value(key) else { return nil }
        guard case .array(let items) = v else { throw .badRequest("\(name(key)) must be an array of strings") }
        var out: [String] = []
        for (k, item) in items.enumerated() {
            guard case .string(let s) = item else { throw .badRequest("\(name(key))[\(k)] must be a string") }
            if let problem = Identifier.problem(with: s) { throw .badRequest("\(name(key))[\(k)] \(problem)") }
            out.append(s)
        }
        return out
    }

    mutating func attachments(_ key: String) throws(DomainError) -> [Attachment]? {
        guard let v = value(key) else { return nil }
        guard case .array(let items) = v else { throw .badRequest("\(name(key)) must be an array") }
        var out: [Attachment] = []
        for (k, item) in items.enumerated() {
            let path = self.path
            out.append(
                try Self.read(item, path: "\(path)\(key)[\(k)].", what: "\(name(key))[\(k)]") { r throws(DomainError) in
                    let name = try r.requiredString("name")
                    guard let size = try r.integer("size") else { throw .badRequest("\"\(path)\(key)[\(k)].size\" is required") }
                    guard size >= 0 else { throw .badRequest("\"\(path)\(key)[\(k)].size\" must be an integer >= 0") }
                    let contentType = try r.requiredString("contentType")
                    let sha = try r.requiredString("sha256")
                    guard sha.utf8.count == 64, sha.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
                        throw .badRequest("\"\(path)\(key)[\(k)].sha256\" must be 64 lowercase hex digits")
                    }
                    return Attachment(name: name, size: size, contentType: contentType, sha256: sha)
                })
        }
        return out
    }
}
