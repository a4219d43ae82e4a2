import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MailMessage
import SupportService
import Synchronization
import Testing

@testable import SupportDomain
@testable import SupportServer

// MARK: - Support

/// The gateway token of these tests.
let gatewayToken = "token-of-the-gateway"

/// The desk of these tests: support@desk.test, domains@ routed to the `domains` product, and a
/// directory that knows acme's two addresses.
func withMailServer<T: Sendable>(
    clock: ManualClock = ManualClock(), policy: Policy = .default,
    _ body: @Sendable (TestServer, any TestClientProtocol) async throws -> T
) async throws -> T {
    let settings = MailSettings(
        address: MailAddress(address: "support@desk.test", displayName: "Desk"), productByAddress: ["domains@desk.test": "domains"],
        defaultProduct: "hosting")
    let customers = try CustomerDirectory([(id: "acme", addresses: ["ops@acme.test", "Billing@ACME.test"])])
    let tokens = TokenStore(
        Who.allCases.map { (token: $0.token, principal: Principal(role: $0.role, id: $0.id)) }
            + [(token: gatewayToken, principal: Principal(role: .gateway, id: "mx"))])
    return try await withServer(clock: clock, policy: policy, tokens: tokens, mail: settings, customers: customers, body)
}

/// A plain mail as a mail client writes it (CRLF line ends).
func mailMessage(
    from: String = "Carol <carol@customer.test>", to: String = "support@desk.test", subject: String = "VPS down",
    messageID: String? = "<m1@customer.test>", inReplyTo: String? = nil, extra: [String] = [],
    body: String = "My VPS does not answer since 09:00.\n"
) -> [UInt8] {
    var lines = ["From: \(from)", "To: \(to)", "Subject: \(subject)", "Date: Mon, 02 Mar 2026 09:00:00 +0000"]
    if let messageID { lines.append("Message-ID: \(messageID)") }
    if let inReplyTo { lines += ["In-Reply-To: \(inReplyTo)", "References: \(inReplyTo)"] }
    lines += extra
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body]
    return Array(lines.joined(separator: "\r\n").utf8)
}

extension TestClientProtocol {
    /// Posts a raw message as the gateway.
    func postMail(_ raw: [UInt8], token: String = gatewayToken) async throws -> Reply {
        try await send(
            .post, "/v1/mail", as: nil, raw: raw,
            headers: [.authorization: "Bearer \(token)", .contentType: "message/rfc822"])
    }
}

/// The header `name` of a rendered mail (unfolded), nil when absent.
func header(_ name: String, of message: [UInt8]) -> String? {
    (try? MailParser.parse(message))?.header(name)
}

// MARK: - Inbound

@Suite("Mail in: a message opens or joins a ticket")
struct MailIntakeTests {
    @Test func aMailFromAnUnknownSenderOpensAnEmailTicketKeyedByTheirAddress() async throws {
        try await withMailServer { server, client in
            let r = try await client.postMail(mailMessage())
            #expect(r.status == .created, "\(r)")
            #expect(r.json["outcome"]?.stringValue == "opened")
            let id = try #require(r.json["ticket"]?.stringValue)
            #expect(r.location == "/v1/tickets/\(id)")
            let t = try await client.get("/v1/tickets/\(id)", as: .alice)
            #expect(t.json["channel"]?.stringValue == "email")
            #expect(t.json["customer"]?.stringValue == "carol@customer.test")
            #expect(t.json["subject"]?.stringValue == "VPS down")
            #expect(t.json["product"]?.stringValue == "hosting")
            #expect(t.json["status"]?.stringValue == "new")
            let first = t.json["thread"]?.arrayValue?.first
            #expect(first?["author"]?["kind"]?.stringValue == "customer")
            #expect(first?["body"]?.stringValue?.contains("My VPS does not answer") == true)
            #expect(first?["email"]?["messageId"]?.stringValue == "<m1@customer.test>")
            let events = try server.events(id)
            #expect(events.count == 1)
            #expect(events[0].actor == EventActor(kind: "customer", id: "carol@customer.test"))
            // The first reply is measured from the mail's arrival: the opening's `at`.
            #expect(events[0].at == server.clock.now)
        }
    }

