import EventLog
import Foundation
import Projections
import SupportDomain

/// The What if page's form: the policy's time zone, weekly hours, holidays, capacity and the
/// 4 × 3 targets table, plus the metrics' weeks, grouping, clock and bucket. Read from the
/// page's query parameters (a GET form: a what-if changes nothing) or prefilled with the
/// current policy; written as the policy file overlay the what-if runs (SPEC §6: laid over the
/// built-in policy, as `supportd --policy` lays a file).
struct WhatIfForm: Sendable {
    var timeZone: String
    /// Per weekday in ISO order: `HH:MM-HH:MM` windows separated by commas or spaces.
    var hours: [String]
    /// `YYYY-MM-DD` dates separated by commas, spaces or lines.
    var holidays: String
    var capacity: String
    /// By priority (most urgent first) then metric: seconds (empty: no target) and clock.
    var targets: [Priority: [SLAMetric: (seconds: String, clock: SLAClock)]]
    var weeks: Int
    var groupBy: GroupBy
    var clock: SLAClock
    var bucket: BucketUnit

    static let days: [(day: Weekday, name: String)] = [
        (.monday, "Monday"), (.tuesday, "Tuesday"), (.wednesday, "Wednesday"), (.thursday, "Thursday"),
        (.friday, "Friday"), (.saturday, "Saturday"), (.sunday, "Sunday"),
    ]
    static let defaultGroupBy = GroupBy.priority

    static func secondsField(_ priority: Priority, _ metric: SLAMetric) -> String { "\(priority.rawValue).\(metric.rawValue)" }
    static func clockField(_ priority: Priority, _ metric: SLAMetric) -> String { "\(priority.rawValue).\(metric.rawValue).clock" }

    /// Every parameter the page reads; `run` is the submit button (without it: the form only).
    static let parameters: Set<String> = {
        var names: Set<String> = ["run", "timeZone", "holidays", "capacity", "weeks", "groupBy", "clock", "bucket"]
        for d in days { names.insert(d.day.rawValue) }
        for p in Priority.allCases {
            for m in SLAMetric.allCases {
                names.insert(secondsField(p, m))
                names.insert(clockField(p, m))
            }
        }
        return names
    }()

    /// The form prefilled with `policy`.
    init(policy: Policy) {
        timeZone = policy.timeZoneIdentifier
        hours = Self.days.map { d in policy.schedule.windows(on: d.day).map(\.description).joined(separator: ", ") }
        holidays = policy.holidays.sorted().map(\.description).joined(separator: ", ")
        capacity = String(policy.capacity)
        targets = [:]
        for p in Priority.allCases {
            for m in SLAMetric.allCases {
                let target = policy.targets[p, m]
                targets[p, default: [:]][m] = (target.map { String($0.seconds) } ?? "", target?.clock ?? .business)
            }
        }
        weeks = DashboardPeriod.defaultWeeks
        groupBy = Self.defaultGroupBy
        clock = .calendar
        bucket = .week
    }

    /// The form as submitted; a field left out keeps the current policy's value. Choices that
    /// are not among the options are 400 (the form never sends them).
    init(_ query: QueryParameters, current policy: Policy) throws(Problem) {
        self.init(policy: policy)
        if let v = query.string("timeZone") { timeZone = v.trimmingCharacters(in: .whitespaces) }
        for (i, d) in Self.days.enumerated() { if let v = query.string(d.day.rawValue) { hours[i] = v } }
        if let v = query.string("holidays") { holidays = v }
        if let v = query.string("capacity") { capacity = v.trimmingCharacters(in: .whitespaces) }
        for p in Priority.allCases {
            for m in SLAMetric.allCases {
                if let v = query.string(Self.secondsField(p, m)) { targets[p]?[m]?.seconds = v.trimmingCharacters(in: .whitespaces) }
                if let c = try query.enumeration(Self.clockField(p, m), SLAClock.self) { targets[p]?[m]?.clock = c }
            }
        }
        weeks = try query.integer("weeks", in: DashboardPeriod.weekRange) ?? DashboardPeriod.defaultWeeks
        groupBy = try query.enumeration("groupBy", GroupBy.self) ?? Self.defaultGroupBy
        clock = try query.enumeration("clock", SLAClock.self) ?? .calendar
        bucket = try query.enumeration("bucket", BucketUnit.self) ?? .week
    }

