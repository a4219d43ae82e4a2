// The byte-level pieces of the checkpoint format: a bounds-checked reader, an exactly sized
// writer, packed rows of frame-of-reference fields, and the XXH64 checksum.
//
// A *row stream* holds `count` records of the same fields. Each field is a 64-bit value (signed,
// or a bit pattern) stored as `value - base` in the fewest whole bytes that hold the largest such
// code over the stream (0 to 8 bytes), little-endian; an optional field reserves one more code for
// nil. The stream's header gives each field's base, width and nil code; a record is its fields'
// codes back to back. Writing and reading a field is one unaligned 8-byte store or load, a mask
// and an add: the writer keeps 8 spare bytes after the end, and the reader relies on the 8-byte
// checksum that follows every stream.

/// One field's encoding in a row stream.
struct CheckpointField: Sendable {
    var base: Int64 = 0
    var width = 0
    /// `(1 << 8 * width) - 1`.
    var mask: UInt64 = 0
    /// The code of nil, for an optional field that holds a nil.
    var nilCode: UInt64?
    /// The field's offset in the record.
    var offset = 0

    static func mask(width: Int) -> UInt64 { width >= 8 ? .max : (UInt64(1) << UInt64(8 * width)) - 1 }

    static func width(of code: UInt64) -> Int { (64 - code.leadingZeroBitCount + 7) / 8 }
}

/// Receives a record's fields in order: the writer's first pass (``CheckpointStats``) and second
/// pass (``CheckpointRowWriter``) see the same calls.
protocol CheckpointRowSink {
    mutating func put(_ value: Int64)
    mutating func put(optional value: Int64?)
    mutating func endRecord()
}

extension CheckpointRowSink {
    @inline(__always) mutating func put(_ value: UInt64) { put(Int64(bitPattern: value)) }
    @inline(__always) mutating func put(_ value: UInt32) { put(Int64(value)) }
    /// An index where ``Sentinel/none`` is nil.
    @inline(__always) mutating func put(index value: UInt32) { put(optional: value == Sentinel.none ? nil : Int64(value)) }
}

/// The records of one row stream: how many fields each has, and how to visit them in order.
protocol CheckpointRecords {
    /// Whether each field is optional (may be nil).
    static var optionalFields: [Bool] { get }
    /// Calls the sink's `put`s of each record, then its `endRecord()`.
    func visit<Sink: CheckpointRowSink>(_ sink: inout Sink)
}

/// A row stream's encoding, planned by a first pass over its records.
struct CheckpointRowPlan {
    var fields: [CheckpointField]
    var count: Int
    var stride: Int { fields.reduce(0) { $0 + $1.width } }
    /// The bytes of the stream: header and records.
    var size: Int { 1 + fields.reduce(0) { $0 + 8 + 1 + ($1.nilCode == nil ? 0 : 8) } + stride * count }
}

/// The first pass: each field's range, and whether it holds a nil.
struct CheckpointStats: CheckpointRowSink {
    struct Range {
        var min = Int64.max
        var max = Int64.min
        var hasValue = false
        var hasNil = false
    }

    private let ranges: UnsafeMutablePointer<Range>
    private(set) var records = 0
    private var k = 0

    private init(_ ranges: UnsafeMutablePointer<Range>) { self.ranges = ranges }

    @inline(__always)
    mutating func put(_ value: Int64) {
        if value < ranges[k].min { ranges[k].min = value }
        if value > ranges[k].max { ranges[k].max = value }
        ranges[k].hasValue = true
        k += 1
    }

    @inline(__always)
    mutating func put(optional value: Int64?) {
        if let value { put(value) } else {
            ranges[k].hasNil = true
            k += 1
        }
    }

    @inline(__always)
    mutating func endRecord() {
        k = 0
        records += 1
    }