    @Test func aKnownAddressWritesAsItsCustomerAndARoutedAddressPicksTheProduct() async throws {
        try await withMailServer { server, client in
            let r = try await client.postMail(mailMessage(from: "billing@acme.test", to: "Domains <domains@desk.test>"))
            let id = try #require(r.json["ticket"]?.stringValue)
            let t = try await client.get("/v1/tickets/\(id)", as: .alice)
            #expect(t.json["customer"]?.stringValue == "acme")
            #expect(t.json["product"]?.stringValue == "domains")
        }
    }

    @Test func theSameMessageIDIsTakenOnceWhateverTheRetries() async throws {
        try await withMailServer { server, client in
            let first = try await client.postMail(mailMessage())
            let id = try #require(first.json["ticket"]?.stringValue)
            try await expectLogUnchanged(server) {
                // The MTA retries with another Received line: the same Message-ID.
                let again = try await client.postMail(Array("Received: from mx2\r\n".utf8) + mailMessage())
                #expect(again.status == .ok)
                #expect(again.json["outcome"]?.stringValue == "duplicate")
                #expect(again.json["ticket"]?.stringValue == id)
            }
        }
    }

    @Test func theMboxFromLineOfALocalDeliveryIsNotPartOfTheMessage() async throws {
        try await withMailServer { server, client in
            let raw = mailMessage(messageID: nil)
            let first = try await client.postMail(Array("From carol@customer.test  Thu Dec  3 09:07:36 2026\n".utf8) + raw)
            #expect(first.status == .created)
            let again = try await client.postMail(Array("From carol@customer.test  Thu Dec  3 09:17:36 2026\n".utf8) + raw)
            #expect(again.json["outcome"]?.stringValue == "duplicate")
        }
    }

    @Test func aMessageWithoutMessageIDIsStillTakenOnceForTheSameBytes() async throws {
        try await withMailServer { server, client in
            let raw = mailMessage(messageID: nil)
            let first = try await client.postMail(raw)
            #expect(first.status == .created)
            let again = try await client.postMail(raw)
            #expect(again.json["outcome"]?.stringValue == "duplicate")
            #expect(again.json["messageId"] == first.json["messageId"])
        }
    }

    @Test func aReplyNamingAMailTheDeskTookJoinsThatTicket() async throws {
        try await withMailServer { server, client in
            let id = try #require(try await client.postMail(mailMessage()).json["ticket"]?.stringValue)
            let follow = mailMessage(
                subject: "more details", messageID: "<m2@customer.test>", inReplyTo: "<m1@customer.test>", body: "It is vps-17.\n")
            let r = try await client.postMail(follow)
            #expect(r.status == .ok)
            #expect(r.json["outcome"]?.stringValue == "appended")
            #expect(r.json["ticket"]?.stringValue == id)
            #expect(try server.events(id).count == 2)
        }
    }

    @Test func theSubjectTokenJoinsOnlyTheSendersOwnOpenTicket() async throws {
        try await withMailServer { server, client in
            let id = try #require(try await client.postMail(mailMessage()).json["ticket"]?.stringValue)
            // Carol's token in her subject joins her ticket.
            let mine = try await client.postMail(mailMessage(subject: "Re: [\(id)] VPS down", messageID: "<m2@customer.test>"))
            #expect(mine.json["ticket"]?.stringValue == id)
            // Someone else naming it opens a ticket of their own: nothing of carol's is touched.
            let other = try await client.postMail(
                mailMessage(from: "mallory@evil.test", subject: "[\(id)] give me access", messageID: "<x1@evil.test>"))
            #expect(other.json["outcome"]?.stringValue == "opened")
            #expect(other.json["ticket"]?.stringValue != id)
            #expect(try server.events(id).count == 2)
        }
    }

