import EventLog
import Foundation
import SupportService

/// The dashboard's page frame, chart figures, tables, and the sign-in and error pages.
enum DashboardPages {
    /// The pages, in navigation order: path and title.
    static let navigation: [(path: String, title: String)] = [
        ("/satisfaction", "Satisfaction"), ("/response-times", "Response times"), ("/queues", "Queues"), ("/agents", "Agents"),
    ]

    static let style = """
        *{box-sizing:border-box}
        body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1d2127;background:#f2f4f7}
        a{color:#0b5cad}
        header.top{background:#1f3a5f;color:#fff;display:flex;flex-wrap:wrap;align-items:center;gap:.4rem 1.2rem;padding:.55rem 1.2rem}
        header.top .brand{font-weight:700;font-size:1.1rem;color:#fff;text-decoration:none}
        header.top nav{display:flex;flex-wrap:wrap;gap:.25rem}
        header.top nav a{color:#dfe8f3;text-decoration:none;padding:.3rem .6rem;border-radius:4px}
        header.top nav a[aria-current=page]{background:#fff;color:#1f3a5f;font-weight:600}
        header.top .user{margin-left:auto;display:flex;gap:.6rem;align-items:center;font-size:.9rem}
        header.top .user form{margin:0}
        header.top button{font:inherit;background:transparent;color:#fff;border:1px solid #9fb3cc;border-radius:4px;padding:.15rem .6rem;cursor:pointer}
        main{max-width:1280px;margin:0 auto;padding:1rem 1.2rem 2rem}
        h1{font-size:1.4rem;margin:.1rem 0 .2rem}
        p.meta{margin:0 0 .8rem;color:#4a5260;font-size:.9rem}
        form.controls{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end;background:#fff;padding:.6rem .8rem;border-radius:6px;border:1px solid #dde1e6;margin:0 0 1rem}
        form.controls label{display:flex;flex-direction:column;font-size:.85rem;color:#4a5260;gap:.15rem}
        select,input,button.primary{font:inherit;padding:.3rem .5rem;border:1px solid #b8c0ca;border-radius:4px;background:#fff}
        button.primary{background:#1f3a5f;color:#fff;border-color:#1f3a5f;cursor:pointer}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:1rem;margin-bottom:1rem}
        .card{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:.8rem 1rem;margin:0;min-width:0}
        .card h2{font-size:1.05rem;margin:0}
        .card p.sub{margin:.15rem 0 .4rem;color:#4a5260;font-size:.85rem}
        .card .links{margin:.3rem 0 0;font-size:.85rem}
        svg.chart{display:block;width:100%;height:auto}
        svg.chart-narrow{display:none}
        details{margin-top:.3rem;font-size:.85rem}
        .table-wrap{overflow-x:auto}
        table{border-collapse:collapse;width:100%;font-size:.9rem;font-variant-numeric:tabular-nums}
        th,td{padding:.3rem .5rem;border-bottom:1px solid #e6e9ed;text-align:right;white-space:nowrap}
        th{background:#f6f7f9;font-weight:600}
        th:first-child,td:first-child,th.text,td.text{text-align:left}
        tr.flagged td{background:#fdecee}
        .flag{color:#b00020;font-weight:700}
        .ok{color:#1e7b34}
        .notice.ok{background:#e9f6ec;border-color:#9fd3ab}
        .notice{background:#fff4e5;border:1px solid #f0c68a;border-radius:6px;padding:.6rem .8rem}
        .error{background:#fdecee;border:1px solid #e8a3ab;border-radius:6px;padding:.6rem .8rem;color:#7a0012}
        .signin{max-width:420px;margin:3rem auto;background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:1.2rem 1.4rem}
        .signin label{display:block;font-weight:600;margin:.8rem 0 .3rem}
        .signin input{width:100%}
        .signin button{margin-top:.9rem;width:100%;padding:.5rem}
        @media (max-width:700px){
          body{font-size:14px}
          main{padding:.6rem .6rem 1.5rem}
          header.top{padding:.5rem .7rem}
          header.top{gap:.3rem .8rem}
          header.top .brand{order:1}
          header.top .user{order:2;margin-left:auto;font-size:.85rem}
          header.top nav{order:3;width:100%}
          header.top nav a{padding:.2rem .35rem;font-size:.9rem}
          .grid{grid-template-columns:1fr}
          .card{padding:.6rem .6rem}
          svg.chart-wide{display:none}
          svg.chart-narrow{display:block}
        }
        """

    /// A whole page: head (with the style and, for the queues, a refresh), the top bar with the
    /// navigation and the signed-in principal, and `body` in `main`.
    static func page(title: String, principal: Principal?, active: String?, refreshSeconds: Int? = nil, body: String) -> String {
        var out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/><link rel=\"icon\" href=\"data:,\"/>"
        if let refreshSeconds { out += "<meta http-equiv=\"refresh\" content=\"\(refreshSeconds)\"/>" }
        out += "<title>\(DashboardHTML.escape(title)) · Ledgerdesk</title><style>\(style)</style></head><body>"
        out += "<header class=\"top\"><a class=\"brand\" href=\"/\">Ledgerdesk</a>"
        if let principal {
            out += "<nav aria-label=\"Dashboard pages\">"
            for item in navigation {
                out += "<a href=\"\(item.path)\"" + (item.path == active ? " aria-current=\"page\"" : "") + ">\(item.title)</a>"
            }
            out += "</nav><div class=\"user\"><span>\(DashboardHTML.escape(principal.id)) (\(principal.role.rawValue))</span>"
            out += "<form method=\"post\" action=\"/logout\"><button type=\"submit\">Sign out</button></form></div>"
        }
        out += "</header><main>\(body)</main></body></html>\n"
        return out
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
                out += "<td>\(DashboardHTML.escape(text))</td>"
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
