/// A small seeded pseudo-random generator: xoshiro256** whose state comes from SplitMix64.
///
/// Every draw is integer arithmetic or IEEE-754 `+ - * /` (no libm), so a seed yields the same
/// workload on every machine and toolchain.
struct SeededRandom {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    init(seed: UInt64) {
        var mix = seed
        s0 = Self.splitMix(&mix)
        s1 = Self.splitMix(&mix)
        s2 = Self.splitMix(&mix)
        s3 = Self.splitMix(&mix)
    }

    private static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        let result = (s1 &* 5).rotatedLeft(by: 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3.rotatedLeft(by: 45)
        return result
    }

    /// A value in `0..<bound` (`bound` > 0), by multiply-high (bias below 2^-40 for our bounds).
    mutating func below(_ bound: Int) -> Int {
        guard bound > 1 else { return 0 }
        return Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// A value in `range`.
    mutating func int64(in range: ClosedRange<Int64>) -> Int64 {
        let width = UInt64(bitPattern: range.upperBound &- range.lowerBound) &+ 1
        guard width != 0 else { return Int64(bitPattern: next()) }
        return range.lowerBound &+ Int64(bitPattern: next().multipliedFullWidth(by: width).high)
    }

    /// A double in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// True with probability `probability`.
    mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    /// An exponentially distributed value with the given mean.
    mutating func exponential(mean: Double) -> Double {
        -mean * PortableMath.naturalLog(1 - unit())
    }

    /// An element of a non-empty array.
    mutating func element<T>(of array: [T]) -> T { array[below(array.count)] }
}

extension UInt64 {
    fileprivate func rotatedLeft(by k: UInt64) -> UInt64 { (self << k) | (self >> (64 - k)) }
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
        cumulative = weights.map { running += UInt64(max(0, $0)); return running }
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
    static let day: Int64 = 86_400_000
}
