import EventLog
import Testing

@testable import SupportDomain

/// SPEC §2.1 / §2.2 / §7: the shapes of every event's `data`, read strictly.
@Suite("Ticket event decoding")
struct TicketEventDecodingTests {
    typealias F = TicketFixture

    // MARK: Valid shapes, one per event type

    @Test func openedWithOnlyRequiredMembersDecodes() throws {
        let event = try F.event("ticket.opened", F.openingData())
        #expect(
            event
                == .opened(
                    .init(
                        customer: "carol", subject: "Site down", body: "My site is down",
                        channel: .email, product: "hosting", priority: .urgent)))
        #expect(event.kind == .opened)
    }

    @Test func openedWithContextAndAttachmentsDecodes() throws {
        let event = try F.event(
            "ticket.opened",
            """
            {"customer":"carol","subject":"s","body":"b","channel":"web","product":"vps","priority":"low",
             "context":"/panel/dns","attachments":[{"name":"a.png","size":0,"contentType":"image/png","sha256":"\(F.sha)"}]}
            """)
        let attachment = Attachment(name: "a.png", size: 0, contentType: "image/png", sha256: F.sha)
        #expect(
            event
                == .opened(
                    .init(
                        customer: "carol", subject: "s", body: "b", channel: .web, product: "vps",
                        priority: .low, context: "/panel/dns", attachments: [attachment])))
    }

    @Test(arguments: ["email", "web", "phone", "chat", "api"])
    func everyChannelDecodes(channel: String) throws {
        let event = try F.event(
            "ticket.opened",
            #"{"customer":"c","subject":"s","body":"b","channel":"\#(channel)","product":"p","priority":"normal"}"#)
        guard case .opened(let o) = event else { Issue.record("not an opening"); return }
        #expect(o.channel.rawValue == channel)
    }

    @Test func messagePostedDecodesWithAndWithoutAttachments() throws {
        #expect(try F.event("message.posted", #"{"body":"hello"}"#) == .messagePosted(.init(body: "hello")))
        let withFiles = try F.event(
            "message.posted",
            """
            {"body":"logs","attachments":[{"name":"x.log","size":1234,"contentType":"text/plain","sha256":"\(F.sha)"}]}
            """)
        #expect(
            withFiles
                == .messagePosted(
                    .init(
                        body: "logs",
                        attachments: [
                            Attachment(name: "x.log", size: 1234, contentType: "text/plain", sha256: F.sha)
                        ])))
        #expect(
            try F.event("message.posted", #"{"body":"x","attachments":[]}"#)
                == .messagePosted(.init(body: "x", attachments: [])))
    }

    @Test func noteAddedDecodes() throws {
        #expect(try F.event("note.added", #"{"body":"internal"}"#) == .noteAdded(.init(body: "internal")))
    }

    @Test func ticketAssignedDecodesAgentTeamAndUnassign() throws {
        #expect(try F.event("ticket.assigned", #"{"agent":"alice"}"#) == .assigned(.init(agent: "alice")))
        #expect(
            try F.event("ticket.assigned", #"{"agent":"alice","team":"dns"}"#)
                == .assigned(.init(agent: "alice", team: "dns")))
        #expect(try F.event("ticket.assigned", #"{"agent":null}"#) == .assigned(.init(agent: nil)))
        #expect(
            try F.event("ticket.assigned", #"{"agent":null,"team":"dns"}"#)
                == .assigned(.init(agent: nil, team: "dns")))
    }

    @Test(arguments: Priority.allCases)
    func priorityChangedDecodesEveryPriority(priority: Priority) throws {
        #expect(try F.event("priority.changed", #"{"priority":"\#(priority.rawValue)"}"#) == .priorityChanged(priority))
    }

    @Test func statusChangedDecodesEverySettableStatus() throws {
        let expected: [(String, TicketStatus)] = [
            ("open", .open), ("pending", .pending), ("on_hold", .onHold),
            ("solved", .solved), ("closed", .closed),
        ]
        for (text, status) in expected {
            #expect(try F.event("status.changed", #"{"status":"\#(text)"}"#) == .statusChanged(status))
        }
    }

    @Test func escalatedDecodes() throws {
        #expect(
            try F.event("ticket.escalated", #"{"team":"tier2","reason":"needs root"}"#)
                == .escalated(.init(team: "tier2", reason: "needs root")))
    }

    @Test func tagsChangedDecodesEachShape() throws {
        #expect(try F.event("tags.changed", "{}") == .tagsChanged(.init()))
        #expect(try F.event("tags.changed", #"{"added":["vip"]}"#) == .tagsChanged(.init(added: ["vip"])))
        #expect(try F.event("tags.changed", #"{"removed":["vip"]}"#) == .tagsChanged(.init(removed: ["vip"])))
        #expect(
            try F.event("tags.changed", #"{"added":["a","b"],"removed":["c"]}"#)
                == .tagsChanged(.init(added: ["a", "b"], removed: ["c"])))
        #expect(
            try F.event("tags.changed", #"{"added":[],"removed":[]}"#)
                == .tagsChanged(.init(added: [], removed: [])))
    }

    @Test func mergedDecodes() throws {
        #expect(try F.event("ticket.merged", #"{"into":"T-7"}"#) == .merged(into: "T-7"))
    }

    @Test func satisfactionRatedDecodes() throws {
        #expect(try F.event("satisfaction.rated", #"{"score":5}"#) == .satisfactionRated(.init(score: 5)))
        #expect(
            try F.event("satisfaction.rated", #"{"score":1,"comment":"slow","reply":3}"#)
                == .satisfactionRated(.init(score: 1, comment: "slow", reply: 3)))
    }

    @Test func unknownEventTypeIsBadRequest() throws {
        #expect(try F.decodingRefusal("ticket.deleted", #"{}"#) == .badRequest)
        #expect(try F.decodingRefusal("Message.Posted", #"{"body":"x"}"#) == .badRequest)
    }

    @Test func dataThatIsNotAnObjectIsBadRequest() throws {
        #expect(try F.decodingRefusal("message.posted", #"["body"]"#) == .badRequest)
        #expect(try F.decodingRefusal("message.posted", #""body""#) == .badRequest)
        #expect(try F.decodingRefusal("tags.changed", "null") == .badRequest)
    }

    // MARK: Unknown fields

    @Test func unknownFieldOnEveryEventTypeIsBadRequest() throws {
        let valid: [(String, String)] = [
            ("ticket.opened", #""customer":"c","subject":"s","body":"b","channel":"api","product":"p","priority":"low""#),
            ("message.posted", #""body":"b""#),
            ("note.added", #""body":"b""#),
            ("ticket.assigned", #""agent":"alice""#),
            ("priority.changed", #""priority":"high""#),
            ("status.changed", #""status":"open""#),
            ("ticket.escalated", #""team":"t","reason":"r""#),
            ("tags.changed", #""added":["x"]"#),
            ("ticket.merged", #""into":"T-2""#),
            ("satisfaction.rated", #""score":3"#),
        ]
        for (type, members) in valid {
            #expect(try F.decodingRefusal(type, "{\(members)}") == nil, "\(type) valid")
            #expect(try F.decodingRefusal(type, #"{\#(members),"extra":1}"#) == .badRequest, "\(type) extra")
            // Even a null unknown member is unknown.
            #expect(try F.decodingRefusal(type, #"{\#(members),"extra":null}"#) == .badRequest, "\(type) extra null")
            // `at` belongs to the envelope / the command, never to the data.
            #expect(
                try F.decodingRefusal(type, #"{\#(members),"at":"2026-03-01T00:00:00Z"}"#) == .badRequest,
                "\(type) at")
        }
    }

    @Test func unknownFieldInsideAnAttachmentIsBadRequest() throws {
        let attachment = #"{"name":"a","size":1,"contentType":"text/plain","sha256":"\#(F.sha)","virus":false}"#
        #expect(try F.decodingRefusal("message.posted", #"{"body":"b","attachments":[\#(attachment)]}"#) == .badRequest)
        #expect(
            try F.decodingRefusal(
                "ticket.opened",
                #"{"customer":"c","subject":"s","body":"b","channel":"api","product":"p","priority":"low","attachments":[\#(attachment)]}"#)
                == .badRequest)
    }

    @Test func theRefusalNamesTheFirstUnknownMemberInCodePointOrder() throws {
        let value = try F.json(#"{"body":"b","zeta":1,"Zeta":null,"alpha":2}"#)
        #expect(F.refusal { try TicketEvent(type: "message.posted", data: value) }?.detail == #"unknown field "Zeta""#)
        let attachment = #"{"name":"a","size":1,"contentType":"text/plain","sha256":"\#(F.sha)","virus":false}"#
        let nested = try F.json(#"{"body":"b","attachments":[\#(attachment)]}"#)
        #expect(
            F.refusal { try TicketEvent(type: "message.posted", data: nested) }?.detail
                == #"unknown field "attachments[0].virus""#)
    }

    @Test func optionalMembersGivenAsNullAreKnownMembers() throws {
        #expect(try F.event("ticket.assigned", #"{"agent":null,"team":null}"#) == .assigned(.init(agent: nil)))
        #expect(try F.event("message.posted", #"{"body":"b","attachments":null}"#) == .messagePosted(.init(body: "b")))
        #expect(
            try F.event("satisfaction.rated", #"{"score":4,"comment":null,"reply":null}"#)
                == .satisfactionRated(.init(score: 4)))
    }

    @Test func unknownFieldIsCaseSensitive() throws {
        #expect(try F.decodingRefusal("message.posted", #"{"Body":"b"}"#) == .badRequest)
        #expect(try F.decodingRefusal("message.posted", #"{"body":"b","Body":"c"}"#) == .badRequest)
    }

    @Test func attachmentsAreNotAcceptedOnNotes() throws {
        #expect(try F.decodingRefusal("note.added", #"{"body":"b","attachments":[]}"#) == .badRequest)
    }

    // MARK: Missing required members and wrong types

    @Test func missingRequiredMembersAreBadRequest() throws {
        let opening = [
            "customer": #""c""#, "subject": #""s""#, "body": #""b""#, "channel": #""api""#,
            "product": #""p""#, "priority": #""low""#,
        ]
        for omitted in opening.keys {
            let members = opening.filter { $0.key != omitted }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
            #expect(try F.decodingRefusal("ticket.opened", "{\(members)}") == .badRequest, "without \(omitted)")
            // A required member given as null is missing too.
            #expect(
                try F.decodingRefusal("ticket.opened", "{\(members),\"\(omitted)\":null}") == .badRequest,
                "\(omitted) null")
        }
        let cases: [(String, String)] = [
            ("message.posted", "{}"), ("message.posted", #"{"body":null}"#),
            ("note.added", "{}"),
            ("priority.changed", "{}"), ("priority.changed", #"{"priority":null}"#),
            ("status.changed", "{}"), ("status.changed", #"{"status":null}"#),
            ("ticket.escalated", #"{"team":"t"}"#), ("ticket.escalated", #"{"reason":"r"}"#),
            ("ticket.merged", "{}"), ("ticket.merged", #"{"into":null}"#),
            ("satisfaction.rated", "{}"), ("satisfaction.rated", #"{"comment":"x"}"#),
            ("satisfaction.rated", #"{"score":null}"#),
        ]
        for (type, data) in cases {
            #expect(try F.decodingRefusal(type, data) == .badRequest, "\(type) \(data)")
        }
    }

    @Test func wrongTypesAreBadRequest() throws {
        let cases: [(String, String)] = [
            ("message.posted", #"{"body":5}"#),
            ("message.posted", #"{"body":["b"]}"#),
            ("message.posted", #"{"body":"b","attachments":{}}"#),
            ("message.posted", #"{"body":"b","attachments":[1]}"#),
            ("message.posted", #"{"body":"b","attachments":"a.png"}"#),
            ("note.added", #"{"body":true}"#),
            ("ticket.opened", #"{"customer":7,"subject":"s","body":"b","channel":"api","product":"p","priority":"low"}"#),
            ("ticket.opened", #"{"customer":"c","subject":1,"body":"b","channel":"api","product":"p","priority":"low"}"#),
            ("ticket.opened", #"{"customer":"c","subject":"s","body":"b","channel":1,"product":"p","priority":"low"}"#),
            ("ticket.opened", #"{"customer":"c","subject":"s","body":"b","channel":"api","product":["p"],"priority":"low"}"#),
            ("ticket.opened", #"{"customer":"c","subject":"s","body":"b","channel":"api","product":"p","priority":2}"#),
            ("ticket.opened", #"{"customer":"c","subject":"s","body":"b","channel":"api","product":"p","priority":"low","context":5}"#),
            ("ticket.opened", #"{"customer":"c","subject":"s","body":"b","channel":"api","product":"p","priority":"low","context":{}}"#),
            ("ticket.assigned", #"{"agent":5}"#),
            ("ticket.assigned", #"{"agent":"alice","team":5}"#),
            ("ticket.assigned", #"{"agent":["alice"]}"#),
            ("priority.changed", #"{"priority":3}"#),
            ("status.changed", #"{"status":true}"#),
            ("ticket.escalated", #"{"team":"t","reason":1}"#),
            ("ticket.escalated", #"{"team":1,"reason":"r"}"#),
            ("tags.changed", #"{"added":"vip"}"#),
            ("tags.changed", #"{"added":[1]}"#),
            ("tags.changed", #"{"removed":[null]}"#),
            ("tags.changed", #"{"added":{"vip":true}}"#),
            ("ticket.merged", #"{"into":42}"#),
            ("satisfaction.rated", #"{"score":"5"}"#),
            ("satisfaction.rated", #"{"score":true}"#),
            ("satisfaction.rated", #"{"score":4,"comment":4}"#),
            ("satisfaction.rated", #"{"score":4,"reply":"3"}"#),
            ("satisfaction.rated", #"{"score":4,"reply":2.5}"#),
        ]
        for (type, data) in cases {
            #expect(try F.decodingRefusal(type, data) == .badRequest, "\(type) \(data)")
        }
    }

    @Test func badEnumerationValuesAreBadRequest() throws {
        #expect(try F.decodingRefusal("status.changed", #"{"status":"new"}"#) == .badRequest)
        #expect(try F.decodingRefusal("status.changed", #"{"status":"Open"}"#) == .badRequest)
        #expect(try F.decodingRefusal("status.changed", #"{"status":"on-hold"}"#) == .badRequest)
        #expect(try F.decodingRefusal("status.changed", #"{"status":"onHold"}"#) == .badRequest)
        #expect(try F.decodingRefusal("status.changed", #"{"status":"reopened"}"#) == .badRequest)
        #expect(try F.decodingRefusal("priority.changed", #"{"priority":"critical"}"#) == .badRequest)
        #expect(try F.decodingRefusal("priority.changed", #"{"priority":"URGENT"}"#) == .badRequest)
        #expect(
            try F.decodingRefusal(
                "ticket.opened",
                #"{"customer":"c","subject":"s","body":"b","channel":"fax","product":"p","priority":"low"}"#) == .badRequest)
        #expect(
            try F.decodingRefusal(
                "ticket.opened",
                #"{"customer":"c","subject":"s","body":"b","channel":"email","product":"p","priority":"medium"}"#) == .badRequest)
        #expect(
            try F.decodingRefusal(
                "ticket.opened",
                #"{"customer":"c","subject":"s","body":"b","channel":"Email","product":"p","priority":"low"}"#) == .badRequest)
    }

    // MARK: Identifiers

    /// Every identifier member, with the data that carries it.
    private static func identifierCases(_ id: String) -> [(String, String)] {
        let q = "\"\(id)\""
        return [
            ("ticket.opened", #"{"customer":\#(q),"subject":"s","body":"b","channel":"api","product":"p","priority":"low"}"#),
            ("ticket.opened", #"{"customer":"c","subject":"s","body":"b","channel":"api","product":\#(q),"priority":"low"}"#),
            ("ticket.assigned", #"{"agent":\#(q)}"#),
            ("ticket.assigned", #"{"agent":"alice","team":\#(q)}"#),
            ("ticket.escalated", #"{"team":\#(q),"reason":"r"}"#),
            ("ticket.merged", #"{"into":\#(q)}"#),
            ("tags.changed", #"{"added":[\#(q)]}"#),
            ("tags.changed", #"{"removed":["x",\#(q)]}"#),
        ]
    }

    @Test func emptyIdentifiersAreBadRequest() throws {
        for (type, data) in Self.identifierCases("") {
            #expect(try F.decodingRefusal(type, data) == .badRequest, "\(type) \(data)")
        }
    }

    @Test func identifiersOf128CodePointsAreValidAnd129AreNot() throws {
        let ascii128 = String(repeating: "a", count: 128)
        let emoji128 = String(repeating: "😀", count: 128)  // 512 UTF-8 bytes, 256 UTF-16 units
        for valid in [ascii128, emoji128, "x"] {
            for (type, data) in Self.identifierCases(valid) {
                #expect(try F.decodingRefusal(type, data) == nil, "\(type) with \(valid.unicodeScalars.count) code points")
            }
        }
        for invalid in [ascii128 + "a", emoji128 + "😀"] {
            for (type, data) in Self.identifierCases(invalid) {
                #expect(
                    try F.decodingRefusal(type, data) == .badRequest,
                    "\(type) with \(invalid.unicodeScalars.count) code points")
            }
        }
    }

    @Test func identifierLengthCountsCodePointsNotCharacters() throws {
        // 64 × "e" + COMBINING ACUTE: 64 characters but 128 code points → valid.
        let combining128 = String(repeating: "e\u{301}", count: 64)
        #expect(combining128.count == 64 && combining128.unicodeScalars.count == 128)
        // 65 of them: 65 characters, 130 code points → invalid.
        let combining130 = String(repeating: "e\u{301}", count: 65)
        // 26 family emoji of 5 code points each: 26 characters, 130 code points → invalid.
        let family = String(repeating: "👨\u{200D}👩\u{200D}👧", count: 26)
        #expect(family.count == 26 && family.unicodeScalars.count == 130)
        for (type, data) in Self.identifierCases(combining128) {
            #expect(try F.decodingRefusal(type, data) == nil, "\(type) combining128")
        }
        for invalid in [combining130, family] {
            for (type, data) in Self.identifierCases(invalid) {
                #expect(try F.decodingRefusal(type, data) == .badRequest, "\(type) \(invalid.count) characters")
            }
        }
    }

    // MARK: Nulls, unassigning, tags, ratings

    @Test func optionalMembersGivenAsNullCountAsAbsent() throws {
        #expect(
            try F.event(
                "ticket.opened",
                #"{"customer":"c","subject":"s","body":"b","channel":"api","product":"p","priority":"low","context":null,"attachments":null}"#
            )
                == .opened(.init(customer: "c", subject: "s", body: "b", channel: .api, product: "p", priority: .low)))
        #expect(try F.event("message.posted", #"{"body":"b","attachments":null}"#) == .messagePosted(.init(body: "b")))
        #expect(try F.event("ticket.assigned", #"{"agent":"alice","team":null}"#) == .assigned(.init(agent: "alice")))
        #expect(try F.event("tags.changed", #"{"added":null,"removed":["x"]}"#) == .tagsChanged(.init(removed: ["x"])))
        #expect(
            try F.event("satisfaction.rated", #"{"score":2,"comment":null,"reply":null}"#)
                == .satisfactionRated(.init(score: 2)))
    }

    @Test func nullAgentUnassignsButMissingAgentIsBadRequest() throws {
        #expect(try F.event("ticket.assigned", #"{"agent":null}"#) == .assigned(.init(agent: nil, team: nil)))
        #expect(try F.decodingRefusal("ticket.assigned", "{}") == .badRequest)
        #expect(try F.decodingRefusal("ticket.assigned", #"{"team":"dns"}"#) == .badRequest)
    }

    @Test func tagBothAddedAndRemovedIsBadRequest() throws {
        #expect(try F.decodingRefusal("tags.changed", #"{"added":["vip"],"removed":["vip"]}"#) == .badRequest)
        #expect(try F.decodingRefusal("tags.changed", #"{"added":["a","vip"],"removed":["b","vip"]}"#) == .badRequest)
        // Different code points are different tags (no normalisation).
        #expect(try F.decodingRefusal("tags.changed", #"{"added":["\u00e9"],"removed":["e\u0301"]}"#) == nil)
    }

    @Test func ratingScoreMustBeAnIntegerFrom1To5() throws {
        for bad in ["0", "6", "2.5", "-1", "100", "0.5"] {
            #expect(try F.decodingRefusal("satisfaction.rated", #"{"score":\#(bad)}"#) == .badRequest, "score \(bad)")
        }
        for good in 1...5 {
            #expect(try F.event("satisfaction.rated", #"{"score":\#(good)}"#) == .satisfactionRated(.init(score: good)))
        }
    }

    // MARK: Attachments

    private static func attachmentRefusal(_ attachment: String) throws -> DomainError.Kind? {
        try F.decodingRefusal("message.posted", #"{"body":"b","attachments":[\#(attachment)]}"#)
    }

    @Test func attachmentSha256MustBe64LowercaseHexDigits() throws {
        func with(sha: String) throws -> DomainError.Kind? {
            try Self.attachmentRefusal(#"{"name":"a","size":1,"contentType":"t","sha256":"\#(sha)"}"#)
        }
        #expect(try with(sha: F.sha) == nil)
        #expect(try with(sha: String(repeating: "f", count: 64)) == nil)
        #expect(try with(sha: F.sha.uppercased()) == .badRequest)
        #expect(try with(sha: "A" + F.sha.dropFirst()) == .badRequest)
        #expect(try with(sha: String(F.sha.dropFirst())) == .badRequest)  // 63
        #expect(try with(sha: F.sha + "0") == .badRequest)  // 65
        #expect(try with(sha: "g" + F.sha.dropFirst()) == .badRequest)
        #expect(try with(sha: "") == .badRequest)
        #expect(try Self.attachmentRefusal(#"{"name":"a","size":1,"contentType":"t","sha256":5}"#) == .badRequest)
    }

    @Test func attachmentSizeMustBeAnIntegerAtLeastZero() throws {
        func with(size: String) throws -> DomainError.Kind? {
            try Self.attachmentRefusal(#"{"name":"a","size":\#(size),"contentType":"t","sha256":"\#(F.sha)"}"#)
        }
        #expect(try with(size: "0") == nil)
        #expect(try with(size: "10485760") == nil)
        #expect(try with(size: "-1") == .badRequest)
        #expect(try with(size: "1.5") == .badRequest)
        #expect(try with(size: #""10""#) == .badRequest)
        #expect(try with(size: "null") == .badRequest)
    }

    @Test func attachmentMembersAreAllRequired() throws {
        let members = ["name": #""a""#, "size": "1", "contentType": #""t""#, "sha256": "\"\(F.sha)\""]
        for omitted in members.keys {
            let text = members.filter { $0.key != omitted }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
            #expect(try Self.attachmentRefusal("{\(text)}") == .badRequest, "without \(omitted)")
        }
        #expect(try Self.attachmentRefusal(#"{"name":1,"size":1,"contentType":"t","sha256":"\#(F.sha)"}"#) == .badRequest)
        #expect(try Self.attachmentRefusal(#"{"name":"a","size":1,"contentType":null,"sha256":"\#(F.sha)"}"#) == .badRequest)
    }

    @Test func aBadSecondAttachmentIsBadRequest() throws {
        let good = #"{"name":"a","size":1,"contentType":"t","sha256":"\#(F.sha)"}"#
        let bad = #"{"name":"b","size":-5,"contentType":"t","sha256":"\#(F.sha)"}"#
        #expect(try F.decodingRefusal("message.posted", #"{"body":"b","attachments":[\#(good),\#(bad)]}"#) == .badRequest)
    }

    // MARK: Re-encoding: the log stores data as sent

    @Test func dataReencodesExactlyWhatWasSentForEveryShape() throws {
        let sent: [(String, String)] = [
            ("ticket.opened", F.openingData()),
            (
                "ticket.opened",
                """
                {"customer":"c","subject":"s","body":"b","channel":"chat","product":"p","priority":"high","context":"/x",
                 "attachments":[{"name":"a","size":0,"contentType":"t","sha256":"\(F.sha)"}]}
                """
            ),
            ("message.posted", #"{"body":"b"}"#),
            ("message.posted", #"{"body":"b","attachments":[]}"#),
            ("note.added", #"{"body":"n"}"#),
            ("ticket.assigned", #"{"agent":"alice","team":"dns"}"#),
            ("ticket.assigned", #"{"agent":null}"#),
            ("priority.changed", #"{"priority":"normal"}"#),
            ("status.changed", #"{"status":"on_hold"}"#),
            ("ticket.escalated", #"{"team":"t","reason":"r"}"#),
            ("tags.changed", "{}"),
            ("tags.changed", #"{"added":["b","a","a"]}"#),
            ("tags.changed", #"{"added":[],"removed":["x"]}"#),
            ("ticket.merged", #"{"into":"T-9"}"#),
            ("satisfaction.rated", #"{"score":4}"#),
            ("satisfaction.rated", #"{"score":4,"comment":"ok","reply":2}"#),
        ]
        for (type, data) in sent {
            let value = try F.json(data)
            let event = try TicketEvent(type: type, data: value)
            #expect(event.data == value, "\(type) \(data)")
            #expect(event.kind.rawValue == type)
        }
    }

    @Test func dataDropsNullOptionalMembersButKeepsNullAgent() throws {
        let assigned = try F.event("ticket.assigned", #"{"agent":null,"team":null}"#)
        #expect(assigned.data == (try F.json(#"{"agent":null}"#)))
        #expect(assigned.data["agent"] == .null)
        #expect(assigned.data["team"] == nil)

        let opened = try F.event(
            "ticket.opened",
            #"{"customer":"c","subject":"s","body":"b","channel":"api","product":"p","priority":"low","context":null,"attachments":null}"#)
        #expect(opened.data == (try F.json(#"{"customer":"c","subject":"s","body":"b","channel":"api","product":"p","priority":"low"}"#)))

        let rated = try F.event("satisfaction.rated", #"{"score":3,"comment":null,"reply":null}"#)
        #expect(rated.data == (try F.json(#"{"score":3}"#)))

        let message = try F.event("message.posted", #"{"body":"b","attachments":null}"#)
        #expect(message.data == (try F.json(#"{"body":"b"}"#)))
    }

    @Test func dataDoesNotFillInDefaults() throws {
        let rated = try F.event("satisfaction.rated", #"{"score":5}"#)
        #expect(rated.data["reply"] == nil)
        #expect(rated.data["comment"] == nil)

        let added = try F.event("tags.changed", #"{"added":["vip"]}"#)
        #expect(added.data == (try F.json(#"{"added":["vip"]}"#)))
        #expect(added.data["removed"] == nil)

        let removed = try F.event("tags.changed", #"{"removed":["vip"]}"#)
        #expect(removed.data["added"] == nil)

        let none = try F.event("tags.changed", "{}")
        #expect(none.data == .object([:]))

        let message = try F.event("message.posted", #"{"body":"b"}"#)
        #expect(message.data["attachments"] == nil)

        let opened = try F.event("ticket.opened", F.openingData())
        #expect(opened.data["context"] == nil)
        #expect(opened.data["attachments"] == nil)
    }

    @Test func dataKeepsIdentifiersCodePointForCodePoint() throws {
        let sent = try F.json(#"{"added":["e\u0301","\u00e9"]}"#)
        let event = try TicketEvent(type: "tags.changed", data: sent)
        #expect(event.data == sent)
        guard case .array(let items)? = event.data["added"] else { Issue.record("no added"); return }
        #expect(F.scalars(items.compactMap(\.stringValue)) == [[0x65, 0x301], [0xE9]])
    }
}
