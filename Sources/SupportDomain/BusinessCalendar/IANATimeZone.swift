import Foundation

/// Looks up IANA time zones by identifier.
enum IANATimeZone {
    /// The zone with this IANA identifier (for example `Europe/Paris`, `UTC`, `Etc/GMT-2`), or `nil`.
    ///
    /// Foundation also accepts ad-hoc forms such as `GMT+2` or `UTC+02:00`, which are not IANA
    /// identifiers; those are rejected here.
    static func named(_ identifier: String) -> TimeZone? {
        for adHocPrefix in ["GMT+", "GMT-", "UTC+", "UTC-"] where identifier.hasPrefix(adHocPrefix) {
            return nil
        }
        return TimeZone(identifier: identifier)
    }
}
