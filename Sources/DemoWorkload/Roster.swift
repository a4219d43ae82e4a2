import EventLog
import SupportDomain

/// The people and automations that act on tickets: agents grouped by team and working in
/// shifts, managers, an administrator, and the system's automations.
struct Roster {
    /// When an agent works on weekdays (Saturday and on-call duty rotate weekly in each team).
    enum Shift { case early, late, fullDay }

    struct Agent {
        let actor: SupportActor
        let team: Team
        let position: Int
        let shift: Shift
    }

    let agents: [Agent]
    private let membersByTeam: [[Int]]

    let managers = [SupportActor(kind: .manager, id: "sophie"), SupportActor(kind: .manager, id: "marc")]
    let admin = SupportActor(kind: .admin, id: "ops-admin")
    /// Assigns and tags new tickets; rebalances at shift change.
    let router = SupportActor(kind: .system, id: "router")
    /// Solves tickets left pending without an answer.
    let autoSolver = SupportActor(kind: .system, id: "autosolve")
    /// Closes solved tickets a few days later.
    let autoCloser = SupportActor(kind: .system, id: "autoclose")
    /// Opens tickets for failing customer servers and pages the on-call engineer.
    let monitoring = SupportActor(kind: .system, id: "monitoring")

    private static let names = [
        "amelie", "bruno", "chloe", "damien", "emma", "farid", "gaelle", "hugo",
        "ines", "jules", "karim", "léa", "manon", "nicolas", "oceane", "pierre",
        "quentin", "rose", "sacha", "theo", "ulysse", "valentine", "william", "xavier",
        "yasmine", "zoe", "anais", "baptiste", "camille", "dorian", "elodie", "florian",
    ]

    /// Which team the i-th agent joins: the four product teams get three agents each in every
    /// group of sixteen, the second-level teams one each.
    private static let teamPattern: [Team] = [
        .domains, .hosting, .vps, .email, .hosting, .vps, .email, .domains,
        .hosting, .vps, .email, .domains, .vpsL2, .hostingL2, .abuse, .billing,
    ]

    init(agentCount: Int) {
        let count = max(1, agentCount)
        var members = [[Int]](repeating: [], count: Team.allCases.count)
        for index in 0..<count {
            members[Self.teamPattern[index % Self.teamPattern.count].rawValue].append(index)
        }
        var agents: [Agent] = []
        for index in 0..<count {
            let team = Self.teamPattern[index % Self.teamPattern.count]
            let teamMembers = members[team.rawValue]
            let position = teamMembers.firstIndex(of: index) ?? 0
            let shift: Shift = teamMembers.count == 1 ? .fullDay : (position % 2 == 0 ? .early : .late)
            let name = Self.names[index % Self.names.count]
            let id = index < Self.names.count ? name : "\(name)-\(index / Self.names.count + 1)"
            agents.append(Agent(actor: SupportActor(kind: .agent, id: id), team: team, position: position, shift: shift))
        }
        self.agents = agents
        let everyone = Array(0..<count)
        membersByTeam = members.map { $0.isEmpty ? everyone : $0 }
    }

    /// The agents who work `team`'s queue (everyone, when the team has no agent of its own).
    func members(of team: Team) -> [Int] { membersByTeam[team.rawValue] }

    /// Whether `agent` is at work at local time `local` (business hours only).
    func isOnDuty(_ agent: Int, at local: LocalTime) -> Bool {
        let member = agents[agent]
        let time = local.millisOfDay
        switch local.weekday {
        case 0...4:
            switch member.shift {
            case .early: return time >= 8 * Millis.hour && time < 14 * Millis.hour
            case .late: return time >= 13 * Millis.hour && time < 19 * Millis.hour
            case .fullDay: return time >= 8 * Millis.hour && time < 19 * Millis.hour
            }
        case 5:
            let size = Int64(members(of: member.team).count)
            return time >= 9 * Millis.hour && time < 17 * Millis.hour
                && Int64(member.position) == local.week.floorModulo(size)
        default:
            return false
        }
    }

    /// A random agent of `team` on duty at `instant`, if any.
    func onDuty(_ team: Team, at instant: Int64, _ random: inout SeededRandom) -> Int? {
        let local = DeskClock.paris.local(instant)
        let candidates = members(of: team)
        var count = 0
        for agent in candidates where isOnDuty(agent, at: local) { count += 1 }
        guard count > 0 else { return nil }
        var chosen = random.below(count)
        for agent in candidates where isOnDuty(agent, at: local) {
            if chosen == 0 { return agent }
            chosen -= 1
        }
        return nil
    }

    /// The agent of `team` on call this week (answers urgent tickets out of hours).
    func onCall(_ team: Team, at instant: Int64) -> Int {
        let candidates = members(of: team)
        let week = DeskClock.paris.local(instant).week
        return candidates[Int((week + 1).floorModulo(Int64(candidates.count)))]
    }

    /// Who of `team` picks a ticket up at `instant`: an agent on duty, else the one on call.
    func responder(_ team: Team, at instant: Int64, _ random: inout SeededRandom) -> Int {
        onDuty(team, at: instant, &random) ?? onCall(team, at: instant)
    }
}
