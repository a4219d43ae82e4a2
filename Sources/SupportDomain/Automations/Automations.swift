import EventLog

/// The automatic reactions a policy turns on (issue 14): each part is off unless the policy file
/// gives it (`"automations"`). Like the input limits they are not part of ``Policy/hash``: they
/// decide what the desk writes to the log, never how the projections compute it.
public struct Automations: Hashable, Sendable {
    /// Warn before an SLA breach: an `sla.warning` once the running interval's remaining time
    /// on its target's clock is at most `leadSeconds`.
    public struct SLAWarning: Hashable, Sendable {
        /// The lead time, in seconds on the target's clock (business seconds for a business target).
        public var leadSeconds: Int64
        /// A warning `leadSeconds` before the due instant.
        public init(leadSeconds: Int64) { self.leadSeconds = leadSeconds }
    }

    /// React to a breach: move the ticket to its team's escalation team, raise its priority one
    /// step, or both.
    public struct Escalation: Hashable, Sendable {
        /// The escalation team of each team (a team not listed is not moved).
        public var teams: [String: String]
        /// Whether a breach raises the priority one step (`urgent` stays `urgent`).
        public var raisePriority: Bool
        /// Escalation to `teams`, raising the priority when `raisePriority`.
        public init(teams: [String: String] = [:], raisePriority: Bool = false) {
            self.teams = teams
            self.raisePriority = raisePriority
        }

        /// The escalation team of `team`, by code points.
        public func team(for team: String) -> String? {
            teams.first { Identifier.same($0.key, team) }?.value
        }
    }

    /// One shift of a team: who works it and when (a weekly schedule in the policy's time zone,
    /// off on the policy's holidays, with the business hours' calendar rules).
    public struct Shift: Hashable, Sendable {
        /// The shift's name, for the notes.
        public var name: String
        /// The agents on the shift.
        public var agents: [String]
        /// When the shift works.
        public var schedule: WeeklySchedule
        /// The shift `name` of `agents`, working `schedule`.
        public init(name: String, agents: [String], schedule: WeeklySchedule) {
            self.name = name
            self.agents = agents
            self.schedule = schedule
        }

        /// Whether `agent` works this shift (by code points).
        public func includes(_ agent: String) -> Bool { agents.contains { Identifier.same($0, agent) } }
    }

    /// Close `solved` tickets that heard nothing for `businessDays` business days.
    public struct AutoClose: Hashable, Sendable {
        /// The business days (local dates with business time) a solved ticket waits.
        public var businessDays: Int
        /// Closing after `businessDays`.
        public init(businessDays: Int) { self.businessDays = businessDays }
    }

    /// The warning before a breach, if on.
    public var slaWarning: SLAWarning?
    /// The reaction to a breach, if on.
    public var escalation: Escalation?
    /// The shifts of each team; a team not listed has no hand-off at shift end.
    public var shifts: [String: [Shift]]
    /// The closing of quiet solved tickets, if on.
    public var autoClose: AutoClose?

    /// Automations with the given parts; the default is all off.
    public init(slaWarning: SLAWarning? = nil, escalation: Escalation? = nil, shifts: [String: [Shift]] = [:], autoClose: AutoClose? = nil)
    {
        self.slaWarning = slaWarning
        self.escalation = escalation
        self.shifts = shifts
        self.autoClose = autoClose
    }

    /// Every automation off.
    public static let off = Automations()

    /// Whether any automation is on.
    public var isOn: Bool { slaWarning != nil || escalation != nil || !shifts.isEmpty || autoClose != nil }

    /// The shifts of `team`, by code points.
    public func shifts(of team: String) -> [Shift] {
        shifts.first { Identifier.same($0.key, team) }?.value ?? []
    }
}