    /// A mistake in the form: the field's label and what is wrong.
    struct Mistake: Error, Sendable {
        var field: String
        var message: String
        var text: String { "\(field): \(message)" }
    }

    private static func items(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" || $0 == ";" }).map(String.init)
    }

    /// The policy file overlay (canonical JSON) the form describes.
    func overlay() throws(Mistake) -> [UInt8] {
        var members: [String: JSONValue] = [:]
        members["timeZone"] = .string(timeZone)
        var schedule: [String: JSONValue] = [:]
        for (i, d) in Self.days.enumerated() {
            let windows = Self.items(hours[i])
            if !windows.isEmpty { schedule[d.day.rawValue] = .array(windows.map { .string($0) }) }
        }
        members["schedule"] = .object(schedule)
        members["holidays"] = .array(Self.items(holidays).map { .string($0) })
        guard !capacity.isEmpty, capacity.utf8.allSatisfy({ (48...57).contains($0) }), let c = Int64(capacity) else {
            throw Mistake(field: "Capacity", message: "a whole number of tickets, 0 or more (not \"\(capacity)\")")
        }
        members["capacity"] = .int(c)
        var table: [String: JSONValue] = [:]
        for p in Priority.allCases {
            var row: [String: JSONValue] = [:]
            for m in SLAMetric.allCases {
                guard let cell = targets[p]?[m] else { continue }
                if cell.seconds.isEmpty {
                    row[m.rawValue] = .null
                    continue
                }
                guard cell.seconds.utf8.allSatisfy({ (48...57).contains($0) }), let s = Int64(cell.seconds), s > 0 else {
                    throw Mistake(
                        field: "Target \(p.rawValue) \(DashboardData.metricName(m).lowercased())",
                        message: "a whole number of seconds above 0, or empty for no target (not \"\(cell.seconds)\")")
                }
                row[m.rawValue] = .object(["seconds": .int(s), "clock": .string(cell.clock.rawValue)])
            }
            table[p.rawValue] = .object(row)
        }
        members["targets"] = .object(table)
        let bytes = CanonicalJSON.encode(.object(members))
        // The policy's own reader judges the rest; its key path names the field.
        let policy: Policy
        do { policy = try Policy.parse(jsonData: Data(bytes)) } catch {
            throw Mistake(field: Self.label(keyPath: error.keyPath), message: error.message)
        }
        do { _ = try ServiceLevels(policy: policy) } catch { throw Mistake(field: "Time zone", message: "\(error)") }
        return bytes
    }

    /// The form's label of a policy file key path (`schedule.mon[1]` → `Monday hours`).
    static func label(keyPath: String) -> String {
        if keyPath.hasPrefix("timeZone") { return "Time zone" }
        if keyPath.hasPrefix("holidays") { return "Holidays" }
        if keyPath.hasPrefix("capacity") { return "Capacity" }
        if keyPath.hasPrefix("schedule") {
            for d in days where keyPath.hasPrefix("schedule.\(d.day.rawValue)") { return "\(d.name) hours" }
            return "Business hours"
        }
        if keyPath.hasPrefix("targets") {
            for p in Priority.allCases {
                for m in SLAMetric.allCases where keyPath.hasPrefix("targets.\(p.rawValue).\(m.rawValue)") {
                    return "Target \(p.rawValue) \(DashboardData.metricName(m).lowercased())"
                }
            }
            return "Targets"
        }
        return keyPath.isEmpty ? "Policy" : keyPath
    }

    /// The form's query items (to repeat the what-if in links: the CSV downloads).
    var queryItems: [(String, String)] {
        var items: [(String, String)] = [("run", "1"), ("timeZone", timeZone)]
        for (i, d) in Self.days.enumerated() { items.append((d.day.rawValue, hours[i])) }
        items += [("holidays", holidays), ("capacity", capacity)]
        for p in DashboardData.priorities {
            for m in SLAMetric.allCases {
                guard let cell = targets[p]?[m] else { continue }
                items += [(Self.secondsField(p, m), cell.seconds), (Self.clockField(p, m), cell.clock.rawValue)]
            }
        }
        items += [("weeks", String(weeks)), ("groupBy", groupBy.rawValue), ("clock", clock.rawValue), ("bucket", bucket.rawValue)]
        return items
    }

