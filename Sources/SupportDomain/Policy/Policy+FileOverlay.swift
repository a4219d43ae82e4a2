import EventLog
import Foundation

extension Policy {
    /// Returns this policy with a policy file laid over it.
    ///
    /// The file is a JSON object whose keys are all optional:
    ///
    /// ```json
    /// {"timeZone": "Europe/Paris",
    ///  "schedule": {"mon": ["08:00-12:00", "13:00-19:00"], "sat": ["09:00-17:00"]},
    ///  "holidays": ["2026-05-01"], "capacity": 25,
    ///  "targets": {"high": {"firstReply": {"seconds": 14400, "clock": "business"},
    ///                       "nextReply": null}}}
    /// ```
    ///
    /// - `timeZone` replaces the zone; it must be a known IANA identifier.
    /// - `schedule` replaces the whole week: days left out (`mon` … `sun`) are closed. Each window
    ///   is `HH:MM-HH:MM`, ends at most at `24:00`, never crosses midnight, and must not overlap
    ///   another window of its day.
    /// - `holidays` replaces the holidays with `YYYY-MM-DD` dates.
    /// - `capacity` replaces the capacity with an integer `>= 0`.
    /// - `targets` replaces targets one by one: each given `priority.metric` is set to
    ///   `{"seconds": <integer > 0>, "clock": "calendar" | "business"}`, or removed by `null`;
    ///   targets not mentioned keep their value.
    /// - `limits` replaces input limits one by one (`{"subject": 500, "body": 65536}`): each
    ///   key of `InputLimits.keys` given is set to an integer `>= 1`; limits not mentioned keep
    ///   their value. Limits are not part of ``hash``.
    /// - `automations` replaces the automatic reactions as a whole (each part off when absent):
    ///   `{"slaWarning": {"leadSeconds"}, "escalation": {"teams": {team: team}, "raisePriority"},
    ///   "shifts": {team: [{"name", "agents", "schedule"}]}, "autoClose": {"businessDays"}}`
    ///   (docs/automations.md). Not part of ``hash`` either.
    ///
    /// Unknown or repeated keys, values of the wrong type and invalid values are errors that
    /// name the offending key path.
    public func overlaid(withJSON jsonData: Data) throws(PolicyError) -> Policy {
        let document: PolicyJSONValue
        do {
            document = PolicyJSONValue(try JSONParser.parse(Array(jsonData)))
        } catch {
            throw PolicyError(kind: .malformedJSON, keyPath: "", message: "invalid JSON: \(error)")
        }
        var policy = self
        let topLevelKeys = ["timeZone", "schedule", "holidays", "capacity", "targets", "limits", "automations"]
        for (key, value) in try PolicyFileReader.members(of: document, at: "", allowedKeys: topLevelKeys) {
            let path = PolicyFileReader.memberPath(of: "", key: key)
            switch key {
            case "timeZone": policy.timeZoneIdentifier = try PolicyFileReader.timeZoneIdentifier(value, at: path)
            case "schedule": policy.schedule = try PolicyFileReader.schedule(value, at: path)
            case "holidays": policy.holidays = try PolicyFileReader.holidays(value, at: path)
            case "capacity": policy.capacity = try PolicyFileReader.capacity(value, at: path)
            case "limits": try PolicyFileReader.overlayLimits(value, at: path, onto: &policy.limits)
            case "automations": policy.automations = try PolicyFileReader.automations(value, at: path)
            default: try PolicyFileReader.overlayTargets(value, at: path, onto: &policy.targets)
            }
        }
        return policy
    }
}

/// Reads the parts of a policy file, turning every problem into a ``PolicyError`` with its key path.
enum PolicyFileReader {
    // MARK: Key paths and quoting

    /// `parent.key`, or `parent["key"]` when the key is not a plain identifier.
    static func memberPath(of parent: String, key: String) -> String {
        let isIdentifier =
            key.utf8.first.map { !isDigit($0) } == true
            && key.utf8.allSatisfy { byte in
                isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
                    || byte == UInt8(ascii: "_")
            }
        if isIdentifier { return parent.isEmpty ? key : parent + "." + key }
        return parent + "[" + quoted(key) + "]"
    }

    /// `parent[index]`.
    static func elementPath(of parent: String, index: Int) -> String {
        parent + "[" + String(index) + "]"
    }

    /// The text in double quotes, with quotes, backslashes and control characters escaped.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    // MARK: Generic shapes