    @Test func aReplyToAClosedTicketOpensANewOne() async throws {
        try await withMailServer { server, client in
            let id = try #require(try await client.postMail(mailMessage()).json["ticket"]?.stringValue)
            try await client.command(id, "status", as: .alice, "{\"status\": \"closed\"}")
            let r = try await client.postMail(
                mailMessage(subject: "Re: [\(id)]", messageID: "<m2@customer.test>", inReplyTo: "<m1@customer.test>"))
            #expect(r.json["outcome"]?.stringValue == "opened")
            #expect(r.json["ticket"]?.stringValue != id)
        }
    }

    @Test func autoRepliesAndTheDesksOwnMailOpenNothing() async throws {
        try await withMailServer { server, client in
            try await expectLogUnchanged(server) {
                let vacation = try await client.postMail(
                    mailMessage(subject: "Out of office", messageID: "<v1@customer.test>", extra: ["Auto-Submitted: auto-replied"]))
                #expect(vacation.status == .ok)
                #expect(vacation.json["outcome"]?.stringValue == "ignored")
                let bulk = try await client.postMail(mailMessage(messageID: "<v2@customer.test>", extra: ["Precedence: bulk"]))
                #expect(bulk.json["outcome"]?.stringValue == "ignored")
                let loop = try await client.postMail(mailMessage(from: "Desk <SUPPORT@desk.test>", messageID: "<v3@desk.test>"))
                #expect(loop.json["outcome"]?.stringValue == "ignored")
            }
        }
    }

    @Test func mailThatCanNeverBeTakenIsABadRequestAndWritesNothing() async throws {
        try await withMailServer { server, client in
            try await expectLogUnchanged(server) {
                expectProblem(try await client.postMail([]), .badRequest)
                let noSender = Array("To: support@desk.test\r\nSubject: hi\r\n\r\nbody\r\n".utf8)
                expectProblem(try await client.postMail(noSender), .badRequest, detail: "sender")
            }
        }
    }

    @Test func onlyAGatewayPostsMailAndAGatewayDoesNothingElse() async throws {
        try await withMailServer { server, client in
            let id = try #require(try await client.postMail(mailMessage()).json["ticket"]?.stringValue)
            try await expectLogUnchanged(server) {
                for who in Who.allCases {
                    expectProblem(try await client.postMail(mailMessage(messageID: "<n@x.test>"), token: who.token), .forbidden)
                }
                let headers: HTTPFields = [.authorization: "Bearer \(gatewayToken)"]
                for path in ["/v1/tickets", "/v1/tickets/\(id)", "/v1/queues", "/v1/events"] {
                    expectProblem(try await client.send(.get, path, as: nil, headers: headers), .forbidden)
                }
                expectProblem(
                    try await client.send(.post, "/v1/tickets/\(id)/messages", as: nil, body: Bodies.message("hi"), headers: headers),
                    .forbidden)
            }
        }
    }

