import EventLog
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Attachments as files, content-addressed under a directory (`<data dir>/attachments`): the
/// bytes named `ab12…` (64 hex digits) are the file `ab/ab12…`.
///
/// Everything is the owner's alone from its creation (directories 0700, files 0600). A put
/// writes a temporary file in the target directory, flushes it (`fsync`), renames it into
/// place and flushes the directory, so a file under a digest's name is always whole: a crash
/// leaves at worst a `.tmp-` file beside it, which nothing reads and ``removeLeftovers()``
/// deletes (the backend calls it on opening). Putting bytes already stored
/// writes nothing. A get reads the file and checks its SHA-256 against the name.
package final class FileAttachmentStore: AttachmentStore {
    /// The store's directory.
    package let directory: String

    /// The store under `directory`, created 0700 when missing (its parent must exist).
    package init(directory: String) throws(AttachmentStoreError) {
        self.directory = directory
        try Self.makeDirectory(directory)
    }

    /// The file of the bytes named `sha256` (a valid digest).
    package func path(of sha256: String) -> String {
        "\(directory)/\(sha256.prefix(2))/\(sha256)"
    }

    package func put(_ bytes: [UInt8]) throws(AttachmentStoreError) -> StoredAttachment {
        let stored = StoredAttachment(of: bytes)
        let folder = "\(directory)/\(stored.sha256.prefix(2))"
        let target = path(of: stored.sha256)
        var info = stat()
        // Already stored (same name, same size: the name is the content's): nothing to write.
        // A file of another size under the name is replaced by the whole bytes.
        if lstat(target, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, Int64(info.st_size) == stored.size { return stored }
        if try Self.makeDirectory(folder) { try Self.flushDirectory(directory) }
        let temporary = "\(folder)/.tmp-\(stored.sha256)-\(UInt64.random(in: 0...UInt64.max))"
        var failure = OwnerOnlyFile.create(temporary, bytes: bytes)
        if failure == 0, rename(temporary, target) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw Self.failure(failure, "cannot store \(target)")
        }
        try Self.flushDirectory(folder)
        return stored
    }

    package func get(sha256: String) throws(AttachmentStoreError) -> [UInt8]? {
        guard AttachmentDigest.isValid(sha256) else { throw .invalidDigest(sha256) }
        let file = path(of: sha256)
        let fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw Self.failure(errno, "cannot open \(file)")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Self.failure(errno, "cannot stat \(file)") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .damaged(sha256: sha256, detail: "\(file) is not a regular file") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size))
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.failure(errno, "cannot read \(file)")
            }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        guard AttachmentDigest.hex(of: bytes) == sha256 else {
            throw .damaged(sha256: sha256, detail: "\(file) (\(bytes.count) bytes) does not hash to its name")
        }
        return bytes
    }

    package func contains(sha256: String) -> Bool {
        guard AttachmentDigest.isValid(sha256) else { return false }
        var info = stat()
        return lstat(path(of: sha256), &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// Removes the `.tmp-` files puts cut by a crash left behind. Only while no put runs: the
    /// backend calls it on opening, holding the data directory's writer lock.
    package func removeLeftovers() {
        guard let folders = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for folder in folders where folder.utf8.count == 2 {
            let path = "\(directory)/\(folder)"
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { continue }
            for name in names where name.hasPrefix(".tmp-") { unlink("\(path)/\(name)") }
        }
    }

    /// Creates `path` as a 0700 directory; true when it was created, false when it was there.
    @discardableResult
    private static func makeDirectory(_ path: String) throws(AttachmentStoreError) -> Bool {
        if mkdir(path, 0o700) == 0 { return true }
        let code = errno
        var info = stat()
        guard code == EEXIST, lstat(path, &info) == 0 else { throw failure(code, "cannot create \(path)") }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw .storage("\(path) is not a directory") }
        return false
    }

    /// Flushes a directory's entries (a rename or a creation in it) to the disk.
    private static func flushDirectory(_ path: String) throws(AttachmentStoreError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(errno, "cannot open \(path)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure(errno, "cannot flush \(path)") }
    }

    private static func failure(_ code: Int32, _ what: String) -> AttachmentStoreError {
        let detail = "\(what): \(String(cString: strerror(code)))"
        return code == ENOSPC || code == EDQUOT ? .full(detail) : .storage(detail)
    }
}
