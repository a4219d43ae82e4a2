/// Writes any `Encodable` as RFC 8785 canonical JSON: exactly the bytes ``CanonicalJSON/encode(_:)``
/// gives for the equivalent ``JSONValue``.
///
/// The value is first built as a `JSONValue` tree through the `Encoder` protocol, then written by
/// ``CanonicalJSON``: one writer decides member order, string escaping and number forms, so an
/// answer written from a response type and one written from a `JSONValue` cannot drift apart.
///
/// Keyed containers follow the `Encoder` contract: `encodeNil(forKey:)` and `encode(nil, …)`
/// write `null`, while the synthesized `encodeIfPresent` of an optional property omits the
/// member. A response whose API writes `null` for an absent value marks that property
/// ``NullWhenAbsent``.
package struct CanonicalJSONEncoder: Sendable {
    package init() {}

    /// The canonical JSON bytes of `value`.
    package func encode(_ value: some Encodable) throws(EncodingError) -> [UInt8] {
        CanonicalJSON.encode(try self.value(of: value))
    }

    /// Appends the canonical JSON of `value` to `out`.
    package func append(_ value: some Encodable, to out: inout [UInt8]) throws(EncodingError) {
        CanonicalJSON.append(try self.value(of: value), to: &out)
    }

    /// `value` as the `JSONValue` tree that ``CanonicalJSON`` writes.
    package func value(of value: some Encodable) throws(EncodingError) -> JSONValue {
        do {
            return try JSONTreeEncoder.tree(of: value, codingPath: [])
        } catch let error as EncodingError {
            throw error
        } catch {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(error)", underlyingError: error))
        }
    }
}

/// An optional property that encodes as `null` when absent (the synthesized `Encodable` would
/// omit it): the API writes every member of a shape, absent values as `null`.
@propertyWrapper
package struct NullWhenAbsent<Wrapped: Encodable & Sendable>: Encodable, Sendable {
    package var wrappedValue: Wrapped?

    package init(wrappedValue: Wrapped?) { self.wrappedValue = wrappedValue }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

extension JSONValue: Encodable {
    /// Encodes the value as itself: through `CanonicalJSONEncoder` it gives the bytes of
    /// ``CanonicalJSON/encode(_:)``.
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .object(let members):
            var container = encoder.container(keyedBy: JSONMemberKey.self)
            for (key, member) in members { try container.encode(member, forKey: JSONMemberKey(key)) }
        case .array(let elements):
            var container = encoder.unkeyedContainer()
            for element in elements { try container.encode(element) }
        default:
            var container = encoder.singleValueContainer()
            switch self {
            case .null: try container.encodeNil()
            case .bool(let b): try container.encode(b)
            case .int(let i): try container.encode(i)
            case .double(let d): try container.encode(d)
            case .string(let s): try container.encode(s)
            case .array, .object: break
            }
        }
    }
}

extension Timestamp: Encodable {
    /// Encodes as the RFC 3339 string the API writes (``rfc3339``).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rfc3339)
    }
}

/// A member name that is any string.
private struct JSONMemberKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

/// A node of the tree under construction: containers hand out references so that nested
/// containers can fill their part after they were attached.
private final class JSONNode {
    enum Content {
        case value(JSONValue)
        case object([String: Child])
        case array([Child])
        /// Nothing was encoded (yet): an empty object, as `JSONEncoder` writes.
        case empty
    }

    /// A member or element: a finished value (most of them: no node to allocate), or a
    /// container that may still be filled.
    enum Child {
        case leaf(JSONValue)
        case node(JSONNode)

        var value: JSONValue {
            switch self {
            case .leaf(let v): v
            case .node(let n): n.value
            }
        }
    }

    var content: Content

    init(_ content: Content = .empty) { self.content = content }

    var value: JSONValue {
        switch content {
        case .value(let v): v
        case .object(let members): .object(members.mapValues(\.value))
        case .array(let elements): .array(elements.map(\.value))
        case .empty: .object([:])
        }
    }
}

private struct JSONTreeEncoder: Encoder {
    let node: JSONNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    static func tree(of value: some Encodable, codingPath: [any CodingKey]) throws -> JSONValue {
        try child(of: value, codingPath: codingPath).value
    }