    /// The encoding of `records`' fields: each field's base is its smallest value, its width
    /// holds the largest code, and nil (when a value is nil) takes the code above the largest.
    static func plan<R: CheckpointRecords>(_ records: R) -> CheckpointRowPlan {
        let fieldCount = R.optionalFields.count
        let ranges = UnsafeMutablePointer<Range>.allocate(capacity: fieldCount)
        ranges.initialize(repeating: Range(), count: fieldCount)
        defer { ranges.deallocate() }
        var stats = CheckpointStats(ranges)
        records.visit(&stats)

        var fields: [CheckpointField] = []
        var offset = 0
        for index in 0..<fieldCount {
            let range = ranges[index]
            var field = CheckpointField()
            var top: UInt64 = 0
            if range.hasValue {
                field.base = range.min
                top = UInt64(bitPattern: range.max &- range.min)
            }
            if range.hasNil {
                if !range.hasValue {
                    field.nilCode = 0
                } else if top < .max {
                    top += 1
                    field.nilCode = top
                } else {
                    field.nilCode = unusedCode(records, field: index, base: field.base)
                }
            }
            field.width = CheckpointField.width(of: top)
            // A record is never empty, so that a count always needs bytes to back it.
            if index == 0, field.width == 0 { field.width = 1 }
            field.mask = CheckpointField.mask(width: field.width)
            field.offset = offset
            offset += field.width
            fields.append(field)
        }
        return CheckpointRowPlan(fields: fields, count: stats.records)
    }

    /// The smallest code that no value of a field takes, for a field whose values span all 64
    /// bits and which holds a nil too (there is one: there are fewer than 2^64 records).
    private static func unusedCode<R: CheckpointRecords>(_ records: R, field: Int, base: Int64) -> UInt64 {
        var collector = Collector(field: field)
        records.visit(&collector)
        var candidate: UInt64 = 0
        for code in collector.values.map({ UInt64(bitPattern: $0 &- base) }).sorted() {
            if code > candidate { break }
            if code == candidate { candidate += 1 }
        }
        return candidate
    }

    /// Collects one field's values.
    private struct Collector: CheckpointRowSink {
        let field: Int
        var values: [Int64] = []
        var k = 0
        init(field: Int) { self.field = field }
        mutating func put(_ value: Int64) {
            if k == field { values.append(value) }
            k += 1
        }
        mutating func put(optional value: Int64?) {
            if let value { put(value) } else { k += 1 }
        }
        mutating func endRecord() { k = 0 }
    }
}

/// Serialises fixed-layout values into a buffer sized in advance (with 8 spare bytes).
struct CheckpointWriter {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var position = 0
    let capacity: Int

