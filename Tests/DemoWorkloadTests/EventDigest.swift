import EventLog
import SupportDomain

@testable import DemoWorkload

/// A 64-bit FNV-1a digest of a sequence of events, over a canonical rendering (object keys
/// sorted by their UTF-8 bytes): it pins the exact output of a seed.
struct EventDigest {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ event: DemoEvent) {
        add(event.ticket)
        add(event.type)
        add(String(event.at.milliseconds))
        add(event.actor.kind)
        add(event.actor.id)
        add(event.data)
    }

    private mutating func add(_ value: JSONValue) {
        switch value {
        case .null: add("null")
        case .bool(let b): add(b ? "true" : "false")
        case .int(let i): add("i\(i)")
        case .double(let d): add("d\(d)")
        case .string(let s): add("s" + s)
        case .array(let items):
            add("[")
            for item in items { add(item) }
            add("]")
        case .object(let members):
            add("{")
            for key in members.keys.sorted(by: Identifier.precedes) {
                add(key)
                if let member = members[key] { add(member) }
            }
            add("}")
        }
    }

    private mutating func add(_ text: String) {
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01B3
        }
        value ^= 0xFF
        value = value &* 0x100_0000_01B3
    }
}
