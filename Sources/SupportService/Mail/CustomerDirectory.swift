import EventLog
import Foundation
import Logging
import MailMessage
import SupportDomain
import Synchronization

/// Which customer writes from which address, and where a customer's mail goes: read from the
/// customers file `{"customers": [{"id": "acme", "addresses": ["ops@acme.example"]}]}`.
///
/// Addresses are matched without regard to case. A sender the directory does not know becomes
/// the customer whose id is their address (lowercased). The file is read again when it changes
/// (its size or modification time), at the next mail; a file that no longer reads keeps the
/// directory it had, and the problem is reported once per change.
package final class CustomerDirectory: Sendable {
    /// One reading of the file.
    package struct Entries: Sendable, Equatable {
        /// Lowercased address -> customer id.
        var customerByAddress: [String: String] = [:]
        /// Customer id -> their first address.
        var addressByCustomer: [String: String] = [:]
    }

    private struct State {
        var entries = Entries()
        var stamp: FileStamp?
        var problem: String?
    }

    private struct FileStamp: Equatable {
        var size: Int
        var modified: Date
    }

    private let path: String?
    private let state: Mutex<State>
    private let logger: Logger

    /// A directory read from `path` (nil: an empty directory, every sender keyed by address).
    /// A file that exists but does not read is an error here, at start.
    package init(path: String?, logger: Logger = Logger(label: "customers")) throws(ServiceError) {
        self.path = path
        self.logger = logger
        state = Mutex(State())
        if let path {
            let entries = try Self.read(path)
            let stamp = Self.stamp(path)
            state.withLock {
                $0.entries = entries
                $0.stamp = stamp
            }
        }
    }

    /// A directory of these customers (tests, tools).
    package init(_ customers: [(id: String, addresses: [String])]) throws(ServiceError) {
        path = nil
        logger = Logger(label: "customers")
        state = Mutex(State())
        let entries = try Self.entries(customers)
        state.withLock { $0.entries = entries }
    }

    /// The problem of the last reading of a changed file, if it failed.
    package var problem: String? { state.withLock { $0.problem } }

    /// The customer writing from `address`: the directory's, else the address itself (lowercased).
    /// Nil when the address cannot be a customer id (over 128 code points).
    package func customer(forAddress address: String) -> String? {
        let key = address.lowercased()
        if let known = current().customerByAddress[key] { return known }
        return Identifier.problem(with: key) == nil ? key : nil
    }

    /// Where mail for `customer` goes: the directory's first address for them, else the id
    /// itself when it is an address (a customer who first wrote by mail). Nil: no address.
    package func address(ofCustomer customer: String) -> String? {
        if let known = current().addressByCustomer[customer] { return known }
        return Self.looksLikeAddress(customer) ? customer : nil
    }

    /// Whether `text` is a bare address (`local@domain`, at most 254 bytes), as the mail
    /// parser reads addresses: nothing but the address, no display name or brackets.
    static func looksLikeAddress(_ text: String) -> Bool {
        guard text.utf8.count <= 254, let parsed = MailAddress.parse(text) else { return false }
        return !parsed.localPart.isEmpty && !parsed.domain.isEmpty && parsed.address.lowercased() == text.lowercased()
    }

    private func current() -> Entries {
        guard let path else { return state.withLock { $0.entries } }
        let stamp = Self.stamp(path)
        let (entries, stale) = state.withLock { ($0.entries, $0.stamp != stamp) }
        guard stale else { return entries }
        do {
            let fresh = try Self.read(path)
            state.withLock {
                $0.entries = fresh
                $0.stamp = stamp
                $0.problem = nil
            }
            logger.info("re-read the customers file \(path)")
            return fresh
        } catch {
            state.withLock {
                $0.stamp = stamp
                $0.problem = error.detail
            }
            logger.error("the customers file changed and no longer reads; the previous directory stays in force: \(error.detail)")
            return entries
        }
    }

    private static func stamp(_ path: String) -> FileStamp? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let size = attributes[.size] as? Int, let modified = attributes[.modificationDate] as? Date
        else { return nil }
        return FileStamp(size: size, modified: modified)
    }

    /// Reads and checks the customers file.
    static func read(_ path: String) throws(ServiceError) -> Entries {
        let bytes: [UInt8]
        do { bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw ServiceError(.badRequest, "the customers file \(path) cannot be read: \(error.localizedDescription)")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            throw ServiceError(.badRequest, "the customers file \(path) is not JSON: \(error)")
        }
        guard let list = value["customers"]?.arrayValue, value.objectValue?.count == 1 else {
            throw ServiceError(.badRequest, "the customers file \(path) must be {\"customers\": [...]}")
        }
        var customers: [(id: String, addresses: [String])] = []
        for (k, item) in list.enumerated() {
            guard let o = item.objectValue, o.count == 2, let id = o["id"]?.stringValue,
                let addresses = o["addresses"]?.arrayValue?.compactMap(\.stringValue),
                addresses.count == o["addresses"]?.arrayValue?.count
            else {
                throw ServiceError(.badRequest, "customers[\(k)] of \(path) must be {\"id\", \"addresses\": [...]}")
            }
            customers.append((id, addresses))
        }
        return try entries(customers)
    }

    private static func entries(_ customers: [(id: String, addresses: [String])]) throws(ServiceError) -> Entries {
        var entries = Entries()
        for (id, addresses) in customers {
            if let problem = Identifier.problem(with: id) { throw ServiceError(.badRequest, "customer id \"\(id)\" \(problem)") }
            for address in addresses {
                guard looksLikeAddress(address) else {
                    throw ServiceError(.badRequest, "\"\(address)\" of customer \(id) is not a mail address")
                }
                let key = address.lowercased()
                if let other = entries.customerByAddress[key], other != id {
                    throw ServiceError(.badRequest, "\(address) belongs to both \(other) and \(id)")
                }
                entries.customerByAddress[key] = id
                if entries.addressByCustomer[id] == nil { entries.addressByCustomer[id] = address }
            }
        }
        return entries
    }
}