    init(base: UnsafeMutableRawPointer, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    @inline(__always)
    mutating func u8(_ value: UInt8) {
        precondition(position + 1 <= capacity)
        base.storeBytes(of: value, toByteOffset: position, as: UInt8.self)
        position += 1
    }

    @inline(__always)
    mutating func u32(_ value: UInt32) {
        precondition(position + 4 <= capacity)
        base.storeBytes(of: value.littleEndian, toByteOffset: position, as: UInt32.self)
        position += 4
    }

    @inline(__always)
    mutating func u64(_ value: UInt64) {
        precondition(position + 8 <= capacity)
        base.storeBytes(of: value.littleEndian, toByteOffset: position, as: UInt64.self)
        position += 8
    }

    mutating func bytes(_ bytes: UnsafeRawBufferPointer) {
        precondition(position + bytes.count <= capacity)
        if let source = bytes.baseAddress, bytes.count > 0 {
            (base + position).copyMemory(from: source, byteCount: bytes.count)
        }
        position += bytes.count
    }

    /// Appends a string's UTF-8 bytes.
    @inline(__always)
    mutating func utf8(_ string: String) {
        var string = string
        string.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    /// Writes a row stream planned by ``CheckpointStats/plan(_:)``: its header, then its records.
    mutating func rows<R: CheckpointRecords>(_ records: R, _ plan: CheckpointRowPlan) {
        let fields = plan.fields
        u8(UInt8(fields.count))
        for field in fields {
            u64(UInt64(bitPattern: field.base))
            u8(UInt8(field.width) | (field.nilCode == nil ? 0 : 0x80))
            if let nilCode = field.nilCode { u64(nilCode) }
        }
        let size = plan.stride * plan.count
        // Each field stores 8 bytes: the last one may spill 7 bytes beyond the stream.
        precondition(position + size + 8 <= capacity)
        let pointer = UnsafeMutablePointer<CheckpointField>.allocate(capacity: max(fields.count, 1))
        pointer.initialize(from: fields, count: fields.count)
        defer { pointer.deallocate() }
        var writer = CheckpointRowWriter(out: base + position, fields: pointer)
        records.visit(&writer)
        precondition(writer.out == base + position + size, "a row stream's records changed between passes")
        position += size
    }
}

/// The second pass: writes each field's code.
struct CheckpointRowWriter: CheckpointRowSink {
    fileprivate(set) var out: UnsafeMutableRawPointer
    let fields: UnsafePointer<CheckpointField>
    private var k = 0

    init(out: UnsafeMutableRawPointer, fields: UnsafePointer<CheckpointField>) {
        self.out = out
        self.fields = fields
    }

    @inline(__always)
    mutating func put(_ value: Int64) {
        let field = fields[k]
        k += 1
        out.storeBytes(of: UInt64(bitPattern: value &- field.base).littleEndian, as: UInt64.self)
        out += field.width
    }

    @inline(__always)
    mutating func put(optional value: Int64?) {
        let field = fields[k]
        k += 1
        let code = value.map { UInt64(bitPattern: $0 &- field.base) } ?? field.nilCode ?? 0
        out.storeBytes(of: code.littleEndian, as: UInt64.self)
        out += field.width
    }

    @inline(__always)
    mutating func endRecord() { k = 0 }
}

/// Reads a checkpoint's bytes, checking every bound. `end` is where the payload stops (the
/// checksum's 8 bytes follow it, so that a field's 8-byte load never leaves the buffer).
struct CheckpointReader {
    let base: UnsafeRawPointer
    let end: Int
    private(set) var position: Int

    init(base: UnsafeRawPointer, position: Int, end: Int) {
        self.base = base
        self.position = position
        self.end = end
    }

    var remaining: Int { end - position }

    @inline(__always)
    private mutating func take(_ n: Int, _ what: StaticString) throws(ProjectionCheckpointError) -> Int {
        guard n >= 0, n <= end - position else { throw .damaged("truncated in \(what) at byte \(position)") }
        defer { position += n }
        return position
    }

    mutating func u8(_ what: StaticString) throws(ProjectionCheckpointError) -> UInt8 {
        base.load(fromByteOffset: try take(1, what), as: UInt8.self)
    }

    mutating func u32(_ what: StaticString) throws(ProjectionCheckpointError) -> UInt32 {
        UInt32(littleEndian: base.loadUnaligned(fromByteOffset: try take(4, what), as: UInt32.self))
    }

    mutating func u64(_ what: StaticString) throws(ProjectionCheckpointError) -> UInt64 {
        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: try take(8, what), as: UInt64.self))
    }

    /// A count of records or names: at most `limit`.
    mutating func count(_ what: StaticString, limit: Int) throws(ProjectionCheckpointError) -> Int {
        let value = try u64(what)
        guard value <= UInt64(limit) else { throw .damaged("\(what): count \(value) out of range") }
        return Int(value)
    }

    mutating func bytes(_ n: Int, _ what: StaticString) throws(ProjectionCheckpointError) -> UnsafeRawBufferPointer {
        let start = try take(n, what)
        return UnsafeRawBufferPointer(start: base + start, count: n)
    }

    /// A row stream of `count` records whose fields are optional as `optional` says.
    mutating func rows(_ what: StaticString, count: Int, optional: [Bool]) throws(ProjectionCheckpointError) -> CheckpointRows {
        let fieldCount = Int(try u8(what))
        guard fieldCount == optional.count else {
            throw .damaged("\(what): \(fieldCount) fields, expected \(optional.count)")
        }
        var fields: [CheckpointField] = []
        fields.reserveCapacity(fieldCount)
        var stride = 0
        for k in 0..<fieldCount {
            var field = CheckpointField()
            field.base = Int64(bitPattern: try u64(what))
            let flags = try u8(what)
            field.width = Int(flags & 0x7F)
            guard field.width <= 8, flags & 0x80 == 0 || optional[k] else {
                throw .damaged("\(what): bad encoding of field \(k)")
            }
            if flags & 0x80 != 0 { field.nilCode = try u64(what) }
            field.mask = CheckpointField.mask(width: field.width)
            field.offset = stride
            stride += field.width
            fields.append(field)
        }
        guard count == 0 || (stride > 0 && count <= remaining / stride) else {
            throw .damaged("\(what): \(count) records of \(stride) bytes overrun the checkpoint")
        }
        let start = try take(count * stride, what)
        return CheckpointRows(fields: fields, start: base + start, stride: stride, count: count)
    }
}

