import Foundation

/// A fresh directory under the system's temporary directory, removed by ``remove()`` or when
/// the value is dropped: the scratch space of the package's tests (a real log in a temp dir)
/// and tools. The one temporary-directory helper; test targets reach it through `EventLog`.
package final class TemporaryDirectory: Sendable {
    /// The directory's path; it exists from `init` until removal.
    package let path: String

    package init() {
        path =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("ledgerdesk-test-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Deletes the directory and everything in it (nothing happens when it is already gone).
    package func remove() { try? FileManager.default.removeItem(atPath: path) }

    deinit { remove() }
}
