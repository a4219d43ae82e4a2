import Crypto

/// The stored form of one event (the value under its seq in the `events` database).
///
/// Version 1 layout, integers little-endian:
/// `u8 format=1 | u64 seq | u64 version | i64 at | i64 recorded | 32 prev | 32 hash |
///  u16+stream | u16+type | u16+actor kind | u16+actor id | data (``BinaryJSON``)`.
/// A compact binary record keeps JSON decoding off the rebuild path; the JSON envelope is
/// produced from it for hashing and export.
struct EventRecord {
    static let currentFormat: UInt8 = 1
    static let fixedHeaderSize = 1 + 8 + 8 + 8 + 8 + 32 + 32

    var seq: UInt64
    var version: UInt64
    var at: Timestamp
    var recorded: Timestamp
    var prev: EventHash
    var hash: EventHash
    var stream: String
    var type: String
    var actor: EventActor
    /// `data` in ``BinaryJSON`` form.
    var data: [UInt8]

    /// Why a stored record could not be read.
    enum DecodingFailure: Error, Equatable {
        case unsupportedFormat(UInt8)
        case malformed(String)
    }

    func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(
            Self.fixedHeaderSize + 8 + stream.utf8.count + type.utf8.count
                + actor.kind.utf8.count + actor.id.utf8.count + data.count)
        out.append(Self.currentFormat)
        out.appendLittleEndian(seq)
        out.appendLittleEndian(version)
        out.appendLittleEndian(UInt64(bitPattern: at.milliseconds))
        out.appendLittleEndian(UInt64(bitPattern: recorded.milliseconds))
        prev.appendBytes(to: &out)
        hash.appendBytes(to: &out)
        out.appendShortString(stream)
        out.appendShortString(type)
        out.appendShortString(actor.kind)
        out.appendShortString(actor.id)
        out.append(contentsOf: data)
        return out
    }

    /// Reads a stored record.
    init(decoding buffer: UnsafeRawBufferPointer) throws(DecodingFailure) {
        guard let format = buffer.first else { throw .malformed("empty record") }
        guard format == Self.currentFormat else { throw .unsupportedFormat(format) }
        var r = ByteReader(buffer, offset: 1)
        do {
            seq = try r.uint64()
            version = try r.uint64()
            at = Timestamp(milliseconds: Int64(bitPattern: try r.uint64()))
            recorded = Timestamp(milliseconds: Int64(bitPattern: try r.uint64()))
            prev = EventHash(bytes: try r.bytes(count: 32))
            hash = EventHash(bytes: try r.bytes(count: 32))
            stream = try r.shortString()
            type = try r.shortString()
            actor = EventActor(kind: try r.shortString(), id: try r.shortString())
            data = Array(try r.bytes(count: buffer.count - r.offset))
        } catch {
            throw .malformed("truncated record")
        }
    }

    init(
        seq: UInt64, version: UInt64, at: Timestamp, recorded: Timestamp, prev: EventHash, hash: EventHash,
        stream: String, type: String, actor: EventActor, data: [UInt8]
    ) {
        self.seq = seq; self.version = version; self.at = at; self.recorded = recorded
        self.prev = prev; self.hash = hash; self.stream = stream; self.type = type
        self.actor = actor; self.data = data
    }

    /// Reads only the `at` of a stored record (the writer needs a stream's last `at`).
    static func at(in buffer: UnsafeRawBufferPointer) -> Timestamp? {
        guard buffer.count >= fixedHeaderSize, buffer[0] == currentFormat else { return nil }
        var reader = ByteReader(buffer, offset: 1 + 8 + 8)
        return (try? reader.uint64()).map { Timestamp(milliseconds: Int64(bitPattern: $0)) }
    }

    /// The public value, with `data` decoded.
    func recordedEvent() throws(DecodingFailure) -> RecordedEvent {
        let value: JSONValue
        do {
            value = try data.withUnsafeBytes { (raw) throws(ByteReader.Failure) -> JSONValue in
                var reader = ByteReader(raw)
                return try BinaryJSON.decode(&reader)
            }
        } catch {
            throw .malformed("undecodable data")
        }
        return RecordedEvent(
            seq: seq, stream: stream, version: version, type: type, at: at, recorded: recorded,
            actor: actor, data: value, prev: prev, hash: hash)
    }
}

/// How an envelope is written as JSON: the name of its stream field (for the support domain,
/// `ticket`) decides both the export form and the canonical form the hash covers.
public struct EnvelopeFormat: Sendable, Equatable {
    /// The JSON member that carries the stream id.
    public let streamField: String

