import Foundation

/// Draws a ``DashboardChart`` as inline SVG: axes with ticks, tick labels and titles (the unit
/// in the value axis title), a legend, and a marker per point carrying its data
/// (`data-series`, `data-bucket` or `data-category`, `data-value`, `data-count`), so that the
/// chart reads without JavaScript and a test can check exactly what is plotted.
///
/// Sizes are in the viewBox's units; the page scales the SVG to its column (`width: 100%`).
/// Two layouts: a wide one for screens and a narrow one (larger text relative to the width)
/// that phones show instead.
enum DashboardSVG {
    struct Layout: Sendable {
        var width: Double
        var font: Double
        var plotHeight: Double
        var name: String
    }

    static let wide = Layout(width: 640, font: 13, plotHeight: 250, name: "wide")
    static let narrow = Layout(width: 380, font: 12, plotHeight: 220, name: "narrow")

    /// Okabe–Ito colours (distinguishable with colour-blindness) and a few more.
    static let palette = [
        "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#555555", "#882255",
        "#999933", "#44AA99",
    ]
    /// Dash patterns cycled with the colours, so that curves also differ without colour.
    static let dashes = ["", "7 4", "2 3"]

    static func color(_ index: Int) -> String { palette[index % palette.count] }
    static func color(_ chart: DashboardChart, _ index: Int) -> String {
        (index < chart.series.count ? chart.series[index].color : nil) ?? color(index)
    }
    static func dash(_ index: Int) -> String { dashes[(index / 2) % dashes.count] }

    static func render(_ chart: DashboardChart, layout: Layout) -> String {
        switch chart.kind {
        case .line: LineRenderer(chart: chart, layout: layout).render()
        case .bars, .stackedBars: BarRenderer(chart: chart, layout: layout).render()
        }
    }

    // MARK: Shared pieces

    static func f(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
    }

    static func textWidth(_ s: String, font: Double) -> Double { Double(s.count) * font * 0.6 }

    static func truncated(_ s: String, _ limit: Int) -> String {
        s.count <= limit ? s : String(s.prefix(limit - 1)) + "…"
    }

    /// The opening tag, title and description.
    static func open(_ chart: DashboardChart, layout: Layout, height: Double) -> String {
        let id = DashboardHTML.escape("\(chart.id)-\(layout.name)")
        var out =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart chart-\(layout.name)\" data-chart=\"\(DashboardHTML.escape(chart.id))\""
        out += " viewBox=\"0 0 \(f(layout.width)) \(f(height))\" role=\"img\" aria-labelledby=\"\(id)-title\""
        out += " font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif\" font-size=\"\(f(layout.font))\">"
        out += "<title id=\"\(id)-title\">\(DashboardHTML.escape(chart.title))</title>"
        out += "<rect x=\"0\" y=\"0\" width=\"\(f(layout.width))\" height=\"\(f(height))\" fill=\"#ffffff\"/>"
        return out
    }

    /// The legend as rows of entries from (x0, y0) within `maxX`; returns the markup and its height.
    static func legend(
        _ chart: DashboardChart, layout: Layout, x0: Double, y0: Double, maxX: Double,
        swatch: (Int, Double, Double) -> String
    ) -> (String, Double) {
        guard chart.series.count > 1 || chart.kind == .line else { return ("", 0) }
        let font = layout.font
        let rowHeight = font + 8
        var out = "<g class=\"legend\">"
        var x = x0, row = 0
        for (i, s) in chart.series.enumerated() {
            let name = truncated(s.name, 24)
            let w = 26 + textWidth(name, font: font) + 14
            if x + w > maxX && x > x0 {
                row += 1
                x = x0
            }
            let y = y0 + Double(row) * rowHeight
            out += swatch(i, x, y)
            out += "<text x=\"\(f(x + 26))\" y=\"\(f(y + font * 0.35))\" fill=\"#222222\">\(DashboardHTML.escape(name))</text>"
            x += w
        }
        out += "</g>"
        return (out, Double(row + 1) * rowHeight)
    }

