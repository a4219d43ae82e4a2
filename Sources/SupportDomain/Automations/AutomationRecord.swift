import EventLog

/// The automatic reactions that record themselves with a note (SPEC §2.2 extended by issue 14;
/// the SLA warning is an event of its own, `sla.warning`).
public enum AutomationRule: String, Sendable, CaseIterable, Hashable {
    /// A running SLA interval breached: escalation and/or a priority raise.
    case slaBreach = "sla-breach"
    /// A shift ended: the tickets of its agents go back to the team queue.
    case shiftEnd = "shift-end"
    /// A solved ticket heard nothing for the policy's business days: closed.
    case autoClose = "auto-close"
}

/// The `automation` member of a `note.added` written by `system`: which reaction the note and
/// the events appended with it are, and the instant it was due at (it may run later, after a
/// restart; the event's `at` is when it was decided).
public struct AutomationRecord: Sendable, Hashable {
    /// The reaction.
    public var rule: AutomationRule
    /// When the reaction was due.
    public var due: Timestamp
    /// The breached interval's target (``AutomationRule/slaBreach`` only).
    public var target: SLAMetric?

    /// The record of `rule`, due at `due`, about `target` (SLA breaches only).
    public init(rule: AutomationRule, due: Timestamp, target: SLAMetric? = nil) {
        self.rule = rule
        self.due = due
        self.target = target
    }

    var json: JSONValue {
        var o: [String: JSONValue] = ["rule": .string(rule.rawValue), "due": .string(due.rfc3339)]
        if let target { o["target"] = .string(target.rawValue) }
        return .object(o)
    }
}