    @Test func aCommandMayNotClaimToComeFromMail() async throws {
        try await withMailServer { server, client in
            let id = try await client.open()
            try await expectLogUnchanged(server) {
                let r = try await client.post(
                    "/v1/tickets/\(id)/messages", as: .c1,
                    #"{"body": "x", "email": {"messageId": "<m1@customer.test>", "from": "c@x.test"}}"#)
                expectProblem(r, .forbidden, detail: "email")
            }
        }
    }

    @Test func attachmentsOverThePolicysLimitAreNamedInTheTextNotDroppedSilently() async throws {
        var policy = Policy.default
        policy.limits.attachments = 1
        try await withMailServer(policy: policy) { server, client in
            var parts = ["--b1\r\nContent-Type: text/plain\r\n\r\nTwo logs attached.\r\n"]
            for name in ["first.log", "second.log"] {
                parts.append(
                    "--b1\r\nContent-Type: text/plain; name=\"\(name)\"\r\nContent-Disposition: attachment; filename=\"\(name)\"\r\n\r\nlog of \(name)\r\n"
                )
            }
            let raw = Array(
                ("From: carol@customer.test\r\nMessage-ID: <two@customer.test>\r\nSubject: logs\r\n"
                    + "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" + parts.joined() + "--b1--\r\n").utf8)
            let id = try #require(try await client.postMail(raw).json["ticket"]?.stringValue)
            let entry = try #require(try await client.get("/v1/tickets/\(id)", as: .alice).json["thread"]?.arrayValue?.first)
            #expect(entry["attachments"]?.arrayValue?.count == 1)
            #expect(entry["body"]?.stringValue?.contains("1 more attachments not kept") == true)
            #expect(entry["body"]?.stringValue?.contains("second.log") == true)
        }
    }

    @Test func attachmentsAreKeptBesideTheLogAndServedToTheTicketsReaders() async throws {
        try await withMailServer { server, client in
            let file = Array("PDF-ish bytes \u{00}\u{01}\u{02}".utf8)
            let raw = Array(
                """
                From: carol@customer.test\r
                To: support@desk.test\r
                Subject: invoice\r
                Message-ID: <a1@customer.test>\r
                MIME-Version: 1.0\r
                Content-Type: multipart/mixed; boundary="b1"\r
                \r
                --b1\r
                Content-Type: text/plain; charset=utf-8\r
                \r
                See the attached invoice.\r
                --b1\r
                Content-Type: application/pdf; name="invoice.pdf"\r
                Content-Disposition: attachment; filename="invoice.pdf"\r
                Content-Transfer-Encoding: base64\r
                \r
                \(Data(file).base64EncodedString())\r
                --b1--\r

                """.utf8)
            let r = try await client.postMail(raw)
            let id = try #require(r.json["ticket"]?.stringValue)
            let t = try await client.get("/v1/tickets/\(id)", as: .alice)
            let attachment = try #require(t.json["thread"]?.arrayValue?.first?["attachments"]?.arrayValue?.first)
            #expect(attachment["name"]?.stringValue == "invoice.pdf")
            #expect(attachment["contentType"]?.stringValue == "application/pdf")
            #expect(attachment["size"]?.intValue == Int64(file.count))
            let sha = try #require(attachment["sha256"]?.stringValue)
            let download = try await client.get("/v1/tickets/\(id)/attachments/\(sha)", as: .alice)
            #expect(download.status == .ok)
            #expect(download.bytes == file)
        }
    }
}

// MARK: - Outbound

@Suite("Mail out: the outbox mails the agents' replies and records the outcome")
struct MailOutboxTests {
    /// Opens carol's ticket by mail, starts an outbox over a recording transport, and has alice reply.
    static func replied(
        _ server: TestServer, _ client: any TestClientProtocol, transport: RecordingMailTransport,
        retry: MailRetryPolicy = MailRetryPolicy()
    ) async throws -> (ticket: String, outbox: MailOutbox) {
        let id = try #require(try await client.postMail(mailMessage()).json["ticket"]?.stringValue)
        let outbox = server.backend.makeOutbox(transport: transport, retry: retry)
        await outbox.step()  // enabled here: from now on replies are mailed
        try await client.command(id, "messages", as: .alice, Bodies.message("We restarted vps-17; it answers again."))
        return (id, outbox)
    }