    static func pointAttributes(
        _ chart: DashboardChart, series: String, categoryAttribute: String, category: String,
        point: DashboardChart.Point
    ) -> String {
        var out = " data-series=\"\(DashboardHTML.escape(series))\" \(categoryAttribute)=\"\(DashboardHTML.escape(category))\""
        out += " data-value=\"\(point.value.map(chart.formatData) ?? "")\""
        if let count = point.count { out += " data-count=\"\(count)\"" }
        return out
    }

    /// Opens a link around a marker (closed by `</a>`): a click on a bar or point lists the
    /// values behind it. `href` is already escaped for an attribute.
    static func openLink(_ href: String) -> String {
        "<a class=\"drill\" href=\"\(href)\">"
    }

    static func tooltip(_ chart: DashboardChart, series: String, category: String, point: DashboardChart.Point) -> String {
        var text = "\(series) · \(category): \(point.value.map(chart.formatHuman) ?? "no value")"
        if let count = point.count, let noun = chart.countNoun { text += " (\(count) \(noun))" }
        return "<title>\(DashboardHTML.escape(text))</title>"
    }
}

/// Weekly curves: categories along x, values up y.
private struct LineRenderer {
    let chart: DashboardChart
    let layout: DashboardSVG.Layout

    func render() -> String {
        let font = layout.font
        let f = DashboardSVG.f
        let left = font * 4 + 12, right = 16.0
        let maxValue = chart.series.flatMap { $0.points.compactMap { $0?.value } }.max() ?? 0
        let scale = ValueScale.make(unit: chart.unit, maximum: maxValue, countUnit: chart.countUnit)

        let (legend, legendHeight) = DashboardSVG.legend(
            chart, layout: layout, x0: left, y0: 10 + font / 2,
            maxX: layout.width - right
        ) { i, x, y in
            let dash = DashboardSVG.dash(i)
            return
                "<line x1=\"\(f(x))\" y1=\"\(f(y))\" x2=\"\(f(x + 20))\" y2=\"\(f(y))\" stroke=\"\(DashboardSVG.color(chart, i))\" stroke-width=\"2.5\""
                + (dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"") + "/>"
                + "<circle cx=\"\(f(x + 10))\" cy=\"\(f(y))\" r=\"3.5\" fill=\"\(DashboardSVG.color(chart, i))\"/>"
        }
        let top = 10 + legendHeight + 10
        let plotWidth = layout.width - left - right
        let plotHeight = layout.plotHeight
        let bottom = top + plotHeight
        let height = bottom + font * 2 + 14 + font + 6
        let n = max(chart.categories.count, 1)
        func x(_ i: Int) -> Double { left + (Double(i) + 0.5) * plotWidth / Double(n) }
        // With three curves or more, each is shifted a little sideways (the same for all its
        // points), so that markers and counts of equal values sit side by side, not on top.
        let seriesCount = chart.series.count
        let dodge = seriesCount < 3 ? 0 : min(10, plotWidth / Double(n) * 0.6 / Double(seriesCount - 1))
        func x(_ i: Int, series s: Int) -> Double { x(i) + (Double(s) - Double(seriesCount - 1) / 2) * dodge }
        func y(_ v: Double) -> Double { bottom - (v - scale.min) / (scale.max - scale.min) * plotHeight }

        var out = DashboardSVG.open(chart, layout: layout, height: height)
        out += legend
        // Value axis: grid lines, tick labels, title with the unit.
        out += "<g class=\"axis axis-y\">"
        for tick in scale.ticks {
            let ty = y(tick)
            out += "<line x1=\"\(f(left))\" y1=\"\(f(ty))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(ty))\" stroke=\"#e2e5e9\"/>"
            out +=
                "<text x=\"\(f(left - 6))\" y=\"\(f(ty + font * 0.35))\" text-anchor=\"end\" fill=\"#444444\">\(scale.label(tick))</text>"
        }
        let yTitle = "\(chart.valueTitle) (\(scale.unitName))"
        out +=
            "<text class=\"axis-title\" transform=\"translate(\(f(font)) \(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\" fill=\"#222222\">\(DashboardHTML.escape(yTitle))</text>"
        out += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(bottom))\" stroke=\"#888888\"/>"
        out += "</g>"
        // Category axis: a tick and label per week (thinned when they would not fit).
        out += "<g class=\"axis axis-x\">"
        out += "<line x1=\"\(f(left))\" y1=\"\(f(bottom))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(bottom))\" stroke=\"#888888\"/>"
        let widest = chart.categories.map { DashboardSVG.textWidth($0.label, font: font) }.max() ?? 0
        let every = max(1, Int(((widest + 8) / (plotWidth / Double(n))).rounded(.up)))
        for (i, category) in chart.categories.enumerated() {
            out += "<line x1=\"\(f(x(i)))\" y1=\"\(f(bottom))\" x2=\"\(f(x(i)))\" y2=\"\(f(bottom + 4))\" stroke=\"#888888\"/>"
            if i % every == 0 {
                out +=
                    "<text x=\"\(f(x(i)))\" y=\"\(f(bottom + font + 6))\" text-anchor=\"middle\" fill=\"#444444\">\(DashboardHTML.escape(category.label))</text>"
            }
        }
        out +=
            "<text class=\"axis-title\" x=\"\(f(left + plotWidth / 2))\" y=\"\(f(bottom + font * 2 + 14))\" text-anchor=\"middle\" fill=\"#222222\">\(DashboardHTML.escape(chart.categoryTitle))</text>"
        out += "</g>"

