#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A new file that is the owner's alone from its creation: the one way the package writes a
/// file holding secrets or tickets outside LMDB (tokens files, attachments).
package enum OwnerOnlyFile {
    /// Creates `path` with mode 0600 (`O_CREAT | O_EXCL | O_NOFOLLOW`: an existing file or a
    /// planted symlink is refused rather than reused), writes all of `bytes` and flushes them
    /// (`fsync`). On failure the partial file is removed.
    ///
    /// - Returns: 0 on success, else the `errno` of the step that failed.
    package static func create(_ path: String, bytes: [UInt8]) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return errno }
        var failure: Int32 = 0
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            written += n
        }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        if close(fd) != 0, failure == 0 { failure = errno }
        if failure != 0 { unlink(path) }
        return failure
    }
}
