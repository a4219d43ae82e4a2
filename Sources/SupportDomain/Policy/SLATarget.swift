/// The time allowed for one SLA metric, in whole seconds on a given clock.
public struct SLATarget: Hashable, Sendable {
    /// The largest allowed `seconds`, chosen so that `milliseconds` cannot overflow.
    package static let maximumSeconds: Int64 = Int64.max / 1000

    /// The allowed time in whole seconds; always in `1...SLATarget.maximumSeconds`.
    public let seconds: Int64

    /// The clock the allowed time is measured on.
    public let clock: SLAClock

    /// Creates a target, or returns `nil` unless `seconds` is in `1...SLATarget.maximumSeconds`.
    public init?(seconds: Int64, clock: SLAClock) {
        guard seconds > 0, seconds <= Self.maximumSeconds else { return nil }
        self.seconds = seconds
        self.clock = clock
    }

    /// Creates a target from seconds the caller has already validated.
    init(validatedSeconds seconds: Int64, clock: SLAClock) {
        self.seconds = seconds
        self.clock = clock
    }

    /// The allowed time in milliseconds.
    public var milliseconds: Int64 { seconds * 1000 }
}

extension SLATarget: Encodable {
    private enum CodingKeys: String, CodingKey {
        case seconds
        case clock
    }

    /// Writes `{"seconds": …, "clock": …}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seconds, forKey: .seconds)
        try container.encode(clock.rawValue, forKey: .clock)
    }
}
