/// The outcome of walking the whole log (``EventStore/verify(expectedHead:progress:)``).
public struct VerificationReport: Sendable, Equatable {
    /// How many events were checked.
    public var eventsChecked: UInt64
    /// The head the walk ended on.
    public var head: LogHead
    /// The first thing that does not hold, or nil when the log is intact.
    public var failure: VerificationFailure?
    /// Events the write-ahead segment holds beyond the log's last commit (checked to chain on):
    /// what the next writable open replays. Zero after a clean close; while a writer runs, at
    /// most the group it is committing.
    public var segmentPending: UInt64 = 0

    /// Whether the whole log holds (no failure).
    public var isIntact: Bool { failure == nil }
}

/// The first place where the log is not what it claims to be.
public struct VerificationFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// What does not hold.
    public enum Kind: String, Sendable {
        /// A seq is missing (a deleted event) or a key is out of place.
        case seqGap
        /// The record stored under a seq names another seq (a moved or swapped event).
        case seqMismatch
        /// The record cannot be read (damaged bytes, unknown format).
        case unreadable
        /// `prev` is not the previous event's `hash`.
        case prevMismatch
        /// `hash` is not the hash of the envelope (an altered event).
        case hashMismatch
        /// The stream's versions are not 1, 2, 3… in log order.
        case versionGap
        /// The stream index does not map the event's stream and version to its seq, or holds
        /// entries for events that do not exist.
        case streamIndex
        /// The head stored in `meta` is not the last event.
        case storedHead
        /// The log does not extend the head noted earlier (truncated or re-chained).
        case expectedHead
        /// The write-ahead segment holds a record that differs from the log's at its seq, or
        /// records beyond the log that do not chain onto its head.
        case segment
    }

    /// What does not hold.
    public var kind: Kind
    /// The first bad seq, when the failure is at one event.
    public var seq: UInt64?
    /// A description of the failure for people.
    public var detail: String

    public var description: String {
        if let seq { return "seq \(seq): \(kind.rawValue): \(detail)" }
        return "\(kind.rawValue): \(detail)"
    }
}

