import CLMDB
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One open LMDB environment (a data file plus its lock file), safe to share between threads.
///
/// The environment is opened with `MDB_NOTLS`, so a read transaction is not tied to the thread
/// that began it. Write transactions are begun only by the log's single writer thread.
/// Growing the map requires that no transaction of this process is active, so every
/// transaction holds a shared lock that ``grow(minimumSize:)`` takes exclusively.
final class LMDBEnvironment: @unchecked Sendable {
    let handle: OpaquePointer
    let isReadOnly: Bool
    private let resizeLock: UnsafeMutablePointer<pthread_rwlock_t>
    /// The read transaction that holds the last flushed snapshot (its address), or 0.
    private let pinned = Mutex<UInt?>(nil)

    /// Opens (creating when writable) the environment in `directory`.
    /// How commits reach the disk.
    enum SyncMode {
        /// LMDB's default: flush the data pages, then write and flush the meta page.
        case full
        /// `MDB_NOMETASYNC`: flush the data pages; the meta page is flushed by the next commit's
        /// data flush (or an explicit ``sync(force:)``). Integrity is kept; durability of a
        /// commit waits for that next flush.
        case deferMetaPage
        /// `MDB_NOSYNC`: no flush at commit.
        case none
    }

    init(directory: String, mapSize: Int, maxDatabases: UInt32, readOnly: Bool, sync: SyncMode) throws(LMDBError) {
        var env: OpaquePointer?
        try check(mdb_env_create(&env))
        guard let env else { throw .invalid }
        do {
            try check(mdb_env_set_maxdbs(env, maxDatabases))
            try check(mdb_env_set_maxreaders(env, 512))
            try check(mdb_env_set_mapsize(env, mapSize))
            var flags = UInt32(MDB_NOTLS) | UInt32(MDB_NORDAHEAD)
            if readOnly { flags |= UInt32(MDB_RDONLY) }
            switch sync {
            case .full: break
            case .deferMetaPage: flags |= UInt32(MDB_NOMETASYNC)
            case .none: flags |= UInt32(MDB_NOSYNC)
            }
            // data.mdb and lock.mdb are created owner-only: they hold tickets.
            try check(mdb_env_open(env, directory, flags, 0o600))
        } catch {
            mdb_env_close(env)
            throw error
        }
        self.handle = env
        self.isReadOnly = readOnly
        self.resizeLock = .allocate(capacity: 1)
        pthread_rwlock_init(resizeLock, nil)
    }

    deinit {
        if let pin = pinned.withLock({ $0 }) { mdb_txn_abort(OpaquePointer(bitPattern: pin)) }
        mdb_env_close(handle)
        pthread_rwlock_destroy(resizeLock)
        resizeLock.deallocate()
    }

    /// The current map size in bytes.
    var mapSize: Int {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        return info.me_mapsize
    }

    /// Grows the map to at least `minimumSize` bytes (doubling), waiting for every active
    /// transaction of this process to end first.
    func grow(minimumSize: Int) throws(LMDBError) {
        pthread_rwlock_wrlock(resizeLock)
        defer { pthread_rwlock_unlock(resizeLock) }
        var size = mapSize
        while size < minimumSize { size *= 2 }
        try check(mdb_env_set_mapsize(handle, size))
    }

    /// Adopts a map size grown by another process (`MDB_MAP_RESIZED`).
    private func adoptResizedMap() throws(LMDBError) {
        pthread_rwlock_wrlock(resizeLock)
        defer { pthread_rwlock_unlock(resizeLock) }
        try check(mdb_env_set_mapsize(handle, 0))
    }

