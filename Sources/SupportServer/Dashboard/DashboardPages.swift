import EventLog
import Foundation
import SupportService

/// The dashboard's page frame, chart figures, tables, and the sign-in and error pages.
enum DashboardPages {
    /// The pages, in navigation order: path and title.
    static let navigation: [(path: String, title: String)] = [
        ("/satisfaction", "Satisfaction"), ("/response-times", "Response times"), ("/queues", "Queues"), ("/agents", "Agents"),
        ("/what-if", "What if"),
    ]

    /// A whole dashboard page: the shared frame with the dashboard's navigation.
    static func page(title: String, principal: Principal?, active: String?, refreshSeconds: Int? = nil, body: String) -> String {
        WebPage.frame(
            title: title, home: "/", principal: principal, navigationLabel: "Dashboard pages",
            navigation: navigation, active: active, refreshSeconds: refreshSeconds,
            signOut: principal == nil ? nil : WebPage.SignOut(action: "/logout", csrf: nil), body: body)
    }

    /// A chart in a card: title, subtitle, the wide and narrow SVGs, the CSV link and the data as a table.
    static func figure(_ chart: DashboardChart, csvPath: String, query: [(String, String)]) -> String {
        var out =
            "<figure class=\"card\" id=\"\(DashboardHTML.escape(chart.id))\"><figcaption><h2>\(DashboardHTML.escape(chart.title))</h2>"
        if let subtitle = chart.subtitle { out += "<p class=\"sub\">\(DashboardHTML.escape(subtitle))</p>" }
        out += "</figcaption>"
        out += DashboardSVG.render(chart, layout: DashboardSVG.wide)
        out += DashboardSVG.render(chart, layout: DashboardSVG.narrow)
        let href = csvPath + DashboardHTML.query([("chart", chart.id)] + query)
        out += "<p class=\"links\"><a href=\"\(href)\" download=\"\">Download CSV</a></p>"
        out += "<details><summary>Data table</summary><div class=\"table-wrap\">\(dataTable(chart))</div></details>"
        out += "</figure>"
        return out
    }

    /// The chart's points as a table: a row per category, a column per series.
    static func dataTable(_ chart: DashboardChart) -> String {
        var out = "<table><thead><tr><th scope=\"col\">\(DashboardHTML.escape(chart.categoryTitle))</th>"
        for s in chart.series { out += "<th scope=\"col\">\(DashboardHTML.escape(s.name))</th>" }
        out += "</tr></thead><tbody>"
        for (i, category) in chart.categories.enumerated() {
            out += "<tr><td>\(DashboardHTML.escape(category.label))</td>"
            for s in chart.series {
                guard let point = s.points[i] else {
                    out += "<td>–</td>"
                    continue
                }
                var text = point.value.map(chart.formatHuman) ?? "–"
                if let count = point.count, let noun = chart.countNoun { text += " (\(count) \(noun))" }
                if let link = s.link(i) {
                    out += "<td><a href=\"\(link)\">\(DashboardHTML.escape(text))</a></td>"
                } else {
                    out += "<td>\(DashboardHTML.escape(text))</td>"
                }
            }
            out += "</tr>"
        }
        out += "</tbody></table>"
        return out
    }

    /// A table with a header row; cells are already markup. `flagged` rows are highlighted.
    /// The first `textColumns` columns hold text (aligned left), the others numbers.
    static func table(
        id: String, caption: String?, textColumns: Int = 1, header: [String],
        rows: [(cells: [String], flagged: Bool)]
    ) -> String {
        func open(_ tag: String, _ column: Int) -> String { column < textColumns ? "<\(tag) class=\"text\"" : "<\(tag)" }
        var out = "<div class=\"table-wrap\"><table id=\"\(DashboardHTML.escape(id))\">"
        if let caption { out += "<caption hidden=\"hidden\">\(DashboardHTML.escape(caption))</caption>" }
        out +=
            "<thead><tr>"
            + header.enumerated().map { "\(open("th", $0.offset)) scope=\"col\">\(DashboardHTML.escape($0.element))</th>" }.joined()
        out += "</tr></thead><tbody>"
        for row in rows {
            out +=
                "<tr" + (row.flagged ? " class=\"flagged\"" : "") + ">"
                + row.cells.enumerated().map { "\(open("td", $0.offset))>\($0.element)</td>" }.joined() + "</tr>"
        }
        out += "</tbody></table></div>"
        return out
    }

    /// The sign-in form. `message` is shown above it (an error or a notice); the token is never echoed.
    static func signIn(message: String? = nil, isError: Bool = true, next: String?) -> String {
        var body = "<section class=\"signin\"><h1>Sign in to the dashboard</h1>"
        body +=
            "<p>For managers, auditors and administrators. Paste the access token from the tokens file; it is sent in the form, never in a link.</p>"
        if let message { body += "<p class=\"\(isError ? "error" : "notice")\" role=\"alert\">\(DashboardHTML.escape(message))</p>" }
        body += "<form method=\"post\" action=\"/login\" autocomplete=\"off\">"
        if let next { body += "<input type=\"hidden\" name=\"next\" value=\"\(DashboardHTML.escape(next))\"/>" }
        body += "<label for=\"token\">Access token</label>"
        body += "<input id=\"token\" name=\"token\" type=\"password\" required=\"required\" autocomplete=\"off\" spellcheck=\"false\"/>"
        body += "<button class=\"primary\" type=\"submit\">Sign in</button></form></section>"
        return page(title: "Sign in", principal: nil, active: nil, body: body)
    }

    /// A plain error page.
    static func error(title: String, message: String, principal: Principal?) -> String {
        var body = "<h1>\(DashboardHTML.escape(title))</h1><p class=\"error\" role=\"alert\">\(DashboardHTML.escape(message))</p>"
        body += principal == nil ? "<p><a href=\"/login\">Sign in</a></p>" : "<p><a href=\"/\">Back to the dashboard</a></p>"
        return page(title: title, principal: principal, active: nil, body: body)
    }
}
