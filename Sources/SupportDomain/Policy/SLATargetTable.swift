/// The SLA targets of a policy: at most one target per priority and metric.
///
/// A missing target means the metric is not tracked for that priority.
public struct SLATargetTable: Hashable, Sendable {
    private static let metricCount = SLAMetric.allCases.count

    /// One slot per (priority, metric), indexed by `slotIndex(_:_:)`.
    private var slots: [SLATarget?]

    /// Creates a table with no targets.
    public init() {
        slots = Array(repeating: nil, count: Priority.allCases.count * Self.metricCount)
    }

    /// The target for `metric` at `priority`, or `nil` when there is none; assign `nil` to remove it.
    public subscript(priority: Priority, metric: SLAMetric) -> SLATarget? {
        get { slots[Self.slotIndex(priority, metric)] }
        set { slots[Self.slotIndex(priority, metric)] = newValue }
    }

    private static func slotIndex(_ priority: Priority, _ metric: SLAMetric) -> Int {
        let metricIndex: Int
        switch metric {
        case .firstReply: metricIndex = 0
        case .nextReply: metricIndex = 1
        case .resolution: metricIndex = 2
        }
        return priority.urgencyRank * metricCount + metricIndex
    }
}

extension SLATargetTable: Encodable {
    private struct NameKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Writes every priority and every metric, with `null` where there is no target.
    public func encode(to encoder: any Encoder) throws {
        var byPriority = encoder.container(keyedBy: NameKey.self)
        for priority in Priority.allCases {
            var byMetric = byPriority.nestedContainer(keyedBy: NameKey.self, forKey: NameKey(priority.rawValue))
            for metric in SLAMetric.allCases {
                if let target = self[priority, metric] {
                    try byMetric.encode(target, forKey: NameKey(metric.rawValue))
                } else {
                    try byMetric.encodeNil(forKey: NameKey(metric.rawValue))
                }
            }
        }
    }
}