        if !chart.hasValues {
            out +=
                "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(top + plotHeight / 2))\" text-anchor=\"middle\" fill=\"#666666\">\(DashboardHTML.escape(chart.emptyText))</text>"
        }

        // Curves: segments between consecutive points that have a value (a gap breaks the line).
        for (s, series) in chart.series.enumerated() {
            var d = ""
            var previous = false
            for (i, point) in series.points.enumerated() {
                guard let value = point?.value else {
                    previous = false
                    continue
                }
                d += "\(previous ? "L" : "M")\(f(x(i, series: s))) \(f(y(value))) "
                previous = true
            }
            guard !d.isEmpty else { continue }
            let dash = DashboardSVG.dash(s)
            out +=
                "<path class=\"curve\" data-series=\"\(DashboardHTML.escape(series.name))\" d=\"\(d.trimmingCharacters(in: .whitespaces))\" fill=\"none\" stroke=\"\(DashboardSVG.color(chart, s))\" stroke-width=\"2\""
                + (dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"") + "/>"
        }

        // Markers, then the count under each: just below its marker, or the nearest free place
        // below (above when the plot's bottom is reached) where it overlaps no other count.
        var labels: [(x: Double, pointY: Double, text: String, color: String)] = []
        out += "<g class=\"points\">"
        for (s, series) in chart.series.enumerated() {
            for (i, point) in series.points.enumerated() {
                guard let point, let value = point.value else { continue }
                let category = chart.categories[i]
                let link = series.link(i)
                if let link { out += DashboardSVG.openLink(link) }
                out +=
                    "<circle class=\"point\" cx=\"\(f(x(i, series: s)))\" cy=\"\(f(y(value)))\" r=\"\(link == nil ? "4" : "5")\" fill=\"\(DashboardSVG.color(chart, s))\" stroke=\"#ffffff\" stroke-width=\"1\""
                out += DashboardSVG.pointAttributes(
                    chart, series: series.name, categoryAttribute: "data-bucket", category: category.key, point: point)
                out += ">" + DashboardSVG.tooltip(chart, series: series.name, category: category.label, point: point) + "</circle>"
                if link != nil { out += "</a>" }
                if let count = point.count { labels.append((x(i, series: s), y(value), String(count), DashboardSVG.color(chart, s))) }
            }
        }
        out += "</g>"
        let labelFont = font * 0.8
        let lineHeight = labelFont + 1
        var placed: [(x0: Double, x1: Double, y0: Double, y1: Double)] = []
        func free(_ x0: Double, _ x1: Double, _ baseline: Double) -> Bool {
            let y0 = baseline - labelFont * 0.8, y1 = baseline + 1
            return !placed.contains { $0.x0 < x1 && x0 < $0.x1 && $0.y0 < y1 && y0 < $0.y1 }
        }
        out += "<g class=\"counts\" font-size=\"\(f(labelFont))\">"
        for label in labels.sorted(by: { ($0.x, $0.pointY) < ($1.x, $1.pointY) }) {
            let half = DashboardSVG.textWidth(label.text, font: labelFont) / 2 + 1
            let x0 = label.x - half, x1 = label.x + half
            let below = label.pointY + labelFont + 4
            var candidates = stride(from: below, through: bottom - 2, by: lineHeight).map { $0 }
            candidates += stride(from: label.pointY - 7, through: top + labelFont, by: -lineHeight).map { $0 }
            let baseline = candidates.first { free(x0, x1, $0) } ?? (below <= bottom - 2 ? below : label.pointY - 7)
            placed.append((x0, x1, baseline - labelFont * 0.8, baseline + 1))
            out +=
                "<text class=\"count\" x=\"\(f(label.x))\" y=\"\(f(baseline))\" text-anchor=\"middle\" fill=\"\(label.color)\">\(label.text)</text>"
        }
        out += "</g></svg>"
        return out
    }
}

