import EventLog

/// When tickets come in: a Poisson process whose rate follows the Paris clock (busy weekday
/// business hours, a Monday peak, quiet nights and weekends), scaled to a number of tickets per
/// day on average.
struct ArrivalRhythm {
    /// Relative arrival rate by local hour on a weekday.
    private static let hourly: [Double] = [
        0.10, 0.06, 0.05, 0.05, 0.06, 0.12, 0.30, 0.70, 1.50, 2.00, 2.10, 1.90,
        1.30, 1.50, 1.90, 1.80, 1.60, 1.30, 1.00, 0.75, 0.60, 0.45, 0.30, 0.18,
    ]
    /// Relative arrival rate by weekday, Monday first.
    private static let daily: [Double] = [1.15, 1.0, 1.0, 0.97, 0.88, 0.45, 0.32]

    /// Arrivals per ms at relative rate 1.
    private let baseRate: Double
    private let peakWeight: Double

    init(ticketsPerDay: Double) {
        let hourSum = Self.hourly.reduce(0, +)
        let daySum = Self.daily.reduce(0, +)
        let meanWeight = hourSum * daySum / (24 * 7)
        baseRate = ticketsPerDay / (Double(Millis.day) * meanWeight)
        peakWeight = (Self.hourly.max() ?? 1) * (Self.daily.max() ?? 1)
    }

    private func weight(at instant: Int64) -> Double {
        let local = DeskClock.paris.local(instant)
        return Self.hourly[Int(local.millisOfDay / Millis.hour)] * Self.daily[local.weekday]
    }

    /// The next arrival after `instant` (thinning of a peak-rate process).
    func next(after instant: Int64, _ random: inout SeededRandom) -> Int64 {
        let meanGap = 1 / (baseRate * peakWeight)
        var time = instant
        while true {
            time += max(1, Int64(random.exponential(mean: meanGap)))
            if random.unit() * peakWeight < weight(at: time) { return time }
        }
    }
}
