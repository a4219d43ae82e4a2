import EventLog
import HTTPTypes
import HummingbirdTesting
import LogReplication
import Synchronization
import Testing

@testable import SupportServer
@testable import SupportService

/// A replicated log that refuses every group (a node whose JetStream has no quorum).
private struct RefusingReplicator: LogReplicator {
    func replicate(_ events: [ReplicatedEvent]) throws(EventLogError) {
        throw .replicationFailed("JetStream has no quorum")
    }
}

/// What every node answers around its routes: the seq it reflects, waiting for a seq a client
/// wrote elsewhere, and a follower's writes sent to the leader.
@Suite("A node of a replicated desk: seq headers, read your writes, writes to the leader")
struct ReplicaRouteTests {
    static let leaderURL = "http://127.0.0.1:18081"

    static func follower(leader: Bool = true) -> SettledMembership {
        SettledMembership(
            ClusterStatus(node: "n2", leading: false, leader: leader ? ("n1", leaderURL) : nil, streamSeq: 7))
    }

    @Test func everyAnswerOfASingleNodeSaysTheSeqItReflects() async throws {
        try await withServer { server, client in
            let empty = try await client.get("/v1/queues", as: .manager)
            #expect(empty.headers[.ledgerdeskSeq] == "0")
            #expect(empty.headers[.ledgerdeskNode] == nil)
            let t = try await client.open(as: .c1)
            let reply = try await client.post(commandPath("messages", on: t), as: .alice, Bodies.message("On it"))
            // The answer to a write comes once the projections applied it: it reflects the write.
            #expect(reply.headers[.ledgerdeskSeq] == "\(try server.head.seq)")
            let unknown = try await client.get("/v1/tickets/T-999", as: .alice)
            #expect(unknown.status == .notFound)
            #expect(unknown.headers[.ledgerdeskSeq] == "\(try server.head.seq)")
            let status = try await client.get("/v1/cluster", as: .auditor)
            #expect(status.status == .ok)
            #expect(status.json["mode"]?.stringValue == "single")
            #expect(status.json["role"]?.stringValue == "leader")
            #expect(status.json["node"]?.isNull == true)
            #expect(status.json["leader"]?.isNull == true)
            #expect(status.json["appliedSeq"]?.intValue == Int64(try server.head.seq))
            expectProblem(try await client.get("/v1/cluster", as: .c1), .forbidden)
            expectProblem(try await client.get("/v1/cluster?x=1", as: .admin), .badRequest)
            let metrics = try await client.get("/metrics", as: nil).text
            #expect(metrics.contains("\nledgerdesk_cluster_leader 1"), "\(metrics)")
            #expect(metrics.contains("\nledgerdesk_cluster_stream_lag_events 0"), "\(metrics)")
        }
    }

    @Test func aFollowerSendsWritesToTheLeaderAndServesReads() async throws {
        let membership = Self.follower()
        try await withServer(cluster: membership) { server, client in
            try await expectLogUnchanged(server) {
                let open = try await client.post("/v1/tickets?x=1", as: .c1, Bodies.open())
                expectProblem(open, .temporaryRedirect, detail: "n1")
                #expect(open.location == Self.leaderURL + "/v1/tickets?x=1")
                #expect(open.json["leader"]?["node"]?.stringValue == "n1")
                #expect(open.json["leader"]?["url"]?.stringValue == Self.leaderURL)
                #expect(open.headers[.ledgerdeskNode] == "n2")
                // Every method that may write, authenticated or not: the leader decides.
                for method in [HTTPRequest.Method.put, .patch, .delete] {
                    let r = try await client.send(method, "/v1/webhooks/w-1", as: nil)
                    #expect(r.status == .temporaryRedirect)
                    #expect(r.location == Self.leaderURL + "/v1/webhooks/w-1")
                }
            }
            let queues = try await client.get("/v1/queues", as: .manager)
            #expect(queues.status == .ok)
            #expect(queues.headers[.ledgerdeskNode] == "n2")
            let status = try await client.get("/v1/cluster", as: .alice)
            #expect(status.json["mode"]?.stringValue == "cluster")
            #expect(status.json["node"]?.stringValue == "n2")
            #expect(status.json["role"]?.stringValue == "follower")
            #expect(status.json["leader"]?["node"]?.stringValue == "n1")
            #expect(status.json["leader"]?["url"]?.stringValue == Self.leaderURL)
            #expect(status.json["streamSeq"]?.intValue == 7)
            #expect(status.json["problem"]?.isNull == true)
            membership.set(
                ClusterStatus(node: "n2", leading: false, leader: ("n1", Self.leaderURL), streamSeq: 7, problem: "its log differs at seq 3")
            )
            #expect(try await client.get("/v1/cluster", as: .alice).json["problem"]?.stringValue == "its log differs at seq 3")
            membership.set(ClusterStatus(node: "n2", leading: false, leader: ("n1", Self.leaderURL), streamSeq: 7))
            // The scrape says the node follows, 7 events behind the stream it last saw.
            let metrics = try await client.get("/metrics", as: nil).text
            #expect(metrics.contains("\nledgerdesk_cluster_leader 0"), "\(metrics)")
            #expect(metrics.contains("\nledgerdesk_cluster_stream_lag_events 7"), "\(metrics)")
        }
    }

