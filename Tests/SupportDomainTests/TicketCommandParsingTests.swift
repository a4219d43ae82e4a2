import EventLog
import Testing

@testable import SupportDomain

/// SPEC §7: a command's body is its event's data plus `at` (admin only) and, on /messages from an
/// agent, `status`; 403 answers before 400.
@Suite("Ticket command parsing")
struct TicketCommandParsingTests {
    typealias F = TicketFixture

    private func parse(_ route: CommandRoute, _ body: String, as actor: SupportActor) throws -> TicketCommand {
        try TicketCommand.parse(route: route, body: try F.json(body), actor: actor, limits: .default)
    }

    private func refusal(_ route: CommandRoute, _ body: String, as actor: SupportActor) throws -> DomainError.Kind? {
        let value = try F.json(body)
        return F.refusalKind { try TicketCommand.parse(route: route, body: value, actor: actor, limits: .default) }
    }

    @Test func everyRouteAsksForItsEventType() throws {
        let bodies: [(CommandRoute, String, TicketEvent.Kind)] = [
            (.open, F.openingData(), .opened),
            (.messages, #"{"body":"b"}"#, .messagePosted),
            (.notes, #"{"body":"b"}"#, .noteAdded),
            (.assign, #"{"agent":"bob"}"#, .assigned),
            (.priority, #"{"priority":"low"}"#, .priorityChanged),
            (.status, #"{"status":"pending"}"#, .statusChanged),
            (.escalate, #"{"team":"t","reason":"r"}"#, .escalated),
            (.tags, #"{"added":["x"]}"#, .tagsChanged),
            (.merge, #"{"into":"T-2"}"#, .merged),
            (.rating, #"{"score":4}"#, .satisfactionRated),
        ]
        #expect(bodies.count == CommandRoute.allCases.count)
        for (route, body, kind) in bodies {
            #expect(route.eventKind == kind)
            let command = try parse(route, body, as: F.root)
            #expect(command.event.kind == kind)
            #expect(command.actor == F.root)
            #expect(command.at == nil)
            #expect(command.status == nil)
        }
    }

    @Test func aCommandCarriesItsEventAndActor() throws {
        let command = try parse(.messages, #"{"body":"hello"}"#, as: F.alice)
        #expect(command == TicketCommand(event: .messagePosted(.init(body: "hello")), actor: F.alice))
    }

    @Test func bodyThatIsNotAnObjectIsBadRequest() throws {
        #expect(try refusal(.messages, #"["body"]"#, as: F.alice) == .badRequest)
        #expect(try refusal(.messages, "null", as: F.alice) == .badRequest)
    }

    // MARK: at

    @Test(arguments: [ActorKind.customer, .agent, .manager, .system])
    func atFromANonAdminIsForbiddenEvenWhenTheRestIsMalformed(kind: ActorKind) throws {
        let actor = F.actor(kind)
        #expect(try refusal(.messages, #"{"body":"b","at":"2026-03-01T10:00:00Z"}"#, as: actor) == .forbidden)
        #expect(try refusal(.messages, #"{"at":"2026-03-01T10:00:00Z","bogus":1}"#, as: actor) == .forbidden)
        #expect(try refusal(.notes, #"{"at":"not a time","body":5}"#, as: actor) == .forbidden)
        #expect(try refusal(.status, #"{"at":12,"status":"new"}"#, as: actor) == .forbidden)
        #expect(try refusal(.open, #"{"at":"2026-03-01T10:00:00Z"}"#, as: actor) == .forbidden)
        #expect(try refusal(.rating, #"{"at":"2026-03-01T10:00:00Z","score":9}"#, as: actor) == .forbidden)
    }

    @Test func atGivenAsNullFromANonAdminCountsAsAbsent() throws {
        let command = try parse(.messages, #"{"body":"b","at":null}"#, as: F.alice)
        #expect(command.at == nil)
        #expect(command.event == .messagePosted(.init(body: "b")))
    }

    @Test func anAdminMaySetAtWith0To3FractionDigits() throws {
        #expect(
            try parse(.notes, #"{"body":"b","at":"2026-03-01T10:22:33Z"}"#, as: F.root).at
                == F.instant("2026-03-01T10:22:33.000Z"))
        #expect(
            try parse(.notes, #"{"body":"b","at":"2026-03-01T10:22:33.1Z"}"#, as: F.root).at
                == F.instant("2026-03-01T10:22:33.100Z"))
        #expect(
            try parse(.notes, #"{"body":"b","at":"2026-03-01T10:22:33.12Z"}"#, as: F.root).at
                == F.instant("2026-03-01T10:22:33.120Z"))
        let command = try parse(.notes, #"{"body":"b","at":"2026-03-01T10:22:33.123Z"}"#, as: F.root)
        #expect(command.at == Timestamp(milliseconds: try F.instant("2026-03-01T10:22:33Z").milliseconds + 123))
        // `at` is not part of the event's data.
        #expect(command.event.data == (try F.json(#"{"body":"b"}"#)))
    }

    @Test func anAdminsBadAtIsBadRequest() throws {
        for bad in [
            #""2026-03-01T10:22:33+01:00""#, #""2026-03-01T10:22:33.1234Z""#, #""2026-03-01 10:22:33Z""#,
            #""2026-02-30T10:00:00Z""#, #""yesterday""#, #""""#, "12", "true", #"["2026-03-01T10:22:33Z"]"#,
        ] {
            #expect(try refusal(.notes, #"{"body":"b","at":\#(bad)}"#, as: F.root) == .badRequest, "at \(bad)")
        }
    }

    @Test func anAdminsValidAtDoesNotExcuseAMalformedBody() throws {
        #expect(try refusal(.notes, #"{"at":"2026-03-01T10:22:33Z","body":"b","bogus":1}"#, as: F.root) == .badRequest)
    }

    // MARK: status on messages

    @Test func anAgentMayAskForAStatusWithAMessage() throws {
        let command = try parse(.messages, #"{"body":"b","status":"pending"}"#, as: F.alice)
        #expect(command.status == .pending)
        #expect(command.event == .messagePosted(.init(body: "b")))
        #expect(command.event.data == (try F.json(#"{"body":"b"}"#)))
        #expect(try parse(.messages, #"{"body":"b","status":"on_hold"}"#, as: F.alice).status == .onHold)
        #expect(try parse(.messages, #"{"body":"b","status":"solved"}"#, as: F.alice).status == .solved)
        #expect(try parse(.messages, #"{"body":"b","status":"open"}"#, as: F.alice).status == .open)
        #expect(try parse(.messages, #"{"body":"b","status":null}"#, as: F.alice).status == nil)
    }

    @Test func aBadStatusOnAMessageIsBadRequest() throws {
        for bad in [#""new""#, #""Pending""#, #""waiting""#, "1", "false"] {
            #expect(try refusal(.messages, #"{"body":"b","status":\#(bad)}"#, as: F.alice) == .badRequest, "status \(bad)")
        }
    }

    @Test func statusOnAMessageFromACustomerIsForbiddenEvenWhenMalformed() throws {
        #expect(try refusal(.messages, #"{"body":"b","status":"pending"}"#, as: F.carol) == .forbidden)
        #expect(try refusal(.messages, #"{"status":"new","bogus":1}"#, as: F.carol) == .forbidden)
        #expect(try refusal(.messages, #"{"status":"open","body":42}"#, as: F.carol) == .forbidden)
        // null counts as absent.
        #expect(try parse(.messages, #"{"body":"b","status":null}"#, as: F.carol).status == nil)
    }

    @Test func statusIsOnlyAnExtraMemberOnMessages() throws {
        #expect(try refusal(.notes, #"{"body":"b","status":"pending"}"#, as: F.alice) == .badRequest)
        #expect(try refusal(.priority, #"{"priority":"low","status":"pending"}"#, as: F.alice) == .badRequest)
    }

    // MARK: opening

    @Test func aCustomerOpensForThemselves() throws {
        let command = try parse(.open, F.openingData(customer: "carol"), as: F.carol)
        guard case .opened(let o) = command.event else { Issue.record("not an opening"); return }
        #expect(o.customer == "carol")
    }

    @Test func aCustomerOpeningForAnotherCustomerIsForbiddenEvenWhenMalformed() throws {
        #expect(try refusal(.open, F.openingData(customer: "dave"), as: F.carol) == .forbidden)
        #expect(try refusal(.open, #"{"customer":"dave"}"#, as: F.carol) == .forbidden)
        #expect(try refusal(.open, #"{"customer":"dave","channel":"fax","bogus":true}"#, as: F.carol) == .forbidden)
    }

    @Test func customerIdentityIsComparedByCodePoint() throws {
        // "é" precomposed and "e" + COMBINING ACUTE are equal Swift strings but different identifiers.
        let decomposed = SupportActor(kind: .customer, id: "e\u{301}")
        #expect(
            try refusal(
                .open, #"{"customer":"\u00e9","subject":"s","body":"b","channel":"api","product":"p","priority":"low"}"#,
                as: decomposed) == .forbidden)
        #expect(
            try refusal(
                .open, #"{"customer":"e\u0301","subject":"s","body":"b","channel":"api","product":"p","priority":"low"}"#,
                as: decomposed) == nil)
    }

    @Test func staffMayOpenForAnyCustomer() throws {
        for actor in [F.alice, F.mona, F.root, F.robot] {
            #expect(try refusal(.open, F.openingData(customer: "dave"), as: actor) == nil)
        }
    }

    @Test func aCustomerOpeningForThemselvesWithMalformedDataIsBadRequest() throws {
        #expect(try refusal(.open, #"{"customer":"carol"}"#, as: F.carol) == .badRequest)
        #expect(
            try refusal(
                .open, #"{"customer":"carol","subject":"s","body":"b","channel":"fax","product":"p","priority":"low"}"#,
                as: F.carol) == .badRequest)
    }

    @Test func forbiddenAtIsReportedBeforeAForbiddenOpening() throws {
        // Both are 403; the body is never read for 400.
        #expect(try refusal(.open, #"{"customer":"dave","at":"x"}"#, as: F.carol) == .forbidden)
    }
}
