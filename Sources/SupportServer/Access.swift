import Crypto
import EventLog
import Foundation
import SupportDomain
import SupportService

/// Maps bearer tokens to principals, from the tokens file
/// `{"tokens": [{"token": "<secret>", "role": "agent", "id": "alice"}]}`.
package struct TokenStore: Sendable {
    private let principals: [[UInt8]: Principal]
    /// The ids of the agents that have a token, by code point: the agents a ticket can be
    /// handed to in the console's forms.
    package let agents: [String]

    /// A token store from token -> principal pairs.
    package init(_ entries: [(token: String, principal: Principal)]) {
        var map: [[UInt8]: Principal] = [:]
        for (token, principal) in entries { map[Self.digest(token)] = principal }
        principals = map
        agents = Set(entries.map(\.principal).filter { $0.role == .agent }.map(\.id)).sorted {
            Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8))
        }
    }

    // Lookups go through a digest so that comparing tokens takes the same time whatever they hold.
    private static func digest(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    /// The principal of a bearer token, or nil.
    package func principal(forToken token: String) -> Principal? { principals[Self.digest(token)] }

    /// Reads a tokens file.
    package static func load(path: String) throws -> TokenStore {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let value = try JSONParser.parse(Array(data))
        guard let list = value["tokens"]?.arrayValue, value.objectValue?.count == 1 else {
            throw TokenFileError(path: path, detail: "expected {\"tokens\": [...]}")
        }
        var entries: [(String, Principal)] = []
        for (k, item) in list.enumerated() {
            guard let o = item.objectValue, o.count == 3, let token = o["token"]?.stringValue, !token.isEmpty,
                let roleName = o["role"]?.stringValue, let role = Role(rawValue: roleName),
                let id = o["id"]?.stringValue, Identifier.problem(with: id) == nil
            else {
                throw TokenFileError(path: path, detail: "tokens[\(k)] must be {\"token\", \"role\", \"id\"} with a known role")
            }
            entries.append((token, Principal(role: role, id: id)))
        }
        return TokenStore(entries)
    }

    /// Writes a new tokens file (mode 0600 from its creation; an existing file is an error) with
    /// fresh secrets for the given principals; returns the tokens.
    package static func generate(path: String, principals: [Principal]) throws -> [(token: String, principal: Principal)] {
        let entries = principals.map { principal -> (token: String, principal: Principal) in
            let key = SymmetricKey(size: .bits256)
            let token = key.withUnsafeBytes { bytes in bytes.map { String(format: "%02x", $0) }.joined() }
            return (token, principal)
        }
        let json = JSONValue.object([
            "tokens": .array(
                entries.map {
                    .object(["token": .string($0.token), "role": .string($0.principal.role.rawValue), "id": .string($0.principal.id)])
                })
        ])
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try writeOwnerOnly(path: path, bytes: CanonicalJSON.encode(json) + [0x0A])
        return entries
    }

    /// Creates `path` with mode 0600 and writes `bytes`: the file is born owner-only (`O_CREAT |
    /// O_EXCL`, so an existing file or a planted symlink is refused rather than reused), there
    /// is no moment at which a secret sits in a file others may read. A partial file is removed.
    static func writeOwnerOnly(path: String, bytes: [UInt8]) throws {
        let failure = OwnerOnlyFile.create(path, bytes: bytes)
        if failure != 0 {
            throw TokenFileError(path: path, detail: "cannot write the file: \(String(cString: strerror(failure)))")
        }
    }
}

/// A tokens file that cannot be used.
package struct TokenFileError: Error, CustomStringConvertible {
    package var path: String
    package var detail: String
    package var description: String { "tokens file \(path): \(detail)" }
}
