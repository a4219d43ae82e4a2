/// What the event log can fail with. Rule failures append nothing.
public enum EventLogError: Error, Sendable, CustomStringConvertible {
    /// The stream is not at the version the append expected.
    case wrongExpectedVersion(stream: String, expected: ExpectedVersion, actual: UInt64)
    /// The idempotency key was used before for a different request.
    case idempotencyKeyReused(key: String)
    /// An event's `at` lies before the stream's last `at` (time never goes backwards in a stream).
    case timeWentBackwards(stream: String, at: Timestamp, last: Timestamp)
    /// The append's precondition refused it, with the precondition's own error.
    case rejected(any Error & Sendable)
    /// The request itself is malformed (empty stream id, no events, oversized field…).
    case invalidRequest(String)
    /// The data directory is locked by another writer process.
    case dataDirectoryLocked(path: String)
    /// The store was opened read-only.
    case readOnly
    /// The log has been closed.
    case closed
    /// A stored record uses a format this build does not know.
    case unsupportedRecordFormat(seq: UInt64, format: UInt8)
    /// A stored record or index entry is damaged.
    case corruptRecord(seq: UInt64, reason: String)
    /// The data directory was written by another kind of log (a different envelope or format).
    case incompatibleStore(String)
    /// The storage failed (disk full, I/O error). Nothing of the failed batch was appended.
    case storage(String)
    /// Writing or flushing the log to disk failed. The commits that flush covered were not
    /// acknowledged (they may or may not survive a restart), and every later append fails
    /// with this at once until the process restarts: after a failed `fdatasync` the kernel
    /// may report the next one as a success although the pages were lost. Reads go on.
    case flushFailed(String)
    /// The replicated log did not store the append (this node does not lead the cluster, its
    /// lease ran out, or the replicated log has no quorum): nothing was committed here. Whether
    /// the replicated log kept part of it shows once this node has followed it; a retry under
    /// the same idempotency key then answers as the first attempt did.
    case replicationFailed(String)

    public var description: String {
        switch self {
        case let .wrongExpectedVersion(stream, expected, actual):
            return "stream \(stream) is at version \(actual), expected \(expected)"
        case .idempotencyKeyReused(let key):
            return "idempotency key \(key) was already used for a different request"
        case let .timeWentBackwards(stream, at, last):
            return "at \(at) is before the last event of \(stream) (\(last))"
        case .rejected(let error): return "rejected: \(error)"
        case .invalidRequest(let detail): return "invalid append: \(detail)"
        case .dataDirectoryLocked(let path): return "the data directory \(path) is locked by another process"
        case .readOnly: return "the log is open read-only"
        case .closed: return "the log is closed"
        case let .unsupportedRecordFormat(seq, format):
            return "event \(seq) is stored in record format \(format), which this version does not read"
        case let .corruptRecord(seq, reason): return "event \(seq) is damaged: \(reason)"
        case .incompatibleStore(let detail): return "incompatible data directory: \(detail)"
        case .storage(let detail): return "storage unavailable: \(detail)"
        case .replicationFailed(let detail): return "the replicated log did not take the append: \(detail)"
        case .flushFailed(let detail):
            return "the log accepts no writes until the server restarts: writing to disk failed (\(detail))"
        }
    }
}

/// The version a stream must be at for an append to go ahead.
public enum ExpectedVersion: Sendable, Hashable, CustomStringConvertible {
    /// Whatever it is.
    case any
    /// The stream must not exist yet.
    case noStream
    /// The stream's last version must be exactly this.
    case exactly(UInt64)

    public var description: String {
        switch self {
        case .any: "any"
        case .noStream: "no stream"
        case .exactly(let v): "version \(v)"
        }
    }
}