/// Horizontal bars: categories down y, values along x.
private struct BarRenderer {
    let chart: DashboardChart
    let layout: DashboardSVG.Layout

    func render() -> String {
        let font = layout.font
        let f = DashboardSVG.f
        let stacked = chart.kind == .stackedBars
        let labelLimit = layout.name == "narrow" ? 14 : 20
        let labels = chart.categories.map { ($0.flagged ? "⚠ " : "") + DashboardSVG.truncated($0.label, labelLimit) }
        let labelWidth = labels.map { DashboardSVG.textWidth($0, font: font) }.max() ?? 0
        let left = font + 10 + labelWidth + 8
        let right = stacked ? 40.0 : 78.0
        let totals: [Double] = chart.categories.indices.map { i in
            stacked
                ? chart.series.reduce(0) { $0 + ($1.points[i]?.value ?? 0) }
                : chart.series.compactMap { $0.points[i]?.value }.max() ?? 0
        }
        let maxValue = max(totals.max() ?? 0, (chart.reference?.value ?? 0) * 1.1)
        let scale = ValueScale.make(unit: chart.unit, maximum: maxValue, countUnit: chart.countUnit)

        let (legend, legendHeight) = DashboardSVG.legend(
            chart, layout: layout, x0: left, y0: 10 + font / 2,
            maxX: layout.width - 8
        ) { i, x, y in
            "<rect x=\"\(f(x + 4))\" y=\"\(f(y - 6))\" width=\"14\" height=\"12\" fill=\"\(DashboardSVG.color(chart, i))\"/>"
        }
        let series = max(chart.series.count, 1)
        let barHeight = stacked ? font * 1.4 : font + 1
        let band = stacked ? barHeight + 12 : Double(series) * (barHeight + 3) + 10
        let top = 10 + legendHeight + (chart.reference != nil ? font + 8 : 6)
        let plotWidth = layout.width - left - right
        let plotHeight = band * Double(max(chart.categories.count, 1))
        let bottom = top + plotHeight
        let height = bottom + font * 2 + 16
        func x(_ v: Double) -> Double { left + (v - scale.min) / (scale.max - scale.min) * plotWidth }

        var out = DashboardSVG.open(chart, layout: layout, height: height)
        out += legend
        out += "<g class=\"axis axis-x\">"
        for tick in scale.ticks {
            let tx = x(tick)
            out += "<line x1=\"\(f(tx))\" y1=\"\(f(top))\" x2=\"\(f(tx))\" y2=\"\(f(bottom))\" stroke=\"#e2e5e9\"/>"
            out += "<text x=\"\(f(tx))\" y=\"\(f(bottom + font + 4))\" text-anchor=\"middle\" fill=\"#444444\">\(scale.label(tick))</text>"
        }
        out += "<line x1=\"\(f(left))\" y1=\"\(f(bottom))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(bottom))\" stroke=\"#888888\"/>"
        let xTitle = "\(chart.valueTitle) (\(scale.unitName))"
        out +=
            "<text class=\"axis-title\" x=\"\(f(left + plotWidth / 2))\" y=\"\(f(bottom + font * 2 + 10))\" text-anchor=\"middle\" fill=\"#222222\">\(DashboardHTML.escape(xTitle))</text>"
        out += "</g>"
        out += "<g class=\"axis axis-y\">"
        out += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(bottom))\" stroke=\"#888888\"/>"
        for (i, category) in chart.categories.enumerated() {
            let cy = top + band * (Double(i) + 0.5)
            out +=
                "<text x=\"\(f(left - 8))\" y=\"\(f(cy + font * 0.35))\" text-anchor=\"end\""
                + (category.flagged ? " fill=\"#B00020\" font-weight=\"bold\"" : " fill=\"#222222\"")
                + ">\(DashboardHTML.escape(labels[i]))<title>\(DashboardHTML.escape(category.label))</title></text>"
        }
        out +=
            "<text class=\"axis-title\" transform=\"translate(\(f(font)) \(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\" fill=\"#222222\">\(DashboardHTML.escape(chart.categoryTitle))</text>"
        out += "</g>"

