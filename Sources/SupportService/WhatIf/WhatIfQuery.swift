import EventLog
import Foundation
import Projections
import SupportDomain

/// What a what-if asks (`POST /v1/metrics/what-if`): a policy overlay, in the policy file's form,
/// and the parameters of the response-time and satisfaction routes.
package struct WhatIfQuery: Sendable {
    /// The policy file's JSON bytes (a JSON object), laid over `Policy.default` exactly as
    /// `supportd --policy FILE` lays the file.
    package var overlay: [UInt8]
    /// The window the metrics count values ending in.
    package var window: TimeWindow
    package var groupBy: GroupBy
    /// The clock the response-time statistics are measured on (SLA outcomes use each target's own).
    package var clock: SLAClock
    /// The satisfaction series' bucket.
    package var bucket: BucketUnit
    /// Answer as of this instant (the events with `at` <= it, evaluated at it); nil: now.
    package var asOf: Timestamp?
    /// Windows (the dashboard's buckets, cut on the current policy's calendar so that both
    /// policies share them) whose first-reply figures each side also gives, for curves over
    /// time. Not a member of the route's body: each window costs one more pass over the values.
    package var curveWindows: [TimeWindow] = []

    package init(
        overlay: [UInt8], window: TimeWindow = .unbounded, groupBy: GroupBy = .none, clock: SLAClock = .calendar,
        bucket: BucketUnit = .week, asOf: Timestamp? = nil
    ) {
        self.overlay = overlay
        self.window = window
        self.groupBy = groupBy
        self.clock = clock
        self.bucket = bucket
        self.asOf = asOf
    }

    /// The body's members; `policy` is required, the others default as on the plain routes.
    package static let members: [String] = ["policy", "from", "to", "groupBy", "clock", "bucket", "asOf"]

    /// Reads the route's body strictly: a JSON object with `policy` (an object: the overlay) and
    /// optionally `from`, `to`, `asOf` (RFC 3339 instants, any offset), `groupBy`, `clock` and
    /// `bucket` (their names as in the query parameters of the plain routes). Unknown members,
    /// wrong types and `from` after `to` are `badRequest`. The overlay itself is checked by
    /// ``SupportBackend/whatIf(_:)`` (``proposedPolicy()``).
    package init(body: [UInt8]) throws(ServiceError) {
        let document: JSONValue
        do { document = try JSONParser.parse(body) } catch { throw .badRequest("malformed JSON: \(error)") }
        guard let object = document.objectValue else {
            throw .badRequest(
                "the body must be a JSON object {\"policy\": {…}, \"from\", \"to\", \"groupBy\", \"clock\", \"bucket\", \"asOf\"}")
        }
        if let unknown = object.keys.sorted().first(where: { !Self.members.contains($0) }) {
            throw .badRequest("unknown member \"\(unknown)\" (allowed: \(Self.members.joined(separator: ", ")))")
        }
        guard let policy = object["policy"] else { throw .badRequest("\"policy\" is required: the policy overlay, an object (may be {})") }
        guard policy.objectValue != nil else { throw .badRequest("policy: expected an object, found \(Self.typeName(policy))") }
        // The overlay's own bytes, so that it is read exactly as the same text in a policy file
        // would be (a `2.0` stays a fraction).
        guard let overlay = Self.memberBytes("policy", in: body) else { throw .badRequest("policy: expected an object") }
        func instant(_ name: String) throws(ServiceError) -> Timestamp? {
            guard let value = object[name], !value.isNull else { return nil }
            guard let text = value.stringValue, let t = Timestamp(rfc3339: text, allowOffset: true) else {
                throw .badRequest("\"\(name)\" must be an RFC 3339 instant such as 2026-03-01T10:22:33Z, not \(Self.shown(value))")
            }
            return t
        }
        func choice<E: RawRepresentable & CaseIterable>(_ name: String, _: E.Type) throws(ServiceError) -> E? where E.RawValue == String {
            guard let value = object[name], !value.isNull else { return nil }
            guard let text = value.stringValue, let e = E(rawValue: text) else {
                throw .badRequest(
                    "\"\(name)\" must be one of \(E.allCases.map(\.rawValue).joined(separator: ", ")), not \(Self.shown(value))")
            }
            return e
        }
        let from = try instant("from"), to = try instant("to")
        if let from, let to, from > to { throw .badRequest("\"from\" (\(from)) is after \"to\" (\(to))") }
        self.init(
            overlay: overlay, window: TimeWindow(from: from, to: to), groupBy: try choice("groupBy", GroupBy.self) ?? .none,
            clock: try choice("clock", SLAClock.self) ?? .calendar, bucket: try choice("bucket", BucketUnit.self) ?? .week,
            asOf: try instant("asOf"))
    }

    /// The proposed policy: `Policy.default` with the overlay laid over it (what `supportd
    /// --policy` does), and its calendar. A problem names its key path under `policy`.
    package func proposedPolicy() throws(ServiceError) -> ServiceLevels {
        let policy: Policy
        do { policy = try Policy.parse(jsonData: Data(overlay)) } catch {
            throw .badRequest(error.keyPath.isEmpty ? "policy: \(error.message)" : "policy.\(error.description)")
        }
        do { return try ServiceLevels(policy: policy) } catch { throw .badRequest("policy: \(error)") }
    }

    private static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    private static func shown(_ value: JSONValue) -> String {
        let text = String(decoding: CanonicalJSON.encode(value), as: UTF8.self)
        return text.count > 80 ? String(text.prefix(80)) + "…" : text
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    /// The bytes of the value of a top-level member of a well-formed JSON object (already parsed:
    /// no duplicate members), nil when it has none.
    static func memberBytes(_ name: String, in json: [UInt8]) -> [UInt8]? {
        var i = 0
        func skipSpace() { while i < json.count, Self.isSpace(json[i]) { i += 1 } }
        /// Moves past the string starting at `i` (a quote).
        func skipString() {
            i += 1
            while i < json.count, json[i] != UInt8(ascii: "\"") { i += json[i] == UInt8(ascii: "\\") ? 2 : 1 }
            i += 1
        }
        /// Moves past the value starting at `i`.
        func skipValue() {
            guard i < json.count else { return }
            switch json[i] {
            case UInt8(ascii: "\""):
                skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while i < json.count {
                    let b = json[i]
                    if b == UInt8(ascii: "\"") {
                        skipString()
                        continue
                    }
                    if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") {
                        depth += 1
                    } else if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") {
                        depth -= 1
                        if depth == 0 {
                            i += 1
                            return
                        }
                    }
                    i += 1
                }
            default:
                while i < json.count, !Self.isSpace(json[i]), json[i] != UInt8(ascii: ","), json[i] != UInt8(ascii: "}") { i += 1 }
            }
        }
        skipSpace()
        guard i < json.count, json[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        while true {
            skipSpace()
            guard i < json.count, json[i] == UInt8(ascii: "\"") else { return nil }
            let keyStart = i
            skipString()
            let key = (try? JSONParser.parse(Array(json[keyStart..<i])))?.stringValue
            skipSpace()
            guard i < json.count, json[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            skipSpace()
            let valueStart = i
            skipValue()
            if key == name { return Array(json[valueStart..<i]) }
            skipSpace()
            guard i < json.count, json[i] == UInt8(ascii: ",") else { return nil }
            i += 1
        }
    }
}
