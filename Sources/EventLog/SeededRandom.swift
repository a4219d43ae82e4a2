/// The package's one seeded pseudo-random generator: xoshiro256** whose state comes from
/// SplitMix64.
///
/// A seed gives the same sequence on every machine and toolchain: the draws below are integer
/// arithmetic or IEEE-754 `+ - * /` only. The demo workload's output is pinned to this exact
/// sequence (DemoWorkloadTests), so the algorithm and the draws must not change. Tests use it
/// through `RandomNumberGenerator` (`Int.random(in:using:)` and the like) for seeded property
/// tests.
package struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    package init(seed: UInt64) {
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
    package mutating func next() -> UInt64 {
        let result = Self.rotatedLeft(s1 &* 5, by: 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = Self.rotatedLeft(s3, by: 45)
        return result
    }

    /// A value in `0..<bound` (`bound` > 0), by multiply-high (bias below 2^-40 for small bounds).
    package mutating func below(_ bound: Int) -> Int {
        guard bound > 1 else { return 0 }
        return Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// A value in `range`, by multiply-high.
    package mutating func int64(in range: ClosedRange<Int64>) -> Int64 {
        let width = UInt64(bitPattern: range.upperBound &- range.lowerBound) &+ 1
        guard width != 0 else { return Int64(bitPattern: next()) }
        return range.lowerBound &+ Int64(bitPattern: next().multipliedFullWidth(by: width).high)
    }

    /// A double in [0, 1).
    package mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// True with probability `probability`.
    package mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    /// An element of a non-empty array.
    package mutating func element<T>(of array: [T]) -> T { array[below(array.count)] }

    private static func rotatedLeft(_ value: UInt64, by k: UInt64) -> UInt64 { (value << k) | (value >> (64 - k)) }
}