    /// The members of an object, checked for unknown and repeated keys.
    static func members(
        of value: PolicyJSONValue,
        at path: String,
        allowedKeys: [String]
    ) throws(PolicyError) -> [(key: String, value: PolicyJSONValue)] {
        guard case let .object(members) = value else {
            throw wrongType(at: path, expected: "an object", found: value)
        }
        var seen = Set<String>()
        for (key, _) in members {
            let keyPath = memberPath(of: path, key: key)
            guard allowedKeys.contains(key) else {
                throw PolicyError(
                    kind: .unknownKey,
                    keyPath: keyPath,
                    message: "unknown key (expected one of " + allowedKeys.joined(separator: ", ") + ")"
                )
            }
            guard seen.insert(key).inserted else {
                throw PolicyError(kind: .duplicateKey, keyPath: keyPath, message: "duplicate key")
            }
        }
        return members
    }

    static func wrongType(at path: String, expected: String, found value: PolicyJSONValue) -> PolicyError {
        PolicyError(kind: .wrongType, keyPath: path, message: "expected \(expected), found \(value.typeDescription)")
    }

    static func string(_ value: PolicyJSONValue, at path: String) throws(PolicyError) -> String {
        guard case let .string(text) = value else { throw wrongType(at: path, expected: "a string", found: value) }
        return text
    }

    static func array(_ value: PolicyJSONValue, at path: String) throws(PolicyError) -> [PolicyJSONValue] {
        guard case let .array(elements) = value else { throw wrongType(at: path, expected: "an array", found: value) }
        return elements
    }

    /// An integer written without fraction or exponent that fits in `Int64`.
    static func integer(_ value: PolicyJSONValue, at path: String) throws(PolicyError) -> Int64 {
        guard case let .number(text) = value else { throw wrongType(at: path, expected: "an integer", found: value) }
        guard !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else {
            throw PolicyError(kind: .wrongType, keyPath: path, message: "expected an integer, found \(text)")
        }
        guard let integer = Int64(text) else {
            throw PolicyError(kind: .invalidValue, keyPath: path, message: "\(text) is out of range")
        }
        return integer
    }

    // MARK: Top-level keys

    static func timeZoneIdentifier(_ value: PolicyJSONValue, at path: String) throws(PolicyError) -> String {
        let identifier = try string(value, at: path)
        guard IANATimeZone.named(identifier) != nil else {
            throw PolicyError(
                kind: .invalidValue,
                keyPath: path,
                message: quoted(identifier) + " is not a known IANA time zone"
            )
        }
        return identifier
    }

    static func schedule(_ value: PolicyJSONValue, at path: String) throws(PolicyError) -> WeeklySchedule {
        var windowsByDay: [Weekday: [DailyWindow]] = [:]
        for (key, dayValue) in try members(of: value, at: path, allowedKeys: Weekday.allCases.map(\.rawValue)) {
            let dayPath = memberPath(of: path, key: key)
            guard let weekday = Weekday(rawValue: key) else { continue }
            windowsByDay[weekday] = try dayWindows(dayValue, at: dayPath)
        }
        do {
            return try WeeklySchedule(windowsByDay)
        } catch {
            throw PolicyError(kind: .invalidValue, keyPath: path, message: error.description)
        }
    }

    private static func dayWindows(_ value: PolicyJSONValue, at path: String) throws(PolicyError) -> [DailyWindow] {
        var windows: [DailyWindow] = []
        for (index, element) in try array(value, at: path).enumerated() {
            let elementPath = elementPath(of: path, index: index)
            let text = try string(element, at: elementPath)
            let window: DailyWindow
            do {
                window = try DailyWindow(parsing: text)
            } catch {
                throw PolicyError(kind: .invalidValue, keyPath: elementPath, message: quoted(text) + " " + error.description)
            }
            if let earlierIndex = windows.firstIndex(where: { $0.overlaps(window) }) {
                throw PolicyError(
                    kind: .invalidValue,
                    keyPath: elementPath,
                    message: quoted(text) + " overlaps " + quoted(windows[earlierIndex].description)
                        + " (" + self.elementPath(of: path, index: earlierIndex) + ")"
                )
            }
            windows.append(window)
        }
        return windows
    }