    static func child(of value: some Encodable, codingPath: [any CodingKey]) throws -> JSONNode.Child {
        // Leaves that a nested encoder would only wrap: skip the detour.
        if let json = value as? JSONValue { return .leaf(json) }
        if let string = value as? String { return .leaf(.string(string)) }
        if let instant = value as? Timestamp { return .leaf(.string(instant.rfc3339)) }
        let node = JSONNode()
        try value.encode(to: JSONTreeEncoder(node: node, codingPath: codingPath))
        if case .value(let v) = node.content { return .leaf(v) }
        return .node(node)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = node.content {} else { node.content = .object([:]) }
        return KeyedEncodingContainer(KeyedContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = node.content {} else { node.content = .array([]) }
        return UnkeyedContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueContainer(node: node, codingPath: codingPath)
    }
}

/// The `JSONValue` of a primitive, shared by the three container kinds.
private enum Primitive {
    static func integer<T: BinaryInteger>(_ value: T, _ codingPath: [any CodingKey]) throws -> JSONValue {
        guard let i = Int64(exactly: value) else {
            throw EncodingError.invalidValue(
                value, .init(codingPath: codingPath, debugDescription: "\(value) does not fit in a 64-bit signed integer"))
        }
        return .int(i)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: JSONNode
    let codingPath: [any CodingKey]

    private func set(_ key: Key, _ child: JSONNode.Child) {
        guard case .object(var members) = node.content else { return }
        node.content = .empty  // release the storage so the insertion does not copy it
        members[key.stringValue] = child
        node.content = .object(members)
    }

    private func set(_ key: Key, _ value: JSONValue) { set(key, .leaf(value)) }

    mutating func encodeNil(forKey key: Key) throws { set(key, .null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(key, .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(key, .string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(key, .double(value)) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(key, .double(Double(value))) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(key, try Primitive.integer(value, codingPath + [key])) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(key, .int(Int64(value))) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(key, .int(Int64(value))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(key, .int(Int64(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(key, .int(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(key, try Primitive.integer(value, codingPath + [key])) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(key, .int(Int64(value))) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(key, .int(Int64(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(key, .int(Int64(value))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(key, try Primitive.integer(value, codingPath + [key])) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        set(key, try JSONTreeEncoder.child(of: value, codingPath: codingPath + [key]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let child = JSONNode(.object([:]))
        set(key, .node(child))
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(node: child, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = JSONNode(.array([]))
        set(key, .node(child))
        return UnkeyedContainer(node: child, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { superEncoder(forKey: Key(stringValue: "super")!) }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let child = JSONNode()
        set(key, .node(child))
        return JSONTreeEncoder(node: child, codingPath: codingPath + [key])
    }
}

/// The coding key of an array element.
private struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let node: JSONNode
    let codingPath: [any CodingKey]

    var count: Int {
        if case .array(let elements) = node.content { return elements.count }
        return 0
    }

    private var nextPath: [any CodingKey] { codingPath + [IndexKey(count)] }

    private func add(_ child: JSONNode.Child) {
        guard case .array(var elements) = node.content else { return }
        node.content = .empty  // release the storage so the append does not copy it
        elements.append(child)
        node.content = .array(elements)
    }

    private func add(_ value: JSONValue) { add(.leaf(value)) }

    mutating func encodeNil() throws { add(.null) }
    mutating func encode(_ value: Bool) throws { add(.bool(value)) }
    mutating func encode(_ value: String) throws { add(.string(value)) }
    mutating func encode(_ value: Double) throws { add(.double(value)) }
    mutating func encode(_ value: Float) throws { add(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { add(try Primitive.integer(value, nextPath)) }
    mutating func encode(_ value: Int8) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { add(.int(value)) }
    mutating func encode(_ value: UInt) throws { add(try Primitive.integer(value, nextPath)) }
    mutating func encode(_ value: UInt8) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: UInt64) throws { add(try Primitive.integer(value, nextPath)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        add(try JSONTreeEncoder.child(of: value, codingPath: nextPath))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = JSONNode(.object([:]))
        let path = nextPath
        add(.node(child))
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(node: child, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = JSONNode(.array([]))
        let path = nextPath
        add(.node(child))
        return UnkeyedContainer(node: child, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let child = JSONNode()
        let path = nextPath
        add(.node(child))
        return JSONTreeEncoder(node: child, codingPath: path)
    }
}

private struct SingleValueContainer: SingleValueEncodingContainer {
    let node: JSONNode
    let codingPath: [any CodingKey]

    private func set(_ value: JSONValue) { node.content = .value(value) }

    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(.double(value)) }
    mutating func encode(_ value: Float) throws { set(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { set(try Primitive.integer(value, codingPath)) }
    mutating func encode(_ value: Int8) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { set(.int(value)) }
    mutating func encode(_ value: UInt) throws { set(try Primitive.integer(value, codingPath)) }
    mutating func encode(_ value: UInt8) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: UInt64) throws { set(try Primitive.integer(value, codingPath)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        switch try JSONTreeEncoder.child(of: value, codingPath: codingPath) {
        case .leaf(let v): node.content = .value(v)
        case .node(let n): node.content = n.content
        }
    }
}
