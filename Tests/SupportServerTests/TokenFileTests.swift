import EventLog
import Foundation
import SupportService
import Testing

@testable import SupportServer

/// The tokens file holds secrets: it is born owner-only, never reused, and its tokens are printed
/// only for a demo (SPEC §7).
@Suite("Tokens file")
struct TokenFileTests {
    static let principals = [Principal(role: .admin, id: "admin"), Principal(role: .agent, id: "amelie")]

    func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) & 0o777
    }

    @Test func aGeneratedTokensFileIsOwnerOnlyAndHoldsTheTokens() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/nested/tokens.json"
        let created = try TokenStore.generate(path: path, principals: Self.principals)
        #expect(try mode(path) == 0o600)
        let loaded = try TokenStore.load(path: path)
        for (token, principal) in created { #expect(loaded.principal(forToken: token) == principal) }
    }

    @Test func generatingNeverReusesAnExistingFileOrFollowsALink() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // A file someone else prepared (readable by all) is refused, not filled with secrets.
        let existing = directory.path + "/tokens.json"
        try Data("planted".utf8).write(to: URL(fileURLWithPath: existing))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: existing)
        #expect(throws: TokenFileError.self) { try TokenStore.generate(path: existing, principals: Self.principals) }
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "planted")
        // A symlink to elsewhere is refused too.
        let link = directory.path + "/link.json"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: directory.path + "/elsewhere.json")
        #expect(throws: TokenFileError.self) { try TokenStore.generate(path: link, principals: Self.principals) }
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/elsewhere.json"))
    }

    @Test(.timeLimit(.minutes(5)))
    func supportdWithoutDemoPrintsTheTokensFilePathButNoToken() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let tokensPath = root.path + "/fresh-tokens.json"
        let server = try SupportdProcess(dataDirectory: root.path + "/data", tokensFile: tokensPath)
        do {
            _ = try await server.waitForPort()
        } catch {
            await server.terminate()
            throw error
        }
        await server.terminate()
        let file = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: tokensPath))))
        let tokens = (file["tokens"]?.arrayValue ?? []).compactMap { $0["token"]?.stringValue }
        #expect(!tokens.isEmpty)
        #expect(try mode(tokensPath) == 0o600)
        let output = server.stdout.text + server.stderr.text
        #expect(output.contains(tokensPath), "the path is printed: \(output)")
        for token in tokens { #expect(!output.contains(token), "a token was printed: \(output)") }
    }
}