extension EventStore {
    /// Walks the whole log in one snapshot: seq continuity, each record's own seq, the hash
    /// chain (recomputed per SPEC §2.1), per-stream version continuity, the stream index and the
    /// stored head; given `expectedHead` (noted earlier by an auditor), also that the log still
    /// extends it. `progress` is called with the number of events checked so far.
    public func verify(
        expectedHead: LogHead? = nil,
        progress: ((UInt64) -> Void)? = nil
    ) throws(EventLogError) -> VerificationReport {
        let envelope = configuration.envelope
        let storage = self.storage
        return try readLMDB { snapshot in
            var report = VerificationReport(eventsChecked: 0, head: .empty, failure: nil)
            func fail(_ kind: VerificationFailure.Kind, _ seq: UInt64?, _ detail: String) -> VerificationReport {
                report.failure = VerificationFailure(kind: kind, seq: seq, detail: detail)
                return report
            }
            var expectedSeq: UInt64 = 1
            var previousHash = EventHash.zero
            // Keyed by UTF-8 bytes: Swift's String equality would merge canonically equivalent ids.
            var versions: [[UInt8]: (number: UInt64, version: UInt64)] = [:]
            var hashAtExpectedHead: EventHash?
            var canonical: [UInt8] = []
            var bad: VerificationReport?
            try snapshot.txn.withCursor(storage.events) { cursor in
                var entry = try cursor.first()
                while let (key, value) = entry {
                    guard let seq = StorageKeys.decodeSeq(key) else {
                        bad = fail(.seqGap, expectedSeq, "a key that is not a seq follows seq \(expectedSeq - 1)")
                        return
                    }
                    guard seq == expectedSeq else {
                        bad = fail(.seqGap, expectedSeq, "seq \(expectedSeq) is missing (next stored seq is \(seq))")
                        return
                    }
                    let record: EventRecord
                    do {
                        record = try EventRecord(decoding: value)
                    } catch EventRecord.DecodingFailure.unsupportedFormat(let format) {
                        bad = fail(.unreadable, seq, "record format \(format) is unknown")
                        return
                    } catch {
                        bad = fail(.unreadable, seq, "the record is damaged")
                        return
                    }
                    guard record.seq == seq else {
                        bad = fail(.seqMismatch, seq, "the record stored here is seq \(record.seq)")
                        return
                    }
                    guard record.prev == previousHash else {
                        bad = fail(.prevMismatch, seq, "prev is \(record.prev.hex), the previous hash is \(previousHash.hex)")
                        return
                    }
                    canonical.removeAll(keepingCapacity: true)
                    let rendered: Bool = record.data.withUnsafeBytes { raw in
                        (try? envelope.appendCanonical(
                            seq: seq, stream: record.stream, version: record.version,
                            type: record.type, at: record.at, recorded: record.recorded,
                            actor: record.actor, binaryData: raw, to: &canonical)) != nil
                    }
                    guard rendered else {
                        bad = fail(.unreadable, seq, "the event's data is damaged")
                        return
                    }
                    let hash = EnvelopeFormat.chainHash(prev: previousHash, canonical: canonical)
                    guard hash == record.hash else {
                        bad = fail(.hashMismatch, seq, "the stored hash \(record.hash.hex) does not match the envelope (\(hash.hex))")
                        return
                    }
                    let streamKey = Array(record.stream.utf8)
                    let known = versions[streamKey]
                    let expectedVersion = (known?.version ?? 0) + 1
                    guard record.version == expectedVersion else {
                        bad = fail(.versionGap, seq, "stream \(record.stream) is at version \(record.version), expected \(expectedVersion)")
                        return
                    }
                    // Streams are numbered in order of their first events.
                    let number = known?.number ?? UInt64(versions.count + 1)
                    versions[streamKey] = (number, expectedVersion)
                    if known == nil {
                        guard try storage.streamNumber(snapshot.txn, record.stream) == number else {
                            bad = fail(
                                .streamIndex, seq, "stream \(record.stream) does not have number \(number), in order of first events")
                            return
                        }
                    }
                    let indexKey = StorageKeys.streamEntry(number: number, version: record.version)
                    let indexed = try snapshot.txn.get(storage.streamIndex, key: indexKey)
                    guard let indexed, StorageKeys.decodeSeq(indexed) == seq else {
                        bad = fail(
                            .streamIndex, seq, "the stream index does not map \(record.stream) version \(record.version) to this seq")
                        return
                    }
                    if let expectedHead, expectedHead.seq == seq { hashAtExpectedHead = record.hash }
                    previousHash = record.hash
                    report.head = LogHead(seq: seq, hash: record.hash)
                    report.eventsChecked = seq
                    expectedSeq = seq + 1
                    if seq & 0xFFFF == 0 { progress?(seq) }
                    entry = try cursor.next()
                }
            }
            if let bad { return bad }
            progress?(report.eventsChecked)
            let indexEntries = try snapshot.txn.count(storage.streamIndex)
            if UInt64(indexEntries) != report.eventsChecked {
                return fail(.streamIndex, nil, "the stream index holds \(indexEntries) entries for \(report.eventsChecked) events")
            }
            let numbered = try snapshot.txn.count(storage.streamNumbers)
            if numbered != versions.count {
                return fail(.streamIndex, nil, "\(numbered) streams are numbered, but the events name \(versions.count)")
            }
            let storedHead = try snapshot.txn.get(storage.meta, key: StorageKeys.metaHead).flatMap(StorageKeys.decodeHead)
            if report.eventsChecked > 0 {
                guard storedHead == report.head else {
                    return fail(.storedHead, nil, "the stored head is not the last event \(report.head)")
                }
            }
            if let segmentFailure = try Self.verifySegment(
                snapshot, directory: self.configuration.directory, envelope: envelope, report: &report)
            {
                return fail(.segment, segmentFailure.seq, segmentFailure.detail)
            }
            if let expectedHead {
                if expectedHead.seq > report.head.seq {
                    return fail(
                        .expectedHead, expectedHead.seq,
                        "the log ends at seq \(report.head.seq), before the expected head \(expectedHead) (truncated)")
                }
                if expectedHead.seq == 0 {
                    if expectedHead.hash != .zero { return fail(.expectedHead, 0, "an empty head must have the zero hash") }
                } else if hashAtExpectedHead != expectedHead.hash {
                    return fail(
                        .expectedHead, expectedHead.seq,
                        "the event at seq \(expectedHead.seq) has hash \(hashAtExpectedHead?.hex ?? "none"), not the expected \(expectedHead.hash.hex) (re-chained or altered)"
                    )
                }
            }
            return report
        }
    }

    /// The write-ahead segment against the walked log: every record of a seq the log holds must be
    /// the log's record byte for byte; the records beyond must continue the chain from its head
    /// (counted in ``VerificationReport/segmentPending``). The failure's seq and detail, or nil.
    private static func verifySegment(
        _ snapshot: LMDBSnapshot, directory: String, envelope: EnvelopeFormat, report: inout VerificationReport
    ) throws -> (seq: UInt64?, detail: String)? {
        let contents: WriteAheadSegment.Contents
        do {
            guard let read = try WriteAheadSegment.contents(ofDirectory: directory) else { return nil }
            contents = read
        } catch {
            return (nil, "the write-ahead segment cannot be read: \(error)")
        }
        for frame in contents.frames {
            for (k, stored) in frame.records.enumerated() {
                let seq = frame.firstSeq + UInt64(k)
                guard seq <= report.head.seq else { break }
                guard let logged = try snapshot.rawRecord(seq: seq), Array(logged) == stored else {
                    return (seq, "the write-ahead segment's record differs from the log's")
                }
            }
        }
        do {
            var head = report.head
            var canonical: [UInt8] = []
            for frame in try LogStorage.framesBeyond(report.head, in: contents) {
                for stored in frame.records {
                    let record = try LogStorage.checkChained(stored, onto: head, envelope: envelope, canonical: &canonical)
                    head = LogHead(seq: record.seq, hash: record.hash)
                    report.segmentPending += 1
                }
            }
        } catch EventLogError.corruptRecord(let seq, let reason) {
            return (seq, reason)
        }
        return nil
    }
}
