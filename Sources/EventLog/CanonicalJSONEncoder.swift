/// Writes any `Encodable` as RFC 8785 canonical JSON: exactly the bytes ``CanonicalJSON/encode(_:)``
/// gives for the equivalent ``JSONValue``.
///
/// The `Encoder` protocol hands out containers that may be filled in any order (a nested
/// container can be filled after its parent's later members), so the value is first recorded as
/// a small tree in two flat arrays, one node per object or array and one record per member or
/// element, leaves kept as they came (strings, numbers, timestamps, `JSONValue`s). The tree is
/// then written straight to bytes with ``CanonicalJSON``'s own pieces: member names sorted with
/// ``BinaryJSON/canonicalKeyOrder(_:_:)``, leaves by ``CanonicalJSON/append(_:to:)``. No
/// `JSONValue` is built for a response unless ``value(of:)`` asks for one.
///
/// Keyed containers follow the `Encoder` contract: `encodeNil(forKey:)` and `encode(nil, …)`
/// write `null`, while the synthesized `encodeIfPresent` of an optional property omits the
/// member; a member encoded twice keeps its last value. A response whose API writes `null` for
/// an absent value marks that property ``NullWhenAbsent``.
package struct CanonicalJSONEncoder: Sendable {
    package init() {}

    /// The canonical JSON bytes of `value`.
    package func encode(_ value: some Encodable) throws(EncodingError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        try append(value, to: &out)
        return out
    }

    /// Appends the canonical JSON of `value` to `out` (nothing when it throws).
    package func append(_ value: some Encodable, to out: inout [UInt8]) throws(EncodingError) {
        let (tree, root) = try Self.record(value)
        tree.write(root, to: &out)
    }

    /// The canonical JSON of the object `value` cut where the value of one more member, `key`,
    /// goes: `head + json + tail` is the canonical JSON of that object with `key` set to the
    /// value whose canonical JSON is `json` (it replaces a member `key` of `value`). `head` ends
    /// with `"key":`. Throws when `value` does not encode as an object.
    package func encode(_ value: some Encodable, cutAtMember key: String) throws(EncodingError) -> (head: [UInt8], tail: [UInt8]) {
        let (tree, root) = try Self.record(value)
        var out: [UInt8] = []
        out.reserveCapacity(512)
        guard let cut = tree.write(root, cutAtMember: key, to: &out) else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "not an object: no member \(key) to cut at"))
        }
        return (Array(out[..<cut]), Array(out[cut...]))
    }

    /// `value` as the `JSONValue` whose canonical JSON ``encode(_:)`` writes.
    package func value(of value: some Encodable) throws(EncodingError) -> JSONValue {
        let (tree, root) = try Self.record(value)
        return tree.value(of: root)
    }

    private static func record(_ value: some Encodable) throws(EncodingError) -> (EncodingTree, EncodingTree.Child) {
        let tree = EncodingTree()
        do {
            return (tree, try tree.child(of: value, path: .root))
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

/// The coding key of an array element.
private struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

/// Where a container sits, as a chain built once per nested value rather than an array per
/// member: `codingPath` is only read when something asks for it (an error, mostly).
private indirect enum CodingPathNode {
    case root
    case node(any CodingKey, CodingPathNode)

    func appending(_ key: any CodingKey) -> CodingPathNode { .node(key, self) }

    var keys: [any CodingKey] {
        var keys: [any CodingKey] = []
        var node = self
        while case .node(let key, let parent) = node {
            keys.append(key)
            node = parent
        }
        return keys.reversed()
    }
}

/// The value being encoded, recorded for one call of ``CanonicalJSONEncoder``: nodes (objects,
/// arrays, single values) and their members in two arrays, each node's members linked in the
/// order they were encoded. Containers refer to their node by index, so a nested container can
/// be filled at any time before the top-level `encode(to:)` returns.
private final class EncodingTree {
    enum Kind: UInt8 {
        /// Nothing was encoded (yet): an empty object, as `JSONEncoder` writes.
        case empty
        case object
        case array
        /// One value, the node's only member.
        case single
    }

    /// A member or element: a finished leaf (most of them), or a node that may still be filled.
    enum Child {
        case value(JSONValue)
        /// Written as its RFC 3339 string, without building that string.
        case instant(Timestamp)
        case node(Int)
    }

    struct Node {
        var kind: Kind = .empty
        var first = -1
        var last = -1
        var count = 0
    }

    struct Member {
        /// The member name (unused in arrays and single values).
        var key: String
        var child: Child
        var next = -1
    }

    /// The nodes and members, changed only through its mutating methods: one exclusive access
    /// to the class's property per container call, not one per array access.
    struct Records {
        var nodes: [Node] = []
        var members: [Member] = []

        init() {
            nodes.reserveCapacity(16)
            members.reserveCapacity(64)
        }

        mutating func newNode(_ kind: Kind) -> Int {
            nodes.append(Node(kind: kind))
            return nodes.count - 1
        }

        /// The child a node whose value was encoded stands for: its value when it holds a single
        /// one (giving the slots back when nothing was recorded after it), else the node.
        mutating func close(_ node: Int) -> Child {
            guard nodes[node].kind == .single else { return .node(node) }
            let only = nodes[node].first
            let child = members[only].child
            if node == nodes.count - 1 && only == members.count - 1 {
                nodes.removeLast()
                members.removeLast()
            }
            return child
        }

        /// Makes `node` an object (keeping its members if it is one already, as when a type
        /// encodes its parent's members and then its own).
        mutating func makeObject(_ node: Int) {
            if nodes[node].kind != .object { nodes[node] = Node(kind: .object) }
        }

        mutating func makeArray(_ node: Int) {
            if nodes[node].kind != .array { nodes[node] = Node(kind: .array) }
        }

        /// Adds a member to `node` if it is still of `kind`.
        mutating func add(_ child: Child, key: String, to node: Int, kind: Kind) {
            guard nodes[node].kind == kind else { return }
            let index = members.count
            members.append(Member(key: key, child: child))
            let last = nodes[node].last
            if last < 0 { nodes[node].first = index } else { members[last].next = index }
            nodes[node].last = index
            nodes[node].count += 1
        }

        /// Makes `node` the single value `child`; a node child is moved in whole.
        mutating func set(_ child: Child, of node: Int) {
            if case .node(let source) = child {
                nodes[node] = nodes[source]
                nodes[source] = Node()
                return
            }
            let index = members.count
            members.append(Member(key: "", child: child))
            nodes[node] = Node(kind: .single, first: index, last: index, count: 1)
        }

        func count(of node: Int) -> Int { nodes[node].kind == .array ? nodes[node].count : 0 }
    }

    /// Held through a pointer the tree owns: a class property would be checked for exclusive
    /// access at run time on every container call. The tree is used by one encoding call, on
    /// one thread, and no access to the records spans a call back into an `encode(to:)`.
    let records: UnsafeMutablePointer<Records>

    init() {
        records = .allocate(capacity: 1)
        records.initialize(to: Records())
    }

    deinit {
        records.deinitialize(count: 1)
        records.deallocate()
    }

    // MARK: Recording

    /// `value` as a child at `path`: leaves that a nested encoder would only wrap skip the
    /// detour (checked on the type, no dynamic cast of the value when it is not one of them).
    func child<T: Encodable>(of value: T, path: @autoclosure () -> CodingPathNode) throws -> Child {
        if T.self == String.self { return .value(.string(value as! String)) }
        if T.self == Timestamp.self { return .instant(value as! Timestamp) }
        if T.self == JSONValue.self { return .value(value as! JSONValue) }
        if T.self == Int64.self { return .value(.int(value as! Int64)) }
        if T.self == Int.self { return .value(.int(Int64(value as! Int))) }
        if T.self == Bool.self { return .value(.bool(value as! Bool)) }
        if T.self == Double.self { return .value(.double(value as! Double)) }
        let node = records.pointee.newNode(.empty)
        try value.encode(to: TreeEncoder(tree: self, node: node, path: path()))
        return records.pointee.close(node)
    }

    // MARK: Writing

    func write(_ child: Child, to out: inout [UInt8]) {
        Writer(records.pointee).write(child, to: &out)
    }

    /// Writes the object `child` with a member `key` whose value is left out, and gives the
    /// offset in `out` where that value goes; nil (writing nothing) when `child` is no object.
    func write(_ child: Child, cutAtMember key: String, to out: inout [UInt8]) -> Int? {
        let writer = Writer(records.pointee)
        guard case .node(let n) = child, writer.nodes[n].kind == .object || writer.nodes[n].kind == .empty else { return nil }
        return writer.write(object: writer.nodes[n], cutAtMember: key, to: &out)
    }

    func value(of child: Child) -> JSONValue {
        Writer(records.pointee).value(of: child)
    }

    /// The finished tree, written as canonical JSON or read as a `JSONValue` (from copies of the
    /// arrays: no exclusivity checks on the class while walking it).
    struct Writer {
        let nodes: [Node]
        let members: [Member]
        let orders = Orders()

        init(_ records: Records) {
            nodes = records.nodes
            members = records.members
        }

        /// The canonical order of member lists met before in this tree: the objects of one type
        /// come with the same names in the same order (the entries of a thread), sorted once.
        final class Orders {
            struct Order {
                /// The member names in encoding order.
                var names: [String]
                /// The members to write, as ranks in encoding order, in canonical order (of
                /// equal names, only the last).
                var ranks: [Int]
            }

            var known: [Order] = []

            /// The ranks of the members `list` in canonical order.
            func ranks(of list: UnsafeMutableBufferPointer<Int>, _ members: [Member]) -> [Int] {
                for order in known where order.names.count == list.count {
                    var same = true
                    for k in 0..<list.count where !order.names[k].utf8.elementsEqual(members[list[k]].key.utf8) {
                        same = false
                        break
                    }
                    if same { return order.ranks }
                }
                let ranks = Self.sorted(list, members)
                if known.count < 16 { known.append(Order(names: list.map { members[$0].key }, ranks: ranks)) }
                return ranks
            }

            /// The ranks of `list`'s members in canonical order, equal names in encoding order
            /// and only the last of them kept (a binary insertion sort: stable, and one
            /// comparison per member when the names come in order already).
            static func sorted(_ list: UnsafeMutableBufferPointer<Int>, _ members: [Member]) -> [Int] {
                func precedes(_ a: Int, _ b: Int) -> Bool { BinaryJSON.canonicalKeyOrder(members[list[a]].key, members[list[b]].key) }
                var order: [Int] = []
                order.reserveCapacity(list.count)
                for rank in 0..<list.count {
                    var low = 0
                    var high = order.count
                    if let last = order.last, !precedes(rank, last) {
                        low = high
                    } else {
                        // The first position whose name sorts after this one.
                        while low < high {
                            let mid = (low + high) / 2
                            if precedes(rank, order[mid]) { high = mid } else { low = mid + 1 }
                        }
                    }
                    order.insert(rank, at: low)
                }
                // Equal names sit together in encoding order: the last one wins.
                var ranks: [Int] = []
                ranks.reserveCapacity(order.count)
                for k in order.indices where k + 1 == order.count || precedes(order[k], order[k + 1]) { ranks.append(order[k]) }
                return ranks
            }
        }

        func value(of child: Child) -> JSONValue {
            switch child {
            case .value(let v): return v
            case .instant(let t): return .string(t.rfc3339)
            case .node(let n):
                let node = nodes[n]
                switch node.kind {
                case .empty: return .object([:])
                case .single: return value(of: members[node.first].child)
                case .array:
                    var elements: [JSONValue] = []
                    elements.reserveCapacity(node.count)
                    var m = node.first
                    while m >= 0 {
                        elements.append(value(of: members[m].child))
                        m = members[m].next
                    }
                    return .array(elements)
                case .object:
                    var object: [String: JSONValue] = [:]
                    object.reserveCapacity(node.count)
                    var m = node.first
                    while m >= 0 {
                        object[members[m].key] = value(of: members[m].child)
                        m = members[m].next
                    }
                    return .object(object)
                }
            }
        }

        func write(_ child: Child, to out: inout [UInt8]) {
            switch child {
            case .value(let v): CanonicalJSON.append(v, to: &out)
            case .instant(let t):
                out.append(UInt8(ascii: "\""))
                t.appendRFC3339(to: &out)
                out.append(UInt8(ascii: "\""))
            case .node(let n): write(node: nodes[n], to: &out)
            }
        }

        func write(node: Node, to out: inout [UInt8]) {
            switch node.kind {
            case .empty: out.append(contentsOf: [UInt8(ascii: "{"), UInt8(ascii: "}")])
            case .single: write(members[node.first].child, to: &out)
            case .object where node.count == 0: out.append(contentsOf: [UInt8(ascii: "{"), UInt8(ascii: "}")])
            case .array:
                out.append(UInt8(ascii: "["))
                var m = node.first
                while m >= 0 {
                    if m != node.first { out.append(UInt8(ascii: ",")) }
                    write(members[m].child, to: &out)
                    m = members[m].next
                }
                out.append(UInt8(ascii: "]"))
            case .object: _ = write(object: node, cutAtMember: nil, to: &out)
            }
        }

        /// Writes an object's members in canonical order; with `cut`, also a member of that
        /// name without its value, whose offset in `out` it returns.
        func write(object node: Node, cutAtMember cut: String?, to out: inout [UInt8]) -> Int? {
            out.append(UInt8(ascii: "{"))
            var written = false
            var offset: Int? = nil
            func open(_ key: String) {
                if written { out.append(UInt8(ascii: ",")) }
                written = true
                CanonicalJSON.appendString(key, to: &out)
                out.append(UInt8(ascii: ":"))
            }
            if node.count > 0 {
                withUnsafeTemporaryAllocation(of: Int.self, capacity: node.count) { list in
                    var n = 0
                    var m = node.first
                    while m >= 0, n < list.count {
                        list[n] = m
                        n += 1
                        m = members[m].next
                    }
                    for rank in orders.ranks(of: UnsafeMutableBufferPointer(rebasing: list[..<n]), members) {
                        let member = members[list[rank]]
                        if let cut, offset == nil, !BinaryJSON.canonicalKeyOrder(member.key, cut) {
                            open(cut)
                            offset = out.count
                            // A member of the cut's name is replaced by it.
                            if !BinaryJSON.canonicalKeyOrder(cut, member.key) { continue }
                        }
                        open(member.key)
                        write(member.child, to: &out)
                    }
                }
            }
            if let cut, offset == nil {
                open(cut)
                offset = out.count
            }
            out.append(UInt8(ascii: "}"))
            return offset
        }
    }
}

/// The `JSONValue` of an integer that must fit in 64 signed bits.
private func integer<T: BinaryInteger>(_ value: T, _ path: CodingPathNode, _ key: (any CodingKey)? = nil) throws -> JSONValue {
    guard let i = Int64(exactly: value) else {
        let keys = key.map { path.appending($0) } ?? path
        throw EncodingError.invalidValue(
            value, .init(codingPath: keys.keys, debugDescription: "\(value) does not fit in a 64-bit signed integer"))
    }
    return .int(i)
}

private struct TreeEncoder: Encoder {
    let tree: EncodingTree
    let node: Int
    let path: CodingPathNode
    var codingPath: [any CodingKey] { path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        tree.records.pointee.makeObject(node)
        return KeyedEncodingContainer(KeyedContainer<Key>(tree: tree, node: node, path: path))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        tree.records.pointee.makeArray(node)
        return UnkeyedContainer(tree: tree, node: node, path: path)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueContainer(tree: tree, node: node, path: path)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let tree: EncodingTree
    let node: Int
    let path: CodingPathNode
    var codingPath: [any CodingKey] { path.keys }

    private func set(_ key: Key, _ child: EncodingTree.Child) {
        tree.records.pointee.add(child, key: key.stringValue, to: node, kind: .object)
    }
    private func set(_ key: Key, _ value: JSONValue) { set(key, .value(value)) }

    mutating func encodeNil(forKey key: Key) throws { set(key, .null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(key, .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(key, .string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(key, .double(value)) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(key, .double(Double(value))) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(key, try integer(value, path, key)) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(key, .int(Int64(value))) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(key, .int(Int64(value))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(key, .int(Int64(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(key, .int(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(key, try integer(value, path, key)) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(key, .int(Int64(value))) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(key, .int(Int64(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(key, .int(Int64(value))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(key, try integer(value, path, key)) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        set(key, try tree.child(of: value, path: path.appending(key)))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let child = tree.records.pointee.newNode(.object)
        set(key, .node(child))
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(tree: tree, node: child, path: path.appending(key)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = tree.records.pointee.newNode(.array)
        set(key, .node(child))
        return UnkeyedContainer(tree: tree, node: child, path: path.appending(key))
    }

    mutating func superEncoder() -> any Encoder {
        let key = JSONMemberKey("super")
        let child = tree.records.pointee.newNode(.empty)
        tree.records.pointee.add(.node(child), key: key.stringValue, to: node, kind: .object)
        return TreeEncoder(tree: tree, node: child, path: path.appending(key))
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let child = tree.records.pointee.newNode(.empty)
        set(key, .node(child))
        return TreeEncoder(tree: tree, node: child, path: path.appending(key))
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let tree: EncodingTree
    let node: Int
    let path: CodingPathNode
    var codingPath: [any CodingKey] { path.keys }

    var count: Int { tree.records.pointee.count(of: node) }

    private var nextPath: CodingPathNode { path.appending(IndexKey(count)) }

    private func add(_ child: EncodingTree.Child) { tree.records.pointee.add(child, key: "", to: node, kind: .array) }
    private func add(_ value: JSONValue) { add(.value(value)) }

    mutating func encodeNil() throws { add(.null) }
    mutating func encode(_ value: Bool) throws { add(.bool(value)) }
    mutating func encode(_ value: String) throws { add(.string(value)) }
    mutating func encode(_ value: Double) throws { add(.double(value)) }
    mutating func encode(_ value: Float) throws { add(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { add(try integer(value, path, IndexKey(count))) }
    mutating func encode(_ value: Int8) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { add(.int(value)) }
    mutating func encode(_ value: UInt) throws { add(try integer(value, path, IndexKey(count))) }
    mutating func encode(_ value: UInt8) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: UInt64) throws { add(try integer(value, path, IndexKey(count))) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        add(try tree.child(of: value, path: nextPath))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let path = nextPath
        let child = tree.records.pointee.newNode(.object)
        add(.node(child))
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(tree: tree, node: child, path: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = nextPath
        let child = tree.records.pointee.newNode(.array)
        add(.node(child))
        return UnkeyedContainer(tree: tree, node: child, path: path)
    }

    mutating func superEncoder() -> any Encoder {
        let path = nextPath
        let child = tree.records.pointee.newNode(.empty)
        add(.node(child))
        return TreeEncoder(tree: tree, node: child, path: path)
    }
}

private struct SingleValueContainer: SingleValueEncodingContainer {
    let tree: EncodingTree
    let node: Int
    let path: CodingPathNode
    var codingPath: [any CodingKey] { path.keys }

    private func set(_ value: JSONValue) { tree.records.pointee.set(.value(value), of: node) }

    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(.double(value)) }
    mutating func encode(_ value: Float) throws { set(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { set(try integer(value, path)) }
    mutating func encode(_ value: Int8) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { set(.int(value)) }
    mutating func encode(_ value: UInt) throws { set(try integer(value, path)) }
    mutating func encode(_ value: UInt8) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: UInt64) throws { set(try integer(value, path)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let child = try tree.child(of: value, path: path)
        tree.records.pointee.set(child, of: node)
    }
}