    @Test func anAgentReplyIsMailedInTheThreadAndItsDeliveryRecorded() async throws {
        try await withMailServer { server, client in
            let transport = RecordingMailTransport()
            let (id, outbox) = try await Self.replied(server, client, transport: transport)
            await outbox.step()
            let sent = try #require(transport.sent.first)
            #expect(transport.sent.count == 1)
            #expect(sent.recipients == ["carol@customer.test"])
            #expect(sent.from == "support@desk.test")
            let parsed = try MailParser.parse(sent.message)
            #expect(parsed.subject.contains("[\(id)]"))
            #expect(parsed.inReplyTo == ["<m1@customer.test>"])
            #expect(parsed.references.contains("<m1@customer.test>"))
            #expect(parsed.from?.address == "support@desk.test")
            #expect(parsed.text.contains("We restarted vps-17"))
            let messageID = try #require(parsed.messageID)
            let events = try server.events(id)
            let delivered = try #require(events.last)
            #expect(delivered.type == "message.delivered")
            #expect(delivered.actor.kind == "system")
            #expect(delivered.data["reply"]?.intValue == 2)
            #expect(delivered.data["to"]?.stringValue == "carol@customer.test")
            #expect(delivered.data["messageId"]?.stringValue == messageID)
            // The outcome changes no status.
            let t = try await client.get("/v1/tickets/\(id)", as: .alice)
            #expect(t.json["status"]?.stringValue == "open")

            // Nothing is sent twice.
            await outbox.step()
            #expect(transport.sent.count == 1)

            // The customer answers the mail: it lands on the same ticket, which awaits the agent again.
            try await client.command(id, "status", as: .alice, "{\"status\": \"pending\"}")
            let answer = mailMessage(
                subject: "Re: \(parsed.subject)", messageID: "<m3@customer.test>", inReplyTo: messageID,
                body: "Thanks, it works.\n\nOn Mon, 2 Mar 2026 at 09:05, Desk <support@desk.test> wrote:\n> We restarted vps-17\n")
            let r = try await client.postMail(answer)
            #expect(r.json["outcome"]?.stringValue == "appended")
            #expect(r.json["ticket"]?.stringValue == id)
            let after = try await client.get("/v1/tickets/\(id)", as: .c1)
            #expect(after.status == .notFound)  // c-1 is not carol
            let agentView = try await client.get("/v1/tickets/\(id)", as: .alice)
            #expect(agentView.json["status"]?.stringValue == "open")
            let last = try #require(agentView.json["thread"]?.arrayValue?.last)
            #expect(last["body"]?.stringValue?.contains("Thanks, it works.") == true)
            #expect(last["body"]?.stringValue?.contains("We restarted") == false)
            #expect(last["quoted"]?.stringValue?.contains("We restarted vps-17") == true)
        }
    }

    @Test func internalNotesAndCustomersOwnMessagesAreNeverMailed() async throws {
        try await withMailServer { server, client in
            let transport = RecordingMailTransport()
            let (id, outbox) = try await Self.replied(server, client, transport: transport)
            try await client.command(id, "notes", as: .alice, "{\"body\": \"internal: customer is on the old kernel\"}")
            await outbox.step()
            #expect(transport.sent.count == 1)
            let text = String(decoding: transport.sent[0].message, as: UTF8.self)
            #expect(!text.contains("old kernel"))
        }
    }

    @Test func aPermanentRefusalIsRecordedAndNotRetried() async throws {
        try await withMailServer { server, client in
            let transport = RecordingMailTransport()
            transport.failNext([MailDeliveryError(permanent: true, detail: "550 5.1.1 <carol@customer.test>: unknown user")])
            let (id, outbox) = try await Self.replied(server, client, transport: transport)
            await outbox.step()
            server.clock.advance(seconds: 7200)
            await outbox.step()
            #expect(transport.attempts == 1)
            let failed = try #require(try server.events(id).last)
            #expect(failed.type == "message.delivery_failed")
            #expect(failed.data["permanent"] == .bool(true))
            #expect(failed.data["reason"]?.stringValue?.contains("550") == true)
        }
    }

    @Test func aTransientFailureIsRecordedOnceAndRetriedWithBackoff() async throws {
        try await withMailServer { server, client in
            let transport = RecordingMailTransport()
            let busy = MailDeliveryError(permanent: false, detail: "451 4.3.0 try again later")
            transport.failNext([busy, busy])
            let (id, outbox) = try await Self.replied(server, client, transport: transport)
            await outbox.step()
            #expect(transport.attempts == 1)
            await outbox.step()  // not due yet: nothing tried
            #expect(transport.attempts == 1)
            server.clock.advance(seconds: 31)
            await outbox.step()
            #expect(transport.attempts == 2)
            server.clock.advance(seconds: 61)
            await outbox.step()
            #expect(transport.attempts == 3)
            #expect(transport.sent.count == 1)
            let types = try server.events(id).map(\.type)
            #expect(types.filter { $0 == "message.delivery_failed" }.count == 1)
            #expect(types.last == "message.delivered")
        }
    }

