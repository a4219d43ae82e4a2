import Crypto
import EventLog
import SupportDomain

/// Why a checkpoint was refused. Each case means the same thing to the runner: fold the log
/// from seq 1 instead (and store a new checkpoint).
public enum ProjectionCheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Written by another version of the fold or of the format (``SupportProjection/formatVersion``).
    case unknownFormatVersion(found: UInt32, expected: UInt32)
    /// Built under another policy (its `policyHash`) than the one given.
    case policyMismatch(found: String, expected: String)
    /// Not a checkpoint, truncated, or corrupted (checksum or structure).
    case damaged(String)

    public var description: String {
        switch self {
        case .unknownFormatVersion(let found, let expected):
            "projection checkpoint format version \(found), this build reads \(expected)"
        case .policyMismatch(let found, let expected):
            "projection checkpoint built under policy \(found), the current policy is \(expected)"
        case .damaged(let detail):
            "projection checkpoint damaged: \(detail)"
        }
    }
}

/// What a checkpoint's header says, read without decoding (or checking) the rest.
public struct ProjectionCheckpointHeader: Sendable, Hashable {
    /// The format version the checkpoint was written in (``SupportProjection/formatVersion`` for this build).
    public var formatVersion: UInt32
    /// The seq the checkpointed projection had applied up to.
    public var appliedSeq: UInt64
    /// The `policyHash` of the policy the projection was built under.
    public var policyHash: String

    /// Reads the header of a checkpoint of any format version.
    ///
    /// - Throws: ``ProjectionCheckpointError/damaged(_:)`` when the bytes do not start like a
    ///   checkpoint.
    public init(_ checkpoint: [UInt8]) throws(ProjectionCheckpointError) {
        let result = checkpoint.withUnsafeBytes { bytes -> Result<Self, ProjectionCheckpointError> in
            do throws(ProjectionCheckpointError) {
                var reader = try ProjectionCheckpoint.headerReader(bytes)
                return .success(try Self(&reader))
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }

    init(_ reader: inout CheckpointReader) throws(ProjectionCheckpointError) {
        formatVersion = try reader.uint32()
        appliedSeq = try reader.uint64()
        let length = Int(try reader.uint32())
        guard length <= 1024 else { throw .damaged("policy hash of \(length) bytes") }
        policyHash = try reader.string(length: length, "policy hash")
    }
}

extension SupportProjection {
    /// The version of the checkpoint format *and* of the fold's code. Bump it whenever the fold's
    /// code (what a given log folds to) or the state's layout changes: a checkpoint of another
    /// version is refused, and the runner rebuilds from seq 1.
    ///
    /// 2: varint rows and a SHA-256 (issue 10); 1 had frame-of-reference packed rows and XXH64.
    public static let formatVersion: UInt32 = 2

    /// The whole state as a compact binary checkpoint: format version, ``appliedSeq``, the
    /// policy hash, the state, and a checksum. ``init(checkpoint:levels:)`` restores it.
    ///
    /// Deterministic: equal states give equal bytes. About a third of the state's size in memory
    /// (figures in docs/benchmarks.md, "Checkpoints").
    public func checkpoint() -> [UInt8] {
        ProjectionCheckpoint.encode(self)
    }
    /// Restores a projection from ``checkpoint()``: it answers every query, and folds further
    /// events, exactly like the projection that wrote it.
    ///
    /// Never traps on any input: every length, count, index and enumeration is checked, and a
    /// checksum covers the bytes.
    ///
    /// - Throws: ``ProjectionCheckpointError/unknownFormatVersion(found:expected:)`` for a
    ///   checkpoint of another ``formatVersion``; ``ProjectionCheckpointError/policyMismatch(found:expected:)``
    ///   when it was built under a policy other than `levels.policy`;
    ///   ``ProjectionCheckpointError/damaged(_:)`` for anything else that is not a valid checkpoint.
    public init(checkpoint: [UInt8], levels: ServiceLevels) throws(ProjectionCheckpointError) {
        let result = checkpoint.withUnsafeBytes { bytes in ProjectionCheckpoint.decode(bytes, levels: levels) }
        self = try result.get()
    }
}

/// The checkpoint format.
///
/// ```
/// magic "LDPC" | formatVersion u32 LE | appliedSeq u64 LE | policy hash (u32 LE length, UTF-8)
/// counts: tickets, teams, agents, customers, tags, replies, agent messages, ratings
/// names × 5 (ticket ids, teams, agents, customers, tags): each a varint length and UTF-8
/// tickets, ticket infos (with their tags), replies, agent messages, ratings: records of varints
/// SHA-256 of everything before it, 32 bytes
/// ```
///
/// The header's layout is the same in every format version (``ProjectionCheckpointHeader``
/// reads any). After it, every integer is a LEB128 varint (`ByteReader`), signed ones zig-zag
/// encoded; an instant is a delta from the same record's opening instant or from the previous
/// record's instant, so that it takes a few bytes; an optional value is 0 for nil and its code
/// plus 1 otherwise. The record layouts are in ProjectionCheckpointState.swift.
///
/// The per-team and per-agent queues, counts and loads, the per-customer ticket lists and the
/// ticket list's order are not stored: each is a function of the tickets (what the fold
/// maintains incrementally), rebuilt on decode by the fold's own `placement` and orders.
enum ProjectionCheckpoint {
    static let magic: [UInt8] = Array("LDPC".utf8)
    static let checksumSize = SHA256.byteCount
    /// Magic, version, seq, hash length, checksum.
    static let minimumSize = 4 + 4 + 8 + 4 + checksumSize

    /// A reader positioned after the magic, over everything but the checksum.
    static func headerReader(_ bytes: UnsafeRawBufferPointer) throws(ProjectionCheckpointError) -> CheckpointReader {
        guard bytes.count >= minimumSize else { throw .damaged("\(bytes.count) bytes is too short for a checkpoint") }
        guard bytes.prefix(4).elementsEqual(magic) else { throw .damaged("not a projection checkpoint") }
        return CheckpointReader(UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count - checksumSize)]), offset: 4)
    }

    /// Seals a checkpoint: writes the checksum of everything before its last ``checksumSize``
    /// bytes into them.
    static func seal(_ bytes: UnsafeMutableRawBufferPointer) {
        let end = bytes.count - checksumSize
        let sum = checksum(UnsafeRawBufferPointer(rebasing: bytes[..<end]))
        sum.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: bytes[end...]).copyMemory(from: $0) }
    }

    /// Whether the checksum matches.
    static func isSealed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let end = bytes.count - checksumSize
        return checksum(UnsafeRawBufferPointer(rebasing: bytes[..<end])).elementsEqual(bytes[end...])
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> SHA256.Digest {
        var hasher = SHA256()
        hasher.update(bufferPointer: bytes)
        return hasher.finalize()
    }
}
