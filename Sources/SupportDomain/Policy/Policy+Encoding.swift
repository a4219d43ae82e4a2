extension Policy: Encodable {
    private enum CodingKeys: String, CodingKey {
        case timeZone
        case schedule
        case holidays
        case capacity
        case targets
    }

    private struct WeekdayKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ weekday: Weekday) { stringValue = weekday.rawValue }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Writes the effective policy in the policy-file format with every key present: all seven
    /// days (`[]` when closed), holidays sorted, and every priority and metric under `targets`
    /// (`null` where there is no target). The input limits are left out: this is the form
    /// ``hash`` covers, and limits do not change what projections compute.
    ///
    /// The output is the same for equal policies; for byte-stable JSON across encoders, use
    /// `JSONEncoder` with `.sortedKeys`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(timeZoneIdentifier, forKey: .timeZone)
        var days = container.nestedContainer(keyedBy: WeekdayKey.self, forKey: .schedule)
        for weekday in Weekday.allCases {
            try days.encode(schedule.windows(on: weekday).map(\.description), forKey: WeekdayKey(weekday))
        }
        try container.encode(holidays.sorted().map(\.description), forKey: .holidays)
        try container.encode(capacity, forKey: .capacity)
        try container.encode(targets, forKey: .targets)
    }
}