        if !chart.hasValues {
            out +=
                "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(top + plotHeight / 2 + font * 0.35))\" text-anchor=\"middle\" fill=\"#666666\">\(DashboardHTML.escape(chart.emptyText))</text>"
        }

        out += "<g class=\"bars\">"
        for (i, category) in chart.categories.enumerated() {
            let bandTop = top + band * Double(i)
            var stackX = x(scale.min)
            for (s, ser) in chart.series.enumerated() {
                guard let point = ser.points[i] else { continue }
                let by = stacked ? bandTop + 6 : bandTop + 5 + Double(s) * (barHeight + 3)
                let attributes = DashboardSVG.pointAttributes(
                    chart, series: ser.name, categoryAttribute: "data-category",
                    category: category.key, point: point)
                let tip = DashboardSVG.tooltip(chart, series: ser.name, category: category.label, point: point)
                guard let value = point.value else {
                    // A category without a value: no bar, said in words.
                    out +=
                        "<rect class=\"bar\" x=\"\(f(x(scale.min)))\" y=\"\(f(by))\" width=\"0\" height=\"\(f(barHeight))\" fill=\"none\"\(attributes)>\(tip)</rect>"
                    out +=
                        "<text x=\"\(f(x(scale.min) + 4))\" y=\"\(f(by + barHeight * 0.75))\" fill=\"#777777\" font-size=\"\(f(font * 0.85))\">no data</text>"
                    continue
                }
                let width = max(0, x(value) - x(scale.min))
                let bx = stacked ? stackX : x(scale.min)
                let link = ser.link(i)
                if let link { out += DashboardSVG.openLink(link) }
                out +=
                    "<rect class=\"bar\" x=\"\(f(bx))\" y=\"\(f(by))\" width=\"\(f(width))\" height=\"\(f(barHeight))\" fill=\"\(DashboardSVG.color(chart, s))\"\(attributes)>\(tip)</rect>"
                if link != nil { out += "</a>" }
                if stacked {
                    stackX += width
                } else {
                    var text = chart.formatHuman(value)
                    if let count = point.count { text += " (\(count))" }
                    out +=
                        "<text class=\"value\" x=\"\(f(bx + width + 4))\" y=\"\(f(by + barHeight * 0.8))\" fill=\"#222222\" font-size=\"\(f(font * 0.85))\">\(DashboardHTML.escape(text))</text>"
                }
            }
            if stacked, chart.series.contains(where: { $0.points[i]?.value != nil }) {
                out +=
                    "<text class=\"value\" x=\"\(f(stackX + 4))\" y=\"\(f(bandTop + 6 + barHeight * 0.75))\" fill=\"#222222\" font-size=\"\(f(font * 0.85))\">\(chart.formatHuman(totals[i]))</text>"
            }
        }
        out += "</g>"
        if let reference = chart.reference {
            let rx = x(reference.value)
            out += "<g class=\"reference\" data-value=\"\(chart.formatData(reference.value))\">"
            out +=
                "<line x1=\"\(f(rx))\" y1=\"\(f(top - 4))\" x2=\"\(f(rx))\" y2=\"\(f(bottom))\" stroke=\"#B00020\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>"
            out +=
                "<text x=\"\(f(rx))\" y=\"\(f(top - 7))\" text-anchor=\"middle\" fill=\"#B00020\" font-size=\"\(f(font * 0.85))\">\(DashboardHTML.escape(reference.label))</text>"
            out += "</g>"
        }
        out += "</svg>"
        return out
    }
}
