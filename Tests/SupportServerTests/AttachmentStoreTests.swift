import EventLog
import Foundation
import SupportService
import Testing

/// The two attachment stores under one contract.
enum AttachmentStoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case file, memory
    var description: String { rawValue }
}

/// A store of one kind over a fresh directory, and a way to alter the bytes kept under a digest
/// without renaming them (what a damaged disk or a tamperer does).
struct StoreUnderTest {
    let store: any AttachmentStore
    let directory: TemporaryDirectory
    let tamper: (String, [UInt8]) throws -> Void

    init(_ kind: AttachmentStoreKind) throws {
        let directory = TemporaryDirectory()
        self.directory = directory
        switch kind {
        case .file:
            let store = try FileAttachmentStore(directory: directory.path + "/attachments")
            self.store = store
            tamper = { sha256, bytes in try Data(bytes).write(to: URL(fileURLWithPath: store.path(of: sha256))) }
        case .memory:
            let store = InMemoryAttachmentStore()
            self.store = store
            tamper = { sha256, bytes in store.overwrite(sha256: sha256, with: bytes) }
        }
    }
}

let abcDigest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
let emptyDigest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

@Suite("Attachment stores: one contract, file and memory")
struct AttachmentStoreContractTests {
    @Test(arguments: AttachmentStoreKind.allCases)
    func putNamesTheBytesByTheirSHA256AndGetGivesThemBackByteForByte(kind: AttachmentStoreKind) throws {
        let s = try StoreUnderTest(kind)
        #expect(try s.store.put(Array("abc".utf8)) == StoredAttachment(sha256: abcDigest, size: 3))
        #expect(try s.store.put([]) == StoredAttachment(sha256: emptyDigest, size: 0))
        let binary = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let stored = try s.store.put(binary)
        #expect(stored.size == 70_000 && AttachmentDigest.isValid(stored.sha256))
        #expect(try s.store.get(sha256: stored.sha256) == binary)
        #expect(try s.store.get(sha256: abcDigest) == Array("abc".utf8))
        #expect(try s.store.get(sha256: emptyDigest) == [])
        #expect(s.store.contains(sha256: abcDigest) && s.store.contains(sha256: stored.sha256))
    }

    @Test(arguments: AttachmentStoreKind.allCases)
    func aSecondPutOfTheSameBytesStoresNothingNew(kind: AttachmentStoreKind) throws {
        let s = try StoreUnderTest(kind)
        let first = try s.store.put(Array("the same bytes".utf8))
        let second = try s.store.put(Array("the same bytes".utf8))
        #expect(first == second)
        #expect(try s.store.get(sha256: first.sha256) == Array("the same bytes".utf8))
    }

    @Test(arguments: AttachmentStoreKind.allCases)
    func anAbsentDigestIsNilNotAnError(kind: AttachmentStoreKind) throws {
        let s = try StoreUnderTest(kind)
        #expect(try s.store.get(sha256: abcDigest) == nil)
        #expect(!s.store.contains(sha256: abcDigest))
    }

    @Test(arguments: AttachmentStoreKind.allCases)
    func aNameThatIsNoDigestIsRefused(kind: AttachmentStoreKind) throws {
        let s = try StoreUnderTest(kind)
        _ = try s.store.put(Array("abc".utf8))
        for name in [abcDigest.uppercased(), String(abcDigest.dropLast()), abcDigest + "0", "../" + abcDigest.dropFirst(3), ""] {
            #expect(throws: AttachmentStoreError.invalidDigest(name)) { try s.store.get(sha256: name) }
            #expect(!s.store.contains(sha256: name))
        }
    }

    @Test(arguments: AttachmentStoreKind.allCases)
    func alteredContentIsReportedAsDamagedNeverReturned(kind: AttachmentStoreKind) throws {
        let s = try StoreUnderTest(kind)
        let stored = try s.store.put(Array("abc".utf8))
        try s.tamper(stored.sha256, Array("abd".utf8))
        #expect {
            try s.store.get(sha256: stored.sha256)
        } throws: { error in
            guard case .damaged(let sha256, _) = error as? AttachmentStoreError else { return false }
            return sha256 == stored.sha256
        }
        let service = ServiceError(AttachmentStoreError.damaged(sha256: stored.sha256, detail: "x"))
        #expect(service.kind == .unavailable)
    }
}

@Suite("The file attachment store on disk")
struct FileAttachmentStoreTests {
    @Test func bytesLiveUnderTheirDigestsFirstTwoDigitsOwnerOnly() throws {
        let directory = TemporaryDirectory()
        let root = directory.path + "/attachments"
        let store = try FileAttachmentStore(directory: root)
        _ = try store.put(Array("abc".utf8))
        let file = "\(root)/ba/\(abcDigest)"
        #expect(store.path(of: abcDigest) == file)
        #expect(FileManager.default.contents(atPath: file) == Data("abc".utf8))
        func mode(_ path: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
        }
        #expect(try mode(root) == 0o700)
        #expect(try mode("\(root)/ba") == 0o700)
        #expect(try mode(file) == 0o600)
        // Nothing but the file: the temporary file was renamed into place.
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(root)/ba") == [abcDigest])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["ba"])
    }

    @Test func aSecondPutLeavesTheStoredFileAsItWas() throws {
        let directory = TemporaryDirectory()
        let store = try FileAttachmentStore(directory: directory.path + "/attachments")
        _ = try store.put(Array("abc".utf8))
        let file = store.path(of: abcDigest)
        var before = stat()
        #expect(stat(file, &before) == 0)
        _ = try store.put(Array("abc".utf8))
        var after = stat()
        #expect(stat(file, &after) == 0)
        #expect(before.st_ino == after.st_ino, "the file was rewritten")
    }

    @Test func aStoreOpenedAgainOverTheDirectoryReadsWhatWasStored() throws {
        let directory = TemporaryDirectory()
        let stored = try FileAttachmentStore(directory: directory.path + "/attachments").put(Array("kept".utf8))
        let reopened = try FileAttachmentStore(directory: directory.path + "/attachments")
        #expect(try reopened.get(sha256: stored.sha256) == Array("kept".utf8))
    }

    @Test func aTruncatedFileIsReplacedByTheNextPutOfItsBytes() throws {
        let directory = TemporaryDirectory()
        let store = try FileAttachmentStore(directory: directory.path + "/attachments")
        let stored = try store.put(Array("abc".utf8))
        try Data("ab".utf8).write(to: URL(fileURLWithPath: store.path(of: stored.sha256)))
        #expect(throws: AttachmentStoreError.self) { try store.get(sha256: stored.sha256) }
        _ = try store.put(Array("abc".utf8))
        #expect(try store.get(sha256: stored.sha256) == Array("abc".utf8))
    }

    @Test func leftoversOfACutPutAreRemovedAndStoredFilesKept() throws {
        let directory = TemporaryDirectory()
        let store = try FileAttachmentStore(directory: directory.path + "/attachments")
        _ = try store.put(Array("abc".utf8))
        let leftover = "\(store.directory)/ba/.tmp-\(abcDigest)-42"
        #expect(FileManager.default.createFile(atPath: leftover, contents: Data("ab".utf8)))
        store.removeLeftovers()
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(store.directory)/ba") == [abcDigest])
        #expect(try store.get(sha256: abcDigest) == Array("abc".utf8))
    }

    @Test func theBackendKeepsAttachmentsBesideTheLog() async throws {
        try await withServer { server, _ in
            let store = try #require(server.backend.attachments as? FileAttachmentStore)
            #expect(store.directory == server.directory.path + "/attachments")
        }
    }
}