    @Test func theOutboxGivesUpAfterItsLimitWithAPermanentFailure() async throws {
        try await withMailServer { server, client in
            let transport = RecordingMailTransport()
            let busy = MailDeliveryError(permanent: false, detail: "connection refused")
            transport.failNext(Array(repeating: busy, count: 10))
            let retry = MailRetryPolicy(firstWait: .seconds(10), longestWait: .seconds(10), giveUpAfter: .seconds(25))
            let (id, outbox) = try await Self.replied(server, client, transport: transport, retry: retry)
            for _ in 0..<4 {
                await outbox.step()
                server.clock.advance(seconds: 11)
            }
            let failures = try server.events(id).filter { $0.type == "message.delivery_failed" }
            #expect(failures.count == 2)
            #expect(failures.last?.data["permanent"] == .bool(true))
            #expect(failures.last?.data["reason"]?.stringValue?.contains("gave up") == true)
            let attempts = transport.attempts
            server.clock.advance(seconds: 3600)
            await outbox.step()
            #expect(transport.attempts == attempts)
        }
    }

    @Test func aRestartedOutboxResumesFromItsCheckpointAndSendsNothingTwice() async throws {
        try await withMailServer { server, client in
            let transport = RecordingMailTransport()
            let (id, outbox) = try await Self.replied(server, client, transport: transport)
            await outbox.step()
            #expect(transport.sent.count == 1)
            // A second reply is written while no outbox runs; a new outbox (a restart) sends it, and only it.
            try await client.command(id, "messages", as: .alice, Bodies.message("Also: we raised its memory."))
            let restarted = server.backend.makeOutbox(transport: transport)
            await restarted.step()
            #expect(transport.sent.count == 2)
            #expect(String(decoding: transport.sent[1].message, as: UTF8.self).contains("raised its memory"))
            await restarted.step()
            #expect(transport.sent.count == 2)
        }
    }

    @Test func aMailWhoseAcceptanceWasLostIsSentAgainWithTheSameMessageID() async throws {
        try await withMailServer { server, client in
            let transport = RecordingMailTransport()
            // The relay takes the mail but its answer is lost (the connection drops after DATA).
            transport.loseAnswers(1)
            let (id, outbox) = try await Self.replied(server, client, transport: transport)
            await outbox.step()
            server.clock.advance(seconds: 31)
            await outbox.step()
            #expect(transport.sent.count == 2)
            // The receiver drops the copy by its Message-ID, the same on both.
            #expect(header("Message-ID", of: transport.sent[0].message) == header("Message-ID", of: transport.sent[1].message))
            #expect(try server.events(id).filter { $0.type == "message.delivered" }.count == 1)
        }
    }

    @Test func repliesWrittenBeforeTheOutboxWasEnabledAndBackDatedOnesAreNotMailed() async throws {
        try await withMailServer { server, client in
            let id = try #require(try await client.postMail(mailMessage()).json["ticket"]?.stringValue)
            try await client.command(id, "messages", as: .alice, Bodies.message("before the outbox"))
            let transport = RecordingMailTransport()
            let outbox = server.backend.makeOutbox(transport: transport)
            await outbox.step()
            server.clock.advance(seconds: 7200)
            // An admin's back-dated note changes nothing here; a reply imported with an old `at` is history.
            let line =
                #"{"ticket": "\#(id)", "type": "message.posted", "at": "2026-03-02T09:30:00.000Z", "actor": {"kind": "agent", "id": "bob"}, "data": {"body": "imported"}}"#
            let r = try await client.send(
                .post, "/v1/import", as: .admin, body: line + "\n", headers: [.contentType: "application/x-ndjson"])
            #expect(r.status == .ok, "\(r)")
            await outbox.step()
            #expect(transport.attempts == 0)
        }
    }

