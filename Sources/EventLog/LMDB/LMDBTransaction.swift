import CLMDB

/// A transaction handle, valid only inside the closure that received it.
///
/// Bytes returned by ``get(_:key:)`` and cursors point into the memory map and are valid only
/// until the transaction ends; copy what must outlive it.
struct LMDBTransaction {
    let handle: OpaquePointer

    /// The value stored under `key`, or nil.
    func get(_ db: LMDBDatabase, key: UnsafeRawBufferPointer) throws(LMDBError) -> UnsafeRawBufferPointer? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        let code = mdb_get(handle, db.handle, &k, &v)
        if code == MDB_NOTFOUND { return nil }
        try check(code)
        return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
    }

    /// Stores `value` under `key`.
    func put(_ db: LMDBDatabase, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, flags: UInt32 = 0) throws(LMDBError) {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(mdb_put(handle, db.handle, &k, &v, flags))
    }

    /// Deletes the value under `key`; returns false when there was none.
    @discardableResult
    func delete(_ db: LMDBDatabase, key: UnsafeRawBufferPointer) throws(LMDBError) -> Bool {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        let code = mdb_del(handle, db.handle, &k, nil)
        if code == MDB_NOTFOUND { return false }
        try check(code)
        return true
    }

    /// The value stored under `key`, or nil.
    func get(_ db: LMDBDatabase, key: [UInt8]) throws -> UnsafeRawBufferPointer? {
        try key.withUnsafeBytes { try get(db, key: $0) }
    }

    /// Stores `value` under `key`.
    func put(_ db: LMDBDatabase, key: [UInt8], value: [UInt8], flags: UInt32 = 0) throws {
        try key.withUnsafeBytes { k in
            try value.withUnsafeBytes { v in try put(db, key: k, value: v, flags: flags) }
        }
    }

    /// Deletes the value under `key`; returns false when there was none.
    @discardableResult
    func delete(_ db: LMDBDatabase, key: [UInt8]) throws -> Bool {
        try key.withUnsafeBytes { try delete(db, key: $0) }
    }

    /// The number of entries in `db`.
    func count(_ db: LMDBDatabase) throws(LMDBError) -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(handle, db.handle, &stat))
        return stat.ms_entries
    }

    /// Runs `body` with a cursor over `db`, closing it afterwards.
    func withCursor<R>(_ db: LMDBDatabase, _ body: (inout LMDBCursor) throws -> R) throws -> R {
        var pointer: OpaquePointer?
        try check(mdb_cursor_open(handle, db.handle, &pointer))
        guard let pointer else { throw LMDBError.invalid }
        defer { mdb_cursor_close(pointer) }
        var cursor = LMDBCursor(handle: pointer)
        return try body(&cursor)
    }
}

/// A positioned cursor; each move returns the entry it lands on, or nil past either end.
struct LMDBCursor {
    typealias Entry = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
    let handle: OpaquePointer

    private func move(_ op: MDB_cursor_op, key: UnsafeRawBufferPointer? = nil) throws(LMDBError) -> Entry? {
        var k = MDB_val(mv_size: key?.count ?? 0, mv_data: UnsafeMutableRawPointer(mutating: key?.baseAddress))
        var v = MDB_val()
        let code = mdb_cursor_get(handle, &k, &v, op)
        if code == MDB_NOTFOUND { return nil }
        try check(code)
        return (
            UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
            UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
        )
    }

    mutating func first() throws(LMDBError) -> Entry? { try move(MDB_FIRST) }
    mutating func last() throws(LMDBError) -> Entry? { try move(MDB_LAST) }
    mutating func next() throws(LMDBError) -> Entry? { try move(MDB_NEXT) }
    mutating func previous() throws(LMDBError) -> Entry? { try move(MDB_PREV) }
    /// The first entry whose key is >= `key`.
    mutating func seek(atLeast key: UnsafeRawBufferPointer) throws(LMDBError) -> Entry? { try move(MDB_SET_RANGE, key: key) }
    /// The first entry whose key is >= `key`.
    mutating func seek(atLeast key: [UInt8]) throws -> Entry? {
        try key.withUnsafeBytes { try move(MDB_SET_RANGE, key: $0) }
    }
}

extension LMDBTransaction {
    /// Deletes a named database and its contents inside this (write) transaction, when it exists.
    func dropDatabase(named name: String) throws(LMDBError) {
        var dbi = MDB_dbi()
        let code = mdb_dbi_open(handle, name, 0, &dbi)
        if code == MDB_NOTFOUND { return }
        try check(code)
        try check(mdb_drop(handle, dbi, 1))
    }
}
