import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Data directories and backups hold every ticket: they are the owner's alone, the directory
/// 0700 and every file in it 0600.
enum OwnerOnlyDirectory {
    /// Creates `path` (and its missing parents) as a 0700 directory, or tightens an existing one
    /// to 0700 and drops the group and other bits of every regular file directly inside it.
    static func prepare(_ path: String) throws(EventLogError) {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            throw .storage("cannot create \(path): \(error.localizedDescription)")
        }
        // The directory first: once it is 0700 nobody else can reach a file inside, whatever its mode.
        try tighten(path, to: 0o700)
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
            throw .storage("cannot list \(path): \(error.localizedDescription)")
        }
        for name in names {
            let file = path + "/" + name
            var info = stat()
            // lstat: a symbolic link is left alone, never followed to a file outside.
            guard lstat(file, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_mode & 0o077 != 0 else { continue }
            try tighten(file, to: mode_t(info.st_mode & 0o700))
        }
    }

    private static func tighten(_ path: String, to mode: mode_t) throws(EventLogError) {
        guard chmod(path, mode) == 0 else {
            throw .storage("cannot make \(path) owner-only: \(String(cString: strerror(errno)))")
        }
    }
}