    /// A relay that never answers until the sender gives up waiting (a cancelled task).
    final class SilentRelay: MailTransport {
        let attempts = Mutex(0)
        func send(_ mail: MailEnvelope) async throws(MailDeliveryError) -> String {
            attempts.withLock { $0 += 1 }
            do { try await Task.sleep(for: .seconds(3600)) } catch {}
            throw MailDeliveryError(permanent: false, detail: "cancelled while waiting for the relay")
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func aShutdownDuringASendEndsTheOutboxAndRecordsNoFailure() async throws {
        try await withMailServer { server, client in
            let relay = SilentRelay()
            let id = try #require(try await client.postMail(mailMessage()).json["ticket"]?.stringValue)
            let outbox = server.backend.makeOutbox(transport: relay)
            await outbox.step()
            try await client.command(id, "messages", as: .alice, Bodies.message("on it"))
            let running = Task { await outbox.run() }
            try await eventually("the relay is waited for") { relay.attempts.withLock { $0 } == 1 }
            running.cancel()
            await running.value
            #expect(try server.events(id).allSatisfy { !$0.type.hasPrefix("message.deliver") })
            // The next start sends it again.
            let transport = RecordingMailTransport()
            await server.backend.makeOutbox(transport: transport).step()
            #expect(transport.sent.count == 1)
        }
    }

    @Test func aBounceOfAReplyBecomesAnInternalNoteNamingTheRecipient() async throws {
        try await withMailServer { server, client in
            let transport = RecordingMailTransport()
            let (id, outbox) = try await Self.replied(server, client, transport: transport)
            await outbox.step()
            let sent = try #require(transport.sent.first)
            let ourID = try #require(header("Message-ID", of: sent.message))
            let dsn = Array(
                """
                From: MAILER-DAEMON@mx.customer.test (Mail Delivery System)\r
                To: support@desk.test\r
                Subject: Undelivered Mail Returned to Sender\r
                Message-ID: <bounce1@mx.customer.test>\r
                Auto-Submitted: auto-replied\r
                MIME-Version: 1.0\r
                Content-Type: multipart/report; report-type=delivery-status; boundary="BB"\r
                \r
                --BB\r
                Content-Type: text/plain\r
                \r
                I'm sorry to have to inform you that your message could not be delivered.\r
                --BB\r
                Content-Type: message/delivery-status\r
                \r
                Reporting-MTA: dns; mx.customer.test\r
                \r
                Final-Recipient: rfc822; carol@customer.test\r
                Action: failed\r
                Status: 5.1.1\r
                Diagnostic-Code: smtp; 550 5.1.1 <carol@customer.test>: Recipient address rejected\r
                --BB\r
                Content-Type: text/rfc822-headers\r
                \r
                From: Desk <support@desk.test>\r
                To: carol@customer.test\r
                Message-ID: \(ourID)\r
                --BB--\r

                """.utf8)
            let r = try await client.postMail(dsn)
            #expect(r.json["outcome"]?.stringValue == "bounce", "\(r)")
            #expect(r.json["ticket"]?.stringValue == id)
            let note = try #require(try server.events(id).last)
            #expect(note.type == "note.added")
            #expect(note.actor.kind == "system")
            #expect(note.data["body"]?.stringValue?.contains("carol@customer.test") == true)
            // A bounce delivered again is taken once.
            try await expectLogUnchanged(server) {
                let again = try await client.postMail(dsn)
                #expect(again.json["outcome"]?.stringValue == "duplicate")
            }
        }
    }
}

@Suite("Mail: metrics and odd input")
struct MailEdgeTests {
    @Test func metricsCountTheMailTakenAndTheRepliesSent() async throws {
        try await withMailServer { server, client in
            let transport = RecordingMailTransport()
            let (_, outbox) = try await MailOutboxTests.replied(server, client, transport: transport)
            await outbox.step()
            _ = try await client.postMail(mailMessage())  // a duplicate
            let metrics = try await client.get("/metrics", as: nil).text
            #expect(metrics.contains(#"ledgerdesk_mail_received_total{outcome="opened"} 1"#), "\(metrics)")
            #expect(metrics.contains(#"ledgerdesk_mail_received_total{outcome="duplicate"} 1"#))
            #expect(metrics.contains(#"ledgerdesk_mail_sent_total{outcome="delivered"} 1"#))
            #expect(metrics.contains("ledgerdesk_mail_outbox_pending 0"))
        }
    }

