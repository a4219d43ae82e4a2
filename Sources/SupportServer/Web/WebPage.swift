import SupportService

/// The frame every web page shares: the head (the one stylesheet, an optional script and
/// refresh), a skip link, the top bar with the navigation and the signed-in principal, and the
/// page's body in `main`.
enum WebPage {
    /// The sign-out form of the top bar.
    struct SignOut {
        var action: String
        /// The session's CSRF token, for the console's form (the dashboard's has none).
        var csrf: String?
    }

    static func frame(
        title: String, home: String, principal: Principal?, navigationLabel: String,
        navigation: [(path: String, title: String)], active: String?, refreshSeconds: Int? = nil,
        refreshOnlyWithoutScript: Bool = false, signOut: SignOut?, script: String? = nil, body: String
    ) -> String {
        var out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/><link rel=\"icon\" href=\"data:,\"/>"
        if let refreshSeconds {
            let meta = "<meta http-equiv=\"refresh\" content=\"\(refreshSeconds)\"/>"
            // With the script on, it refreshes the page's content in place instead.
            out += refreshOnlyWithoutScript ? "<noscript>\(meta)</noscript>" : meta
        }
        out += "<title>\(DashboardHTML.escape(title)) · Ledgerdesk</title>"
        out += "<link rel=\"stylesheet\" href=\"\(WebStyle.path)\"/>"
        if let script { out += "<script src=\"\(DashboardHTML.escape(script))\" defer=\"defer\"></script>" }
        out += "</head><body><a class=\"skip\" href=\"#main\">Skip to content</a>"
        out += "<header class=\"top\"><a class=\"brand\" href=\"\(DashboardHTML.escape(home))\">Ledgerdesk</a>"
        if let principal {
            out += "<nav aria-label=\"\(DashboardHTML.escape(navigationLabel))\">"
            for item in navigation {
                out += "<a href=\"\(item.path)\"" + (item.path == active ? " aria-current=\"page\"" : "") + ">\(item.title)</a>"
            }
            out += "</nav><div class=\"user\"><span>\(DashboardHTML.escape(principal.id)) (\(principal.role.rawValue))</span>"
            if let signOut {
                out += "<form method=\"post\" action=\"\(signOut.action)\">"
                if let csrf = signOut.csrf { out += "<input type=\"hidden\" name=\"csrf\" value=\"\(csrf)\"/>" }
                out += "<button type=\"submit\">Sign out</button></form>"
            }
            out += "</div>"
        }
        out += "</header><main id=\"main\">\(body)</main></body></html>\n"
        return out
    }
}