extension PolicyFileReader {
    /// The `automations` key of a policy file: replaces the automations as a whole.
    static func automations(_ value: PolicyJSONValue, at path: String) throws(PolicyError) -> Automations {
        var result = Automations()
        let keys = ["slaWarning", "escalation", "shifts", "autoClose"]
        for (key, member) in try members(of: value, at: path, allowedKeys: keys) {
            let memberPath = memberPath(of: path, key: key)
            switch key {
            case "slaWarning":
                var lead: Int64?
                for (k, v) in try members(of: member, at: memberPath, allowedKeys: ["leadSeconds"]) where k == "leadSeconds" {
                    lead = try positive(v, at: self.memberPath(of: memberPath, key: k))
                }
                guard let lead else { throw missing("leadSeconds", in: memberPath) }
                result.slaWarning = .init(leadSeconds: lead)
            case "escalation":
                var escalation = Automations.Escalation()
                for (k, v) in try members(of: member, at: memberPath, allowedKeys: ["teams", "raisePriority"]) {
                    let p = self.memberPath(of: memberPath, key: k)
                    if k == "raisePriority" {
                        guard case .bool(let b) = v else { throw wrongType(at: p, expected: "true or false", found: v) }
                        escalation.raisePriority = b
                    } else {
                        guard case .object(let teams) = v else { throw wrongType(at: p, expected: "an object", found: v) }
                        _ = try members(of: v, at: p, allowedKeys: teams.map(\.key))
                        for (team, target) in teams {
                            let teamPath = self.memberPath(of: p, key: team)
                            try checkIdentifier(team, at: teamPath)
                            let escalated = try string(target, at: teamPath)
                            try checkIdentifier(escalated, at: teamPath)
                            escalation.teams[team] = escalated
                        }
                    }
                }
                result.escalation = escalation
            case "shifts":
                guard case .object(let teams) = member else { throw wrongType(at: memberPath, expected: "an object", found: member) }
                _ = try members(of: member, at: memberPath, allowedKeys: teams.map(\.key))
                for (team, list) in teams {
                    let teamPath = self.memberPath(of: memberPath, key: team)
                    try checkIdentifier(team, at: teamPath)
                    var shifts: [Automations.Shift] = []
                    for (index, element) in try array(list, at: teamPath).enumerated() {
                        shifts.append(try shift(element, at: elementPath(of: teamPath, index: index)))
                    }
                    result.shifts[team] = shifts
                }
            default:
                var days: Int64?
                for (k, v) in try members(of: member, at: memberPath, allowedKeys: ["businessDays"]) where k == "businessDays" {
                    let p = self.memberPath(of: memberPath, key: k)
                    let n = try positive(v, at: p)
                    guard n <= 366 else { throw PolicyError(kind: .invalidValue, keyPath: p, message: "must be at most 366, found \(n)") }
                    days = n
                }
                guard let days else { throw missing("businessDays", in: memberPath) }
                result.autoClose = .init(businessDays: Int(days))
            }
        }
        return result
    }

    private static func shift(_ value: PolicyJSONValue, at path: String) throws(PolicyError) -> Automations.Shift {
        var name: String?
        var agents: [String]?
        var schedule: WeeklySchedule?
        for (key, member) in try members(of: value, at: path, allowedKeys: ["name", "agents", "schedule"]) {
            let memberPath = memberPath(of: path, key: key)
            switch key {
            case "name": name = try string(member, at: memberPath)
            case "agents":
                var list: [String] = []
                for (index, element) in try array(member, at: memberPath).enumerated() {
                    let p = elementPath(of: memberPath, index: index)
                    let agent = try string(element, at: p)
                    try checkIdentifier(agent, at: p)
                    list.append(agent)
                }
                agents = list
            default: schedule = try self.schedule(member, at: memberPath)
            }
        }
        guard let agents else { throw missing("agents", in: path) }
        guard let schedule else { throw missing("schedule", in: path) }
        return Automations.Shift(name: name ?? "", agents: agents, schedule: schedule)
    }

    private static func positive(_ value: PolicyJSONValue, at path: String) throws(PolicyError) -> Int64 {
        let n = try integer(value, at: path)
        guard n >= 1 else { throw PolicyError(kind: .invalidValue, keyPath: path, message: "must be an integer >= 1, found \(n)") }
        guard n <= 10 * 365 * 86_400 else { throw PolicyError(kind: .invalidValue, keyPath: path, message: "\(n) is out of range") }
        return n
    }

    private static func checkIdentifier(_ text: String, at path: String) throws(PolicyError) {
        if let problem = Identifier.problem(with: text) {
            throw PolicyError(kind: .invalidValue, keyPath: path, message: quoted(text) + " " + problem)
        }
    }

    private static func missing(_ key: String, in path: String) -> PolicyError {
        PolicyError(kind: .missingKey, keyPath: memberPath(of: path, key: key), message: "required")
    }
}

extension Automations {
    /// The automations in the policy file's form, every part written out (`null` when off):
    /// what tells the runner that a restart runs under other automations.
    package var json: JSONValue {
        var o: [String: JSONValue] = [
            "slaWarning": slaWarning.map { .object(["leadSeconds": .int($0.leadSeconds)]) } ?? .null,
            "autoClose": autoClose.map { .object(["businessDays": .int(Int64($0.businessDays))]) } ?? .null,
        ]
        o["escalation"] =
            escalation.map { e in
                .object(["teams": .object(e.teams.mapValues(JSONValue.string)), "raisePriority": .bool(e.raisePriority)])
            } ?? .null
        o["shifts"] = .object(
            shifts.mapValues { list in
                .array(
                    list.map { shift in
                        .object([
                            "name": .string(shift.name), "agents": .array(shift.agents.map(JSONValue.string)),
                            "schedule": .object(
                                Dictionary(
                                    uniqueKeysWithValues: Weekday.allCases.map { day in
                                        (day.rawValue, JSONValue.array(shift.schedule.windows(on: day).map { .string($0.description) }))
                                    })),
                        ])
                    })
            })
        return .object(o)
    }
}