    /// Seeded mutations of real-shaped mail (bytes flipped, lines cut or repeated, the message
    /// truncated): every answer is a taken message or a clear 400, never a server error, and a
    /// 400 writes nothing.
    @Test func mutatedMailIsTakenOrRefusedWithAReasonNeverAServerError() async throws {
        try await withMailServer { server, client in
            let seeds: [[UInt8]] = [
                mailMessage(),
                mailMessage(subject: "=?ISO-8859-1?Q?Caf=E9_ferm=E9?=", extra: ["Content-Transfer-Encoding: quoted-printable"]),
                Array(
                    "From: a@b.test\r\nMessage-ID: <x@b.test>\r\nContent-Type: multipart/mixed; boundary=\"q\"\r\n\r\n--q\r\nContent-Type: text/html\r\n\r\n<p>hi<br>there</p>\r\n--q\r\nContent-Type: application/octet-stream; name=a.bin\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--q--\r\n"
                        .utf8),
            ]
            var generator = SeededRandom(seed: 12)
            for round in 0..<300 {
                var bytes = seeds[round % seeds.count]
                for _ in 0..<(1 + Int(generator.next() % 6)) {
                    guard !bytes.isEmpty else { break }
                    let at = Int(generator.next() % UInt64(bytes.count))
                    switch generator.next() % 4 {
                    case 0: bytes[at] = UInt8(truncatingIfNeeded: generator.next())
                    case 1: bytes.removeSubrange(at..<min(bytes.count, at + Int(generator.next() % 40)))
                    case 2: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + Int(generator.next() % 60))], at: at)
                    default: bytes = Array(bytes.prefix(at))
                    }
                }
                // Each round a new Message-ID, so that duplicates do not hide the parsing.
                let unique = Array("Message-ID: <fuzz\(round)@fuzz.test>\r\n".utf8) + bytes
                let before = try server.head
                let r = try await client.postMail(round % 2 == 0 ? unique : bytes)
                #expect([200, 201, 400].contains(r.status.code), "round \(round): \(r)")
                if r.status == .badRequest {
                    expectProblem(r, .badRequest)
                    #expect(try server.head == before)
                }
            }
        }
    }
}

@Suite("Mail: the customer directory")
struct CustomerDirectoryTests {
    @Test func onlyBareAddressesAreListedAndAnAddressBelongsToOneCustomer() throws {
        for bad in ["not an address", "Carol <carol@customer.test>", "carol@", "@customer.test"] {
            #expect(throws: ServiceError.self) { try CustomerDirectory([(id: "c", addresses: [bad])]) }
        }
        #expect(throws: ServiceError.self) {
            try CustomerDirectory([(id: "a", addresses: ["x@y.test"]), (id: "b", addresses: ["X@Y.test"])])
        }
        let directory = try CustomerDirectory([(id: "acme", addresses: ["Ops@Acme.test"])])
        #expect(directory.customer(forAddress: "ops@acme.TEST") == "acme")
        #expect(directory.customer(forAddress: "Carol@Customer.test") == "carol@customer.test")
        #expect(directory.address(ofCustomer: "acme") == "Ops@Acme.test")
        #expect(directory.address(ofCustomer: "carol@customer.test") == "carol@customer.test")
        #expect(directory.address(ofCustomer: "c-1001") == nil)
    }
}