    static func holidays(_ value: PolicyJSONValue, at path: String) throws(PolicyError) -> Set<LocalDate> {
        var dates = Set<LocalDate>()
        for (index, element) in try array(value, at: path).enumerated() {
            let elementPath = elementPath(of: path, index: index)
            let text = try string(element, at: elementPath)
            guard let date = LocalDate(iso8601: text) else {
                throw PolicyError(
                    kind: .invalidValue,
                    keyPath: elementPath,
                    message: quoted(text) + " is not a valid date (expected YYYY-MM-DD)"
                )
            }
            dates.insert(date)
        }
        return dates
    }

    static func capacity(_ value: PolicyJSONValue, at path: String) throws(PolicyError) -> Int {
        let capacity = try integer(value, at: path)
        guard capacity >= 0 else {
            throw PolicyError(kind: .invalidValue, keyPath: path, message: "must be an integer >= 0, found \(capacity)")
        }
        guard let result = Int(exactly: capacity) else {
            throw PolicyError(kind: .invalidValue, keyPath: path, message: "\(capacity) is out of range")
        }
        return result
    }

    // MARK: Limits

    static func overlayLimits(_ value: PolicyJSONValue, at path: String, onto limits: inout InputLimits) throws(PolicyError) {
        for (key, member) in try members(of: value, at: path, allowedKeys: InputLimits.keys) {
            guard let field = InputLimits.Field(rawValue: key) else { continue }
            let memberPath = memberPath(of: path, key: key)
            let limit = try integer(member, at: memberPath)
            guard limit >= 1 else {
                throw PolicyError(kind: .invalidValue, keyPath: memberPath, message: "must be an integer >= 1, found \(limit)")
            }
            guard let result = Int(exactly: limit) else {
                throw PolicyError(kind: .invalidValue, keyPath: memberPath, message: "\(limit) is out of range")
            }
            limits[field] = result
        }
    }

    // MARK: Targets

    static func overlayTargets(
        _ value: PolicyJSONValue,
        at path: String,
        onto targets: inout SLATargetTable
    ) throws(PolicyError) {
        let priorityKeys = Priority.allCases.map(\.rawValue)
        let metricKeys = SLAMetric.allCases.map(\.rawValue)
        for (priorityKey, priorityValue) in try members(of: value, at: path, allowedKeys: priorityKeys) {
            let priorityPath = memberPath(of: path, key: priorityKey)
            guard let priority = Priority(rawValue: priorityKey) else { continue }
            for (metricKey, targetValue) in try members(of: priorityValue, at: priorityPath, allowedKeys: metricKeys) {
                guard let metric = SLAMetric(rawValue: metricKey) else { continue }
                targets[priority, metric] = try target(targetValue, at: memberPath(of: priorityPath, key: metricKey))
            }
        }
    }

    /// A target object, or `nil` for JSON `null` (which removes the target).
    private static func target(_ value: PolicyJSONValue, at path: String) throws(PolicyError) -> SLATarget? {
        if case .null = value { return nil }
        guard case .object = value else { throw wrongType(at: path, expected: "an object or null", found: value) }
        var seconds: Int64?
        var clock: SLAClock?
        for (key, member) in try members(of: value, at: path, allowedKeys: ["seconds", "clock"]) {
            let memberPath = memberPath(of: path, key: key)
            if key == "seconds" {
                seconds = try targetSeconds(member, at: memberPath)
            } else {
                let text = try string(member, at: memberPath)
                guard let parsed = SLAClock(rawValue: text) else {
                    throw PolicyError(
                        kind: .invalidValue,
                        keyPath: memberPath,
                        message: quoted(text) + " is not a clock (expected \"calendar\" or \"business\")"
                    )
                }
                clock = parsed
            }
        }
        guard let seconds else { throw PolicyError(kind: .missingKey, keyPath: path, message: "missing key \"seconds\"") }
        guard let clock else { throw PolicyError(kind: .missingKey, keyPath: path, message: "missing key \"clock\"") }
        return SLATarget(validatedSeconds: seconds, clock: clock)
    }

    private static func targetSeconds(_ value: PolicyJSONValue, at path: String) throws(PolicyError) -> Int64 {
        let seconds = try integer(value, at: path)
        guard seconds > 0 else {
            throw PolicyError(kind: .invalidValue, keyPath: path, message: "must be an integer > 0, found \(seconds)")
        }
        guard seconds <= SLATarget.maximumSeconds else {
            throw PolicyError(
                kind: .invalidValue,
                keyPath: path,
                message: "\(seconds) is too large (at most \(SLATarget.maximumSeconds))"
            )
        }
        return seconds
    }
}