    /// Holds the last committed snapshot with a read transaction of its own (dropping the one
    /// held before): LMDB then reuses none of that snapshot's pages, so its tree stays on disk
    /// whatever later unflushed commits write. With ``metaPages()`` taken right after a flush,
    /// this is what lets the write-ahead segment bring LMDB back to that snapshot after a crash
    /// (docs/architecture.md, "Durability").
    func pinLastCommit() throws(LMDBError) {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, UInt32(MDB_RDONLY), &txn))
        let address = UInt(bitPattern: txn)
        let previous = pinned.withLock { p -> UInt? in
            defer { p = address }
            return p
        }
        if let previous { mdb_txn_abort(OpaquePointer(bitPattern: previous)) }
    }

    /// Drops the pinned snapshot (if any).
    func unpin() {
        if let previous = pinned.withLock({ p -> UInt? in
            defer { p = nil }
            return p
        }) {
            mdb_txn_abort(OpaquePointer(bitPattern: previous))
        }
    }

    /// The page size and the bytes of the two meta pages (pages 0 and 1) as the data file holds
    /// them now: after a flush, a copy that brings the file back to that commit.
    func metaPages() throws(LMDBError) -> [UInt8] {
        var info = MDB_stat()
        try check(mdb_env_stat(handle, &info))
        var fd: Int32 = -1
        try check(mdb_env_get_fd(handle, &fd))
        let size = 2 * Int(info.ms_psize)
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { raw in pread(fd, raw.baseAddress! + done, size - done, off_t(done)) }
            guard n > 0 else {
                if n < 0 && errno == EINTR { continue }
                throw .system(n < 0 ? errno : EIO)
            }
            done += n
        }
        return bytes
    }

    /// Writes back meta pages copied by ``metaPages()`` into the data file of `directory` and
    /// flushes them, before any environment is opened on it.
    static func restoreMetaPages(_ pages: [UInt8], directory: String) throws(LMDBError) {
        let fd = open(directory + "/data.mdb", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw .system(errno) }
        defer { close(fd) }
        var done = 0
        while done < pages.count {
            let n = pages.withUnsafeBytes { raw in pwrite(fd, raw.baseAddress! + done, pages.count - done, off_t(done)) }
            guard n > 0 else {
                if n < 0 && errno == EINTR { continue }
                throw .system(n < 0 ? errno : EIO)
            }
            done += n
        }
        guard fdatasync(fd) == 0 else { throw .system(errno) }
    }

    /// Flushes the data file to disk (used in the relaxed durability mode).
    func sync(force: Bool) throws(LMDBError) {
        try check(mdb_env_sync(handle, force ? 1 : 0))
    }

    /// Copies the environment into `directory` (which must exist) as `data.mdb` while it is in
    /// use, compacting when asked. The file is created owner-only (LMDB's own copy would create it
    /// 0666 less the umask) and flushed before this returns.
    func copy(to directory: String, compact: Bool) throws(LMDBError) {
        let fd = open(directory + "/data.mdb", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .system(errno) }
        defer { close(fd) }
        try check(mdb_env_copyfd2(handle, fd, compact ? UInt32(MDB_CP_COMPACT) : 0))
        guard fsync(fd) == 0 else { throw .system(errno) }
    }

    /// Runs `body` inside a read-only transaction that ends when `body` returns.
    ///
    /// The body is synchronous on purpose: a transaction must never be held across an `await`.
    func withReadTransaction<R>(_ body: (LMDBTransaction) throws -> R) throws -> R {
        try withTransaction(readOnly: true) { txn in try body(txn) }
    }

    /// Begins a transaction, runs `body`, and commits (write) or aborts (read) it.
    /// A thrown error aborts the transaction. `beforeCommit` runs right before a write
    /// transaction commits (the test seam of ``StorageFaults``); its error, and an I/O error of
    /// the commit itself, are thrown as ``CommitFailure``.
    func withTransaction<R>(
        readOnly: Bool, beforeCommit: () throws -> Void = {},
        _ body: (LMDBTransaction) throws -> R
    ) throws -> R {
        pthread_rwlock_rdlock(resizeLock)
        var locked = true
        defer { if locked { pthread_rwlock_unlock(resizeLock) } }
        var txnPointer: OpaquePointer?
        var code = mdb_txn_begin(handle, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txnPointer)
        if code == MDB_MAP_RESIZED {
            pthread_rwlock_unlock(resizeLock)
            locked = false
            try adoptResizedMap()
            pthread_rwlock_rdlock(resizeLock)
            locked = true
            code = mdb_txn_begin(handle, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txnPointer)
        }
        try check(code)
        guard let txnPointer else { throw LMDBError.badTransaction }
        let txn = LMDBTransaction(handle: txnPointer)
        let result: R
        do {
            result = try body(txn)
            if !readOnly {
                do { try beforeCommit() } catch { throw CommitFailure(error: error) }
            }
        } catch {
            mdb_txn_abort(txnPointer)
            throw error
        }
        if readOnly {
            mdb_txn_abort(txnPointer)
            return result
        }
        // mdb_txn_commit frees the transaction whether it succeeds or not: never abort it after.
        let status = mdb_txn_commit(txnPointer)
        guard status == 0 else {
            let error = LMDBError(code: status)
            // An errno comes from writing or flushing the pages; LMDB's own codes (a full map
            // while saving the free list…) come before any I/O and leave the disk as it was.
            if case .system = error { throw CommitFailure(error: error) }
            throw error
        }
        return result
    }

    /// Opens (or, when `create`, creates) a named database.
    ///
    /// The handle is opened in a transaction that is committed even when read-only: LMDB closes
    /// handles opened in an aborted transaction.
    func openDatabase(named name: String, create: Bool) throws(LMDBError) -> LMDBDatabase {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, isReadOnly ? UInt32(MDB_RDONLY) : 0, &txn))
        var dbi = MDB_dbi()
        let code = mdb_dbi_open(txn, name, create ? UInt32(MDB_CREATE) : 0, &dbi)
        guard code == 0 else {
            mdb_txn_abort(txn)
            throw LMDBError(code: code)
        }
        try check(mdb_txn_commit(txn))
        return LMDBDatabase(handle: dbi, name: name)
    }

    /// Deletes a named database and its contents, when it exists.
    func dropDatabase(named name: String) throws(LMDBError) {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, 0, &txn))
        var dbi = MDB_dbi()
        let code = mdb_dbi_open(txn, name, 0, &dbi)
        guard code == 0 else {
            mdb_txn_abort(txn)
            if code == MDB_NOTFOUND { return }
            throw LMDBError(code: code)
        }
        let dropped = mdb_drop(txn, dbi, 1)
        guard dropped == 0 else {
            mdb_txn_abort(txn)
            throw LMDBError(code: dropped)
        }
        try check(mdb_txn_commit(txn))
    }
}

/// A write transaction's commit failed in its I/O: writing its pages or flushing them
/// (`fdatasync`). Under `MDB_NOMETASYNC` that flush also covered the previous commit's meta page,
/// so whether that commit is on disk is unknown too.
struct CommitFailure: Error, CustomStringConvertible {
    var error: any Error
    var description: String { "the commit could not be written to disk: \(error)" }
}

/// A named database inside an environment.
struct LMDBDatabase: Sendable {
    let handle: MDB_dbi
    let name: String
}