/// A row stream being read: ``CheckpointRows/Cursor`` walks its records.
struct CheckpointRows {
    let fields: [CheckpointField]
    let start: UnsafeRawPointer
    let stride: Int
    let count: Int

    /// Reads one record at a time; the rows must stay alive while it does.
    struct Cursor {
        private var record: UnsafeRawPointer
        private let stride: Int
        private let fields: UnsafePointer<CheckpointField>
        private var k = 0

        fileprivate init(record: UnsafeRawPointer, stride: Int, fields: UnsafePointer<CheckpointField>) {
            self.record = record
            self.stride = stride
            self.fields = fields
        }

        @inline(__always)
        mutating func next() -> Int64 {
            let field = fields[k]
            k += 1
            let code = UInt64(littleEndian: record.loadUnaligned(fromByteOffset: field.offset, as: UInt64.self)) & field.mask
            return field.base &+ Int64(bitPattern: code)
        }

        @inline(__always)
        mutating func nextOptional() -> Int64? {
            let field = fields[k]
            k += 1
            let code = UInt64(littleEndian: record.loadUnaligned(fromByteOffset: field.offset, as: UInt64.self)) & field.mask
            if let nilCode = field.nilCode, code == nilCode { return nil }
            return field.base &+ Int64(bitPattern: code)
        }

        @inline(__always) mutating func nextUInt64() -> UInt64 { UInt64(bitPattern: next()) }

        @inline(__always)
        mutating func endRecord() {
            record += stride
            k = 0
        }
    }

    /// Calls `body` with a cursor on the first record (typed throws pass through).
    func read<R, E: Error>(_ body: (inout Cursor) throws(E) -> R) throws(E) -> R {
        let pointer = UnsafeMutablePointer<CheckpointField>.allocate(capacity: max(fields.count, 1))
        pointer.initialize(from: fields, count: fields.count)
        defer { pointer.deallocate() }
        var cursor = Cursor(record: start, stride: stride, fields: pointer)
        return try body(&cursor)
    }
}

/// XXH64 (seed 0): the checkpoint's checksum, several GB/s.
enum XXH64 {
    private static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let p3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

    @inline(__always) private static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

    @inline(__always)
    private static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
        rotl(acc &+ input &* p2, 31) &* p1
    }

    @inline(__always)
    private static func merge(_ acc: UInt64, _ value: UInt64) -> UInt64 {
        (acc ^ round(0, value)) &* p1 &+ p4
    }

    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        let n = bytes.count
        guard let p = bytes.baseAddress, n > 0 else { return avalanche(seed &+ p5) }
        @inline(__always) func u64(_ i: Int) -> UInt64 { UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) }
        var i = 0
        var h: UInt64
        if n >= 32 {
            var v1 = seed &+ p1 &+ p2, v2 = seed &+ p2, v3 = seed, v4 = seed &- p1
            while i + 32 <= n {
                v1 = round(v1, u64(i))
                v2 = round(v2, u64(i + 8))
                v3 = round(v3, u64(i + 16))
                v4 = round(v4, u64(i + 24))
                i += 32
            }
            h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
            h = merge(h, v1)
            h = merge(h, v2)
            h = merge(h, v3)
            h = merge(h, v4)
        } else {
            h = seed &+ p5
        }
        h &+= UInt64(n)
        while i + 8 <= n {
            h ^= round(0, u64(i))
            h = rotl(h, 27) &* p1 &+ p4
            i += 8
        }
        if i + 4 <= n {
            h ^= UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt32.self))) &* p1
            h = rotl(h, 23) &* p2 &+ p3
            i += 4
        }
        while i < n {
            h ^= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) &* p5
            h = rotl(h, 11) &* p1
            i += 1
        }
        return avalanche(h)
    }

    @inline(__always)
    private static func avalanche(_ value: UInt64) -> UInt64 {
        var h = value
        h ^= h >> 33
        h &*= p2
        h ^= h >> 29
        h &*= p3
        h ^= h >> 32
        return h
    }
}
