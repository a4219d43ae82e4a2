import CLMDB

/// Brings a data directory written in an older store format to ``LogStorage/formatVersion``, on
/// a writable open, in one write transaction: it is all migrated or not at all.
///
/// The events themselves are never rewritten (their records, seqs and hash chain stay as they
/// are); only the indexes beside them are rebuilt from the events, so ``EventStore/verify(expectedHead:progress:)``
/// proves a migrated log equal to its source: same head, every event indexed.
enum LogMigration {
    /// Store format 1: the stream index was keyed by SHA-256(stream id) + version, in a `streams`
    /// database.
    static let streamDigestFormat: UInt32 = 1

    /// Migrates `storage` when its stored format is older than the current one; returns the
    /// format it migrated from, or nil when there was nothing to do.
    static func migrateIfNeeded(_ storage: LogStorage) throws -> UInt32? {
        guard try LogStorage.storedFormat(storage.environment, storage.meta) == streamDigestFormat else { return nil }
        try storage.environment.withTransaction(readOnly: false) { txn in
            try numberStreams(storage, txn)
            try txn.dropDatabase(named: "streams")
            var version: [UInt8] = []
            version.appendBigEndian(LogStorage.formatVersion)
            try txn.put(storage.meta, key: StorageKeys.metaFormat, value: version)
        }
        return streamDigestFormat
    }

    /// Fills `streamNumbers` and `streamIndex` from the events, numbering streams in order of
    /// their first event, as the writer does.
    private static func numberStreams(_ storage: LogStorage, _ txn: LMDBTransaction) throws {
        // Keyed by UTF-8 bytes: Swift's String equality would merge canonically equivalent ids.
        var numbers: [[UInt8]: UInt64] = [:]
        try txn.withCursor(storage.events) { cursor in
            var entry = try cursor.first()
            while let (key, value) = entry {
                guard let seq = StorageKeys.decodeSeq(key) else {
                    throw EventLogError.incompatibleStore("cannot migrate the log: a key in `events` is not a seq")
                }
                let record: EventRecord
                do {
                    record = try EventRecord(decoding: value)
                } catch {
                    throw EventLogError.incompatibleStore(
                        "cannot migrate the log: event \(seq) is unreadable (\(error)); verify it with a build of the previous format")
                }
                let streamKey = Array(record.stream.utf8)
                let number: UInt64
                if let known = numbers[streamKey] {
                    number = known
                } else {
                    number = UInt64(numbers.count + 1)
                    numbers[streamKey] = number
                    try txn.put(
                        storage.streamNumbers, key: StorageKeys.streamDigest(record.stream),
                        value: StorageKeys.streamNumber(number))
                }
                try txn.put(
                    storage.streamIndex, key: StorageKeys.streamEntry(number: number, version: record.version),
                    value: StorageKeys.seq(seq))
                entry = try cursor.next()
            }
        }
    }
}