    @Test func withNoLeaderWritesAreRefusedForAMomentAndReadsGoOn() async throws {
        let membership = Self.follower(leader: false)
        try await withServer(cluster: membership) { server, client in
            try await expectLogUnchanged(server) {
                let open = try await client.post("/v1/tickets", as: .c1, Bodies.open())
                expectProblem(open, .serviceUnavailable, detail: "no node leads")
                #expect(open.headers[.retryAfter] == "1")
            }
            #expect(try await client.get("/v1/tickets", as: .c1).status == .ok)
            // Once this node leads, the same write goes through.
            membership.set(ClusterStatus(node: "n2", leading: true, leader: ("n2", "http://n2"), streamSeq: 0))
            let open = try await client.post("/v1/tickets", as: .c1, Bodies.open())
            #expect(open.status == .created, "\(open)")
            let status = try await client.get("/v1/cluster", as: .admin)
            #expect(status.json["role"]?.stringValue == "leader")
        }
    }

    @Test func aLeaderWhoseReplicatedLogRefusesAnswers503AndWritesNothing() async throws {
        let membership = SettledMembership(ClusterStatus(node: "n1", leading: true, leader: ("n1", "http://n1"), streamSeq: nil))
        try await withServer(replicator: RefusingReplicator(), cluster: membership) { server, client in
            try await expectLogUnchanged(server) {
                let refused = try await client.post("/v1/tickets", as: .c1, Bodies.open())
                expectProblem(refused, .serviceUnavailable, detail: "quorum")
                #expect(refused.headers[.retryAfter] == "1")
            }
        }
    }

    @Test func aRequestWithAMinimumSeqWaitsUntilTheNodeHasAppliedIt() async throws {
        var limits = testLimits
        limits.longestSeqWait = .milliseconds(300)
        try await withServer(limits: limits) { server, client in
            let t = try await client.open(as: .c1)
            let head = try server.head.seq
            var atHead = HTTPFields()
            atHead[.ledgerdeskMinSeq] = "\(head)"
            let now = try await client.get("/v1/tickets/\(t)", as: .alice, headers: atHead)
            #expect(now.status == .ok)
            #expect(now.headers[.ledgerdeskSeq] == "\(head)")
            // A seq this node never reaches: 503 once the wait is over, with Retry-After.
            var beyond = HTTPFields()
            beyond[.ledgerdeskMinSeq] = "\(head + 5)"
            let late = try await client.get("/v1/tickets/\(t)", as: .alice, headers: beyond)
            expectProblem(late, .serviceUnavailable, detail: "not yet \(head + 5)")
            #expect(late.headers[.retryAfter] == "1")
            for bad in ["-1", "x", "01", "1.5", "18446744073709551616"] {
                var fields = HTTPFields()
                fields[.ledgerdeskMinSeq] = bad
                expectProblem(
                    try await client.get("/v1/tickets/\(t)", as: .alice, headers: fields), .badRequest, detail: "Ledgerdesk-Min-Seq")
            }
        }
    }

    @Test func aReaderWaitingForTheNextSeqIsAnsweredOnceItIsWritten() async throws {
        try await withServer { server, client in
            let t = try await client.open(as: .c1)
            let next = try server.head.seq + 1
            var fields = HTTPFields()
            fields[.ledgerdeskMinSeq] = "\(next)"
            async let waiting = client.get("/v1/tickets/\(t)", as: .alice, headers: fields)
            try await client.command(t, "messages", as: .alice, Bodies.message("Looking into it"))
            let answer = try await waiting
            #expect(answer.status == .ok, "\(answer)")
            #expect(answer.json["version"]?.intValue == 2)
            #expect(UInt64(answer.headers[.ledgerdeskSeq] ?? "") ?? 0 >= next)
        }
    }
}