    /// The form's markup (GET to `/what-if`).
    var html: String {
        func e(_ s: String) -> String { DashboardHTML.escape(s) }
        func select<E: RawRepresentable & CaseIterable>(_ name: String, _ value: E, label: String? = nil) -> String
        where E.RawValue == String {
            var out = "<select name=\"\(e(name))\" id=\"\(e(name))\"" + (label.map { " aria-label=\"\(e($0))\"" } ?? "") + ">"
            for c in E.allCases {
                out +=
                    "<option value=\"\(c.rawValue)\"" + (c.rawValue == value.rawValue ? " selected=\"selected\"" : "")
                    + ">\(c.rawValue)</option>"
            }
            return out + "</select>"
        }
        var out = "<form class=\"whatif\" method=\"get\" action=\"/what-if\">"
        out += "<section class=\"card spaced\"><h2>Proposed policy</h2>"
        out +=
            "<p class=\"sub\">Prefilled with the current policy. Hours as HH:MM-HH:MM windows separated by commas (empty: closed); holidays as YYYY-MM-DD dates; targets in seconds (empty: no target).</p>"
        out +=
            "<div class=\"fields\"><label for=\"timeZone\">Time zone</label><input id=\"timeZone\" name=\"timeZone\" type=\"text\" value=\"\(e(timeZone))\"/>"
        out +=
            "<label for=\"capacity\">Capacity</label><input id=\"capacity\" name=\"capacity\" type=\"text\" inputmode=\"numeric\" value=\"\(e(capacity))\"/>"
        for (i, d) in Self.days.enumerated() {
            let name = d.day.rawValue
            out +=
                "<label for=\"\(name)\">\(d.name) hours</label><input id=\"\(name)\" name=\"\(name)\" type=\"text\" value=\"\(e(hours[i]))\"/>"
        }
        out +=
            "<label for=\"holidays\">Holidays</label><textarea id=\"holidays\" name=\"holidays\" rows=\"2\">\(e(holidays))</textarea></div>"
        out +=
            "<div class=\"table-wrap\"><table id=\"targets-form\"><caption hidden=\"hidden\">SLA targets</caption><thead><tr><th scope=\"col\" class=\"text\">Priority</th>"
        for m in SLAMetric.allCases { out += "<th scope=\"col\">\(e(DashboardData.metricName(m))) (s, clock)</th>" }
        out += "</tr></thead><tbody>"
        for p in DashboardData.priorities {
            out += "<tr><th scope=\"row\" class=\"text\">\(p.rawValue)</th>"
            for m in SLAMetric.allCases {
                let cell = targets[p]?[m] ?? ("", .business)
                let field = Self.secondsField(p, m)
                let label = "\(p.rawValue) \(DashboardData.metricName(m).lowercased())"
                out +=
                    "<td><input name=\"\(field)\" type=\"text\" inputmode=\"numeric\" size=\"7\" aria-label=\"\(e(label)) seconds\" value=\"\(e(cell.seconds))\"/> "
                    + select(Self.clockField(p, m), cell.clock, label: "\(label) clock") + "</td>"
            }
            out += "</tr>"
        }
        out += "</tbody></table></div></section>"
        out += "<div class=\"controls\">"
        out += "<label>Weeks <select name=\"weeks\">"
        var choices = DashboardContentBuilder.weekChoices
        if !choices.contains(weeks) { choices = (choices + [weeks]).sorted() }
        for n in choices { out += "<option value=\"\(n)\"" + (n == weeks ? " selected=\"selected\"" : "") + ">\(n)</option>" }
        out += "</select></label>"
        out += "<label>Group by " + select("groupBy", groupBy) + "</label>"
        out += "<label>Clock " + select("clock", clock) + "</label>"
        out += "<label>Bucket " + select("bucket", bucket) + "</label>"
        out += "<button class=\"primary\" type=\"submit\" name=\"run\" value=\"1\">Compare with the current policy</button></div>"
        out += "</form>"
        return out
    }
}
