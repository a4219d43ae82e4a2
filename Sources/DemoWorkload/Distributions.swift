import EventLog

extension SeededRandom {
    /// An exponentially distributed value with the given mean.
    mutating func exponential(mean: Double) -> Double {
        -mean * PortableMath.naturalLog(1 - unit())
    }
}

/// Elementary functions written with `+ - * /` only, so that results are bit-identical everywhere.
enum PortableMath {
    /// ln(x) for x > 0 (returns a very negative number for x <= 0).
    static func naturalLog(_ x: Double) -> Double {
        guard x > 0, x.isFinite else { return -745 }
        // x = m * 2^e with m in [sqrt(1/2), sqrt(2)).
        var exponent = Double(x.exponent)
        var m = x.significand
        if m > 1.414_213_562_373_095 {
            m /= 2
            exponent += 1
        }
        // ln(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716.
        let s = (m - 1) / (m + 1)
        let s2 = s * s
        var term = s
        var sum = s
        var k = 3.0
        while k < 24 {
            term *= s2
            sum += term / k
            k += 2
        }
        return 2 * sum + exponent * 0.693_147_180_559_945_3
    }
}

/// A choice among indices with integer weights.
struct WeightedChoice: Sendable {
    private let cumulative: [UInt64]

    init(_ weights: [Int]) {
        var running: UInt64 = 0
        cumulative = weights.map {
            running += UInt64(max(0, $0)); return running
        }
    }

    /// An index, chosen with probability proportional to its weight (binary search).
    func pick(_ random: inout SeededRandom) -> Int {
        guard let total = cumulative.last, total > 0 else { return 0 }
        let r = random.next().multipliedFullWidth(by: total).high
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] > r { high = mid } else { low = mid + 1 }
        }
        return low
    }
}

/// A duration distribution given as weighted uniform ranges of milliseconds: a cheap, exact and
/// easily tuned stand-in for a heavy-tailed law.
struct DelayDistribution: Sendable {
    private let choice: WeightedChoice
    private let ranges: [ClosedRange<Int64>]

    init(_ parts: [(weight: Int, range: ClosedRange<Int64>)]) {
        choice = WeightedChoice(parts.map(\.weight))
        ranges = parts.map(\.range)
    }

    func sample(_ random: inout SeededRandom) -> Int64 {
        random.int64(in: ranges[choice.pick(&random)])
    }
}

/// Milliseconds in common units.
enum Millis {
    static let second: Int64 = 1000
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000
    static let day: Int64 = CivilCalendar.millisecondsPerDay
}