    private enum Field { case actor, at, data, recorded, seq, stream, type, version }
    private let canonicalOrder: [Field]

    /// The envelope whose stream id is the member `streamField`.
    public init(streamField: String) {
        self.streamField = streamField
        let named: [(String, Field)] = [
            ("actor", .actor), ("at", .at), ("data", .data), ("recorded", .recorded),
            ("seq", .seq), (streamField, .stream), ("type", .type), ("version", .version),
        ]
        canonicalOrder = named.sorted { BinaryJSON.canonicalKeyOrder($0.0, $1.0) }.map(\.1)
    }

    public static func == (a: EnvelopeFormat, b: EnvelopeFormat) -> Bool { a.streamField == b.streamField }

    /// Appends the RFC 8785 canonical JSON of the envelope without `prev` and `hash`.
    func appendCanonical(
        seq: UInt64, stream: String, version: UInt64, type: String, at: Timestamp,
        recorded: Timestamp, actor: EventActor, binaryData: UnsafeRawBufferPointer,
        to out: inout [UInt8]
    ) throws(ByteReader.Failure) {
        out.append(UInt8(ascii: "{"))
        for (k, field) in canonicalOrder.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            switch field {
            case .actor:
                out.append(contentsOf: #""actor":{"id":"#.utf8)
                CanonicalJSON.appendString(actor.id, to: &out)
                out.append(contentsOf: #","kind":"#.utf8)
                CanonicalJSON.appendString(actor.kind, to: &out)
                out.append(UInt8(ascii: "}"))
            case .at:
                out.append(contentsOf: #""at":""#.utf8)
                at.appendRFC3339(to: &out)
                out.append(UInt8(ascii: "\""))
            case .data:
                out.append(contentsOf: #""data":"#.utf8)
                var reader = ByteReader(binaryData)
                try BinaryJSON.writeCanonical(&reader, to: &out)
                guard reader.isAtEnd else { throw .invalid("trailing bytes after data") }
            case .recorded:
                out.append(contentsOf: #""recorded":""#.utf8)
                recorded.appendRFC3339(to: &out)
                out.append(UInt8(ascii: "\""))
            case .seq:
                out.append(contentsOf: #""seq":"#.utf8)
                CanonicalJSON.appendUnsigned(seq, to: &out)
            case .stream:
                CanonicalJSON.appendString(streamField, to: &out)
                out.append(UInt8(ascii: ":"))
                CanonicalJSON.appendString(stream, to: &out)
            case .type:
                out.append(contentsOf: #""type":"#.utf8)
                CanonicalJSON.appendString(type, to: &out)
            case .version:
                out.append(contentsOf: #""version":"#.utf8)
                CanonicalJSON.appendUnsigned(version, to: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// The chain hash: SHA-256 over `prev` as 64 hex digits followed by `canonical`.
    static func chainHash(prev: EventHash, canonical: [UInt8]) -> EventHash {
        var prevHex: [UInt8] = []
        prevHex.reserveCapacity(64)
        prev.appendHex(to: &prevHex)
        var hasher = SHA256()
        hasher.update(data: prevHex)
        hasher.update(data: canonical)
        return EventHash(digest: hasher.finalize())
    }

    /// The canonical JSON (without `prev` and `hash`) of a recorded event.
    public func canonicalJSON(of event: RecordedEvent) -> [UInt8] {
        var binary: [UInt8] = []
        BinaryJSON.encode(event.data, into: &binary)
        var out: [UInt8] = []
        binary.withUnsafeBytes { raw in
            // Our own binary form cannot be malformed.
            try? appendCanonical(
                seq: event.seq, stream: event.stream, version: event.version, type: event.type,
                at: event.at, recorded: event.recorded, actor: event.actor,
                binaryData: raw, to: &out)
        }
        return out
    }

    /// Recomputes the hash of `event` from its other fields.
    public func computeHash(of event: RecordedEvent) -> EventHash {
        Self.chainHash(prev: event.prev, canonical: canonicalJSON(of: event))
    }

    /// The envelope as one JSON line (no newline), in the field order of SPEC §2.1:
    /// `seq, <stream>, version, type, at, recorded, actor, data, prev, hash`.
    public func jsonLine(of event: RecordedEvent) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        out.append(contentsOf: #"{"seq":"#.utf8)
        CanonicalJSON.appendUnsigned(event.seq, to: &out)
        out.append(UInt8(ascii: ","))
        CanonicalJSON.appendString(streamField, to: &out)
        out.append(UInt8(ascii: ":"))
        CanonicalJSON.appendString(event.stream, to: &out)
        out.append(contentsOf: #","version":"#.utf8)
        CanonicalJSON.appendUnsigned(event.version, to: &out)
        out.append(contentsOf: #","type":"#.utf8)
        CanonicalJSON.appendString(event.type, to: &out)
        out.append(contentsOf: #","at":""#.utf8)
        event.at.appendRFC3339(to: &out)
        out.append(contentsOf: #"","recorded":""#.utf8)
        event.recorded.appendRFC3339(to: &out)
        out.append(contentsOf: #"","actor":{"kind":"#.utf8)
        CanonicalJSON.appendString(event.actor.kind, to: &out)
        out.append(contentsOf: #","id":"#.utf8)
        CanonicalJSON.appendString(event.actor.id, to: &out)
        out.append(contentsOf: #"},"data":"#.utf8)
        out.append(contentsOf: CanonicalJSON.encode(event.data))
        out.append(contentsOf: #","prev":""#.utf8)
        event.prev.appendHex(to: &out)
        out.append(contentsOf: #"","hash":""#.utf8)
        event.hash.appendHex(to: &out)
        out.append(contentsOf: #""}"#.utf8)
        return out
    }

    /// Reads one envelope line (export form) back into a ``RecordedEvent``; every member of
    /// SPEC §2.1 must be present and nothing else.
    public func parseLine(_ line: some Collection<UInt8>) throws(EnvelopeParseError) -> RecordedEvent {
        let value: JSONValue
        do { value = try JSONParser.parse(line) } catch { throw EnvelopeParseError(detail: "invalid JSON: \(error)") }
        guard let o = value.objectValue else { throw EnvelopeParseError(detail: "an event must be a JSON object") }
        let allowed: Set<String> = ["seq", streamField, "version", "type", "at", "recorded", "actor", "data", "prev", "hash"]
        if let unknown = o.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw EnvelopeParseError(detail: "unknown field \"\(unknown)\"")
        }
        func require<T>(_ key: String, _ extract: (JSONValue) -> T?) throws(EnvelopeParseError) -> T {
            guard let v = o[key] else { throw EnvelopeParseError(detail: "missing field \"\(key)\"") }
            guard let t = extract(v) else { throw EnvelopeParseError(detail: "field \"\(key)\" has the wrong type or form") }
            return t
        }
        let seq = try require("seq") { $0.intValue.flatMap { $0 > 0 ? UInt64($0) : nil } }
        let stream = try require(streamField) { $0.stringValue }
        let version = try require("version") { $0.intValue.flatMap { $0 > 0 ? UInt64($0) : nil } }
        let type = try require("type") { $0.stringValue }
        let at = try require("at") { $0.stringValue.flatMap { Timestamp(rfc3339: $0) } }
        let recorded = try require("recorded") { $0.stringValue.flatMap { Timestamp(rfc3339: $0) } }
        let actor = try require("actor") { v -> EventActor? in
            guard let a = v.objectValue, a.count == 2, let kind = a["kind"]?.stringValue, let id = a["id"]?.stringValue else { return nil }
            return EventActor(kind: kind, id: id)
        }
        let data = try require("data") { $0 }
        let prev = try require("prev") { $0.stringValue.flatMap { EventHash(hex: $0) } }
        let hash = try require("hash") { $0.stringValue.flatMap { EventHash(hex: $0) } }
        return RecordedEvent(
            seq: seq, stream: stream, version: version, type: type, at: at, recorded: recorded,
            actor: actor, data: data, prev: prev, hash: hash)
    }
}

/// An envelope line that could not be read, and why.
public struct EnvelopeParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong with the line.
    public var detail: String
    public var description: String { detail }
}

extension EventRecord {
    /// Reads the record stored under `seq`, with the log's errors (naming that seq).
    init(stored value: UnsafeRawBufferPointer, seq: UInt64) throws(EventLogError) {
        do {
            self = try EventRecord(decoding: value)
        } catch {
            switch error {
            case .unsupportedFormat(let format): throw .unsupportedRecordFormat(seq: seq, format: format)
            case .malformed(let reason): throw .corruptRecord(seq: seq, reason: reason)
            }
        }
    }

    /// The event stored under `seq`, decoded as every read decodes it, with the log's errors.
    static func recordedEvent(stored value: UnsafeRawBufferPointer, seq: UInt64) throws(EventLogError) -> RecordedEvent {
        let record = try EventRecord(stored: value, seq: seq)
        do { return try record.recordedEvent() } catch { throw .corruptRecord(seq: seq, reason: "undecodable data") }
    }
}
