import Foundation

/// One chart of the dashboard: what it plots (categories × series of points), how its values
/// read (unit, axis titles) and how its data is downloaded as CSV. Rendered by
/// ``DashboardSVG`` as inline SVG and by ``csv`` as a CSV document, from the same values.
struct DashboardChart: Sendable {
    enum Kind: Sendable {
        /// A line per series over time-ordered categories (weeks), a marker per point and its
        /// count written under it.
        case line
        /// Horizontal bars, one per series in each category.
        case bars
        /// Horizontal bars, the series stacked in each category.
        case stackedBars
    }

    /// The unit of the values; the axis says it.
    enum Unit: Sendable {
        /// A share 0...1, shown in percent.
        case fraction
        /// A mean score 1...5.
        case score
        /// A duration in seconds, shown in minutes, hours or days (whichever suits the values).
        case seconds
        /// A number of tickets.
        case count
    }

    struct Category: Sendable, Equatable {
        /// The value in the data and the CSV (a bucket start, a team, a priority).
        var key: String
        /// What the axis writes.
        var label: String
        /// Drawn in red with a warning sign (an overloaded agent).
        var flagged = false
    }

    struct Point: Sendable, Equatable {
        /// nil: the point exists but has no value (a week without any reply: count 0).
        var value: Double?
        /// How many values the point summarises (ratings, replies, SLA outcomes), when it says.
        var count: Int?
    }

    struct Series: Sendable {
        var name: String
        /// Aligned with the chart's categories; nil where the series has no point.
        var points: [Point?]
        /// A colour that means something (breached in red); otherwise the palette's.
        var color: String? = nil
        /// Where each point leads (the values behind it), aligned with ``points``, already
        /// escaped for an attribute; empty or nil where a point links nowhere.
        var links: [String?] = []

        func link(_ index: Int) -> String? { index < links.count ? links[index] : nil }
    }

    /// A threshold drawn across the plot (an agent's capacity).
    struct Reference: Sendable {
        var value: Double
        var label: String
    }

    /// The CSV columns: series, category, value and (when points carry one) count.
    struct Columns: Sendable {
        var series: String
        var category: String
        var value: String
        var count: String?
    }

    var id: String
    var title: String
    /// A line under the title (the clock, the period).
    var subtitle: String?
    var kind: Kind
    var unit: Unit
    /// The title of the category axis (x for lines, y for bars).
    var categoryTitle: String
    /// What the values are; the axis title adds the unit (`CSAT (%)`, `First reply time (hours)`).
    var valueTitle: String
    var categories: [Category]
    var series: [Series]
    /// The noun of the counts in tooltips (`ratings`, `replies`, `SLA outcomes`).
    var countNoun: String?
    var reference: Reference?
    var columns: Columns
    /// Shown in place of the plot when no series has a value.
    var emptyText = "No data in this period"
    /// The unit name of ``Unit/count`` values on the axis.
    var countUnit = "tickets"

    var hasValues: Bool { series.contains { $0.points.contains { $0?.value != nil } } }

    /// The chart's data: one row per point of each series, in series then category order.
    var csv: DashboardCSV {
        var header = [columns.series, columns.category, columns.value]
        if let count = columns.count { header.append(count) }
        var document = DashboardCSV(header: header)
        for s in series {
            for (category, point) in zip(categories, s.points) {
                guard let point else { continue }
                var row: [DashboardCSV.Cell] = [
                    .text(s.name), .text(category.key),
                    point.value.map { .number(formatData($0)) } ?? .empty,
                ]
                if columns.count != nil { row.append(point.count.map { .number(String($0)) } ?? .empty) }
                document.rows.append(row)
            }
        }
        return document
    }

    /// A value as the data (CSV, `data-value`) writes it: the API's numbers, durations in
    /// seconds with at most three fraction digits.
    func formatData(_ value: Double) -> String {
        switch unit {
        case .seconds: DashboardHTML.seconds(milliseconds: Int64((value * 1000).rounded()))
        case .count: String(Int64(value.rounded()))
        case .fraction, .score: DashboardHTML.number(value)
        }
    }

    /// A value for people (`85 %`, `4.25`, `3 h 05 min`, `12`).
    func formatHuman(_ value: Double) -> String {
        switch unit {
        case .fraction: DashboardHTML.percent(value)
        case .score: String(format: "%.2f", value)
        case .seconds: DashboardHTML.humanDuration(seconds: value)
        case .count: String(Int64(value.rounded()))
        }
    }
}

/// The value axis of a chart: its range, ticks and how they read.
struct ValueScale {
    var min: Double
    var max: Double
    var ticks: [Double]
    /// Values are divided by this for the tick labels (seconds → minutes, hours, days).
    var divisor: Double
    /// `%`, `minutes`, `hours`, `days`, `1–5`, `tickets`.
    var unitName: String
    /// Whether the ticks need decimals.
    var decimals: Int

    func label(_ tick: Double) -> String {
        let v = tick / divisor
        return decimals == 0 ? String(Int64(v.rounded())) : String(format: "%.\(decimals)f", v)
    }

    static func make(unit: DashboardChart.Unit, maximum: Double, countUnit: String = "tickets") -> ValueScale {
        switch unit {
        case .fraction:
            return ValueScale(
                min: 0, max: 1, ticks: stride(from: 0.0, through: 1.0001, by: 0.2).map { $0 }, divisor: 0.01,
                unitName: "%", decimals: 0)
        case .score:
            return ValueScale(min: 1, max: 5, ticks: [1, 2, 3, 4, 5], divisor: 1, unitName: "1–5", decimals: 0)
        case .count:
            let (top, step) = nice(maximum: Swift.max(maximum, 1), integral: true)
            return ValueScale(
                min: 0, max: top, ticks: stride(from: 0, through: top + step / 2, by: step).map { $0 },
                divisor: 1, unitName: countUnit, decimals: 0)
        case .seconds:
            let m = Swift.max(maximum, 1)
            let (divisor, name): (Double, String) = m <= 2 * 3600 ? (60, "minutes") : m <= 72 * 3600 ? (3600, "hours") : (86_400, "days")
            let (top, step) = nice(maximum: m / divisor, integral: false)
            let decimals = step >= 1 ? 0 : step >= 0.1 ? 1 : step >= 0.01 ? 2 : 3
            return ValueScale(
                min: 0, max: top * divisor,
                ticks: stride(from: 0, through: top + step / 2, by: step).map { $0 * divisor },
                divisor: divisor, unitName: name, decimals: decimals)
        }
    }

    /// A round top (steps of 1, 2 or 5 × 10^k, at most about five of them) at or above `maximum`.
    static func nice(maximum: Double, integral: Bool) -> (top: Double, step: Double) {
        let raw = maximum / 5
        let magnitude = pow(10, floor(log10(raw)))
        let normalized = raw / magnitude
        var step = (normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10) * magnitude
        if integral { step = Swift.max(1, step.rounded(.up)) }
        let top = Swift.max(step, (maximum / step).rounded(.up) * step)
        return (top, step)
    }
}
