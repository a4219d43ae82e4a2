import ArgumentParser
import EventLog
import Foundation
import Hummingbird
import LogReplication
import Logging
import MailMessage
import NATSClient
import SMTPDelivery
import ServiceLifecycle
import SupportDomain
import SupportServer
import SupportService

/// `supportd`: the Ledgerdesk support backend over HTTP.
@main
struct Supportd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supportd",
        abstract: "Ledgerdesk: an event-sourced support backend (SPEC §7).")

    @Option(help: "The data directory (the LMDB log).") var dataDir = "./data"
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on (0 picks a free one).") var port = 8080
    @Option(help: "The tokens file; written with fresh tokens when missing (default: <data-dir>/tokens.json).") var tokens: String?
    @Option(help: "A policy file (JSON) laid over the default policy.") var policy: String?
    @Flag(help: "Fill an empty data directory with a realistic demo workload.") var demo = false
    @Flag(help: "Rebuild the projections from seq 1 instead of resuming from their checkpoint.") var rebuild = false
    @Option(help: "Log level (trace, debug, info, notice, warning, error, critical).") var logLevel = "info"
    @Option(help: "Requests per second each token may make on /v1, sustained (beyond: 429 with Retry-After; 0 turns the limit off).")
    var rateLimit: Double = ServerLimits.default.requestsPerSecond
    @Option(help: "Requests a token may make at once before --rate-limit applies.")
    var rateBurst: Int = ServerLimits.default.burst
    @Option(help: "GET /v1/events long-polls waiting at once (beyond: 503 with Retry-After).")
    var maxLongPolls: Int = ServerLimits.default.concurrentLongPolls
    @Option(help: "Point-in-time (asOf) answers computed at once, each on its own thread (beyond: 503 with Retry-After).")
    var maxAsOfFolds: Int = ServerLimits.default.concurrentPointInTimeFolds
    @Option(help: "Seconds an idle connection is kept open (0 keeps idle connections open).")
    var idleTimeout: Int = Int(ServerLimits.default.idleTimeout?.components.seconds ?? 0)
    @Option(help: "Teams labelled one by one in the queue gauges of /metrics; the rest are summed under team=\"(other)\".")
    var metricsTeams: Int = ServerLimits.default.metricsTeams
    @Option(help: "Events appended per commit by an import (a graceful shutdown stops an import between two).")
    var importChunk: Int = ServerLimits.default.importChunkEvents
    @Option(help: "The desk's mail address: the From of its replies, the domain of its Message-IDs; its own mail is never taken.")
    var mailAddress = "support@localhost"
    @Option(help: "The display name of the desk's replies.") var mailName = "Support"
    @Option(help: "The product (and team) of a ticket opened by mail.") var mailProduct = "general"
    @Option(help: "ADDRESS=PRODUCT: mail to ADDRESS opens tickets for PRODUCT (repeatable).") var mailRoute: [String] = []
    @Option(help: "The customers file: {\"customers\": [{\"id\", \"addresses\": [...]}]} (re-read when it changes).")
    var customers: String?
    @Option(help: "The largest mail taken by POST /v1/mail, in bytes.") var mailMaxBytes = 25 << 20
    @Option(help: "The SMTP relay (host:port) the agents' replies are mailed through; without it no mail is sent.")
    var smtp: String?
    @Option(help: "STARTTLS with the relay: when-offered, required or never.") var smtpTls = "when-offered"
    @Flag(help: "Accept the relay's certificate without verifying it (a loopback relay with a self-signed certificate).")
    var smtpInsecure = false
    @Option(help: "The user for SMTP AUTH (with --smtp-password-file).") var smtpUser: String?
    @Option(help: "A file holding the SMTP AUTH password (owner-only).") var smtpPasswordFile: String?
    @Option(help: "CIDR: webhooks may be delivered to these addresses, even refused ones (repeatable).") var webhookAllow: [String] = []
    @Option(help: "CIDR: webhooks are never delivered to these addresses, besides the default ones (repeatable).")
    var webhookDeny: [String] = []
    @Option(help: "NATS servers with JetStream (nats://h1:4222,nats://h2:4222,…): run as a node of a replicated desk (docs/operations.md).")
    var cluster: String?
    @Option(help: "This node's name in the cluster (letters, digits, - and _).") var node: String?
    @Option(help: "The URL clients reach this node's API at (default http://HOST:PORT); followers send writers to the leader's.")
    var advertise: String?
    @Option(help: "Seconds a leader's lease lives without a refresh: a dead leader is replaced about this long after it died.")
    var leaseSeconds: Int = 4

    /// The webhooks' address policy from the flags.
    var webhookAddresses: WebhookAddressPolicy {
        get throws {
            func ranges(_ list: [String], _ flag: String) throws -> [CIDR] {
                try list.map { text in
                    guard let range = CIDR(text) else { throw ValidationError("\(flag) \(text) is not an address or CIDR range") }
                    return range
                }
            }
            return WebhookAddressPolicy(allow: try ranges(webhookAllow, "--webhook-allow"), deny: try ranges(webhookDeny, "--webhook-deny"))
        }
    }

    func validate() throws {
        guard rateLimit >= 0, rateLimit.isFinite else { throw ValidationError("--rate-limit must be 0 or more") }
        guard rateBurst >= 1 else { throw ValidationError("--rate-burst must be at least 1") }
        guard maxLongPolls >= 0 else { throw ValidationError("--max-long-polls must be 0 or more") }
        guard maxAsOfFolds >= 0 else { throw ValidationError("--max-as-of-folds must be 0 or more") }
        guard idleTimeout >= 0 else { throw ValidationError("--idle-timeout must be 0 or more") }
        guard metricsTeams >= 0 else { throw ValidationError("--metrics-teams must be 0 or more") }
        guard importChunk >= 1 else { throw ValidationError("--import-chunk must be at least 1") }
        _ = try mailSettings
        _ = try smtpConfiguration
        _ = try webhookAddresses
        _ = try clusterConfiguration
    }

    /// The node's cluster settings from the flags; nil without `--cluster` (a single node).
    var clusterConfiguration: ClusterConfiguration? {
        get throws {
            guard let cluster else {
                guard node == nil, advertise == nil else { throw ValidationError("--node and --advertise go with --cluster") }
                return nil
            }
            guard let servers = NATSServerURL.list(cluster), !servers.isEmpty else {
                throw ValidationError("--cluster \(cluster) must be nats://host:port[,nats://host:port…]")
            }
            guard let node, !node.isEmpty, node.count <= 64,
                node.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") })
            else { throw ValidationError("--cluster needs --node NAME (letters, digits, - and _, at most 64)") }
            guard !demo else { throw ValidationError("--demo fills a single node; load a cluster through its leader (POST /v1/import)") }
            guard (1...600).contains(leaseSeconds) else { throw ValidationError("--lease-seconds must be 1 to 600") }
            let url: String
            if let advertise {
                guard let parsed = URL(string: advertise), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil,
                    parsed.query == nil
                else { throw ValidationError("--advertise \(advertise) must be an http(s) URL") }
                url = advertise.hasSuffix("/") ? String(advertise.dropLast()) : advertise
            } else {
                guard port != 0 else {
                    throw ValidationError("--port 0 in a cluster needs --advertise (the URL others reach this node at)")
                }
                url = "http://\(host):\(port)"
            }
            return ClusterConfiguration(servers: servers, node: node, advertisedURL: url, lease: .seconds(leaseSeconds))
        }
    }

    /// The mail channel's settings from the flags.
    var mailSettings: MailSettings {
        get throws {
            guard var address = MailAddress.parse(mailAddress) else {
                throw ValidationError("--mail-address \(mailAddress) is not an address")
            }
            address.displayName = mailName.isEmpty ? nil : mailName
            var routes: [String: String] = [:]
            for route in mailRoute {
                let parts = route.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, MailAddress.parse(parts[0]) != nil, Identifier.problem(with: parts[1]) == nil else {
                    throw ValidationError("--mail-route \(route) must be ADDRESS=PRODUCT")
                }
                routes[parts[0]] = parts[1]
            }
            if let problem = Identifier.problem(with: mailProduct) { throw ValidationError("--mail-product \(problem)") }
            guard mailMaxBytes >= 1024 else { throw ValidationError("--mail-max-bytes must be at least 1024") }
            return MailSettings(
                address: address, productByAddress: routes, defaultProduct: mailProduct, maximumMessageBytes: mailMaxBytes)
        }
    }

    /// The relay's settings from the flags; nil without `--smtp`.
    var smtpConfiguration: SMTPConfiguration? {
        get throws {
            guard let smtp else { return nil }
            guard var configuration = SMTPConfiguration.parse(hostPort: smtp) else {
                throw ValidationError("--smtp \(smtp) must be host:port")
            }
            switch smtpTls {
            case "when-offered": configuration.tls = .startTLSWhenOffered
            case "required": configuration.tls = .startTLSRequired
            case "never": configuration.tls = .never
            default: throw ValidationError("--smtp-tls must be when-offered, required or never")
            }
            configuration.verifyCertificates = !smtpInsecure
            configuration.heloName = try mailSettings.domain
            switch (smtpUser, smtpPasswordFile) {
            case (nil, nil): break
            case (let user?, let file?):
                if let mode = (try? FileManager.default.attributesOfItem(atPath: file))?[.posixPermissions] as? Int, mode & 0o077 != 0 {
                    throw ValidationError(
                        "--smtp-password-file \(file) is readable by others (mode \(String(mode, radix: 8))): make it owner-only")
                }
                guard let password = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw ValidationError("--smtp-password-file \(file) cannot be read")
                }
                configuration.credentials = (user: user, password: password.trimmingCharacters(in: .whitespacesAndNewlines))
            default: throw ValidationError("--smtp-user and --smtp-password-file go together")
            }
            return configuration
        }
    }

    var limits: ServerLimits {
        ServerLimits(
            requestsPerSecond: rateLimit, burst: rateBurst, concurrentLongPolls: maxLongPolls,
            concurrentPointInTimeFolds: maxAsOfFolds, idleTimeout: idleTimeout == 0 ? nil : .seconds(idleTimeout),
            metricsTeams: metricsTeams, importChunkEvents: importChunk)
    }

    func run() async throws {
        var logger = Logger(label: "supportd")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info

        var effectivePolicy = Policy.default
        if let policy {
            do {
                effectivePolicy = try Policy.parse(jsonData: try Data(contentsOf: URL(fileURLWithPath: policy)))
            } catch {
                throw ValidationError("policy file \(policy): \(error)")
            }
        }
        let directory: CustomerDirectory
        do { directory = try CustomerDirectory(path: customers) } catch { throw ValidationError("--customers: \(error.detail)") }
        let clusterNode = try clusterConfiguration.map { ClusterNode(configuration: $0, logger: logger) }
        let backend = try SupportBackend(
            dataDirectory: dataDir, policy: effectivePolicy, rebuildProjections: rebuild, limits: limits, mail: try mailSettings,
            customers: directory, replicator: clusterNode?.replicator, cluster: clusterNode,
            sharedAttachments: clusterNode.map { StreamAttachments(node: $0) })
        if let format = backend.store.migratedFromFormat {
            logger.notice(
                "migrated the data directory from store format \(format) (the events are unchanged; verify with support-replay verify)")
        }
        if demo {
            let appended = try await DemoData.load(into: backend, logger: logger)
            if appended > 0 { say("Demo data: \(appended) events appended.") }
        }
        let tokensPath = tokens ?? (dataDir + "/tokens.json")
        let tokenStore: TokenStore
        if FileManager.default.fileExists(atPath: tokensPath) {
            tokenStore = try TokenStore.load(path: tokensPath)
        } else {
            let created = try TokenStore.generate(
                path: tokensPath,
                principals: [
                    Principal(role: .admin, id: "admin"), Principal(role: .manager, id: "maya"),
                    Principal(role: .auditor, id: "audrey"), Principal(role: .agent, id: "amelie"),
                    Principal(role: .agent, id: "bruno"), Principal(role: .customer, id: "c-1001"),
                    Principal(role: .gateway, id: "mailgate"),
                ])
            tokenStore = TokenStore(created)
            // Secrets go to standard output (and so to logs) only for a demo (SPEC §7).
            if demo {
                say("Wrote fresh tokens to \(tokensPath):")
                for (token, principal) in created {
                    say(
                        "  \(principal.role.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(principal.id.padding(toLength: 8, withPad: " ", startingAt: 0)) \(token)"
                    )
                }
            } else {
                say("Wrote fresh tokens to \(tokensPath) (readable by this user only).")
            }
        }
        let host = self.host
        // The runners that follow the log and act on it (stopped before the projections and the log).
        // In a cluster they run on the leader only: a follower's log is the leader's, and its
        // mail, webhooks and automations are the leader's to send and append.
        var runners: [any Service] = []
        if let clusterNode {
            runners.append(ClusterNodeService(node: clusterNode, backend: backend))
            logger.info(
                "node \(clusterNode.configuration.node) of the cluster on \(clusterNode.configuration.servers.map(\.description).joined(separator: ","))"
            )
        }
        func leading(_ make: @escaping @Sendable () -> any Service) -> any Service {
            guard let clusterNode else { return make() }
            return LeaderOnlyService(membership: clusterNode, make: make)
        }
        if let configuration = try smtpConfiguration {
            runners.append(
                leading {
                    MailOutboxService(outbox: backend.makeOutbox(transport: SMTPRelay(client: SMTPClient(configuration: configuration))))
                })
            logger.info("mailing replies through \(configuration.host):\(configuration.port)")
        }
        if backend.makeAutomations() != nil {
            runners.append(leading { backend.makeAutomations().map { AutomationService(runner: $0) as any Service } ?? NoService() })
            logger.info("automations on (policy \"automations\")")
        }
        // Webhook deliveries always run: with no endpoint registered they do nothing.
        let addresses = try webhookAddresses
        runners.append(leading { WebhookDeliveryService(runner: backend.makeWebhooks(addresses: addresses)) })
        let app = buildApplication(
            backend: backend, tokens: tokenStore, host: host, port: port, logger: logger, services: runners
        ) { bound in
            say("supportd listening on http://\(host):\(bound)")
            say("Agent console: http://\(host):\(bound)/console · dashboard: http://\(host):\(bound)/ (sign in with a token)")
            say("Try: curl -H 'Authorization: Bearer <token from \(tokensPath)>' http://\(host):\(bound)/v1/tickets/T-1")
        }
        // Graceful shutdown goes in reverse order: the notifier first (long-polls answer at once),
        // then the HTTP server drains, then (inside the application) the projections and the log.
        // The contract gives a signalled shutdown 10 s: whatever still runs after 8 is cancelled.
        var configuration = ServiceGroupConfiguration(
            services: [app, ShutdownNotifier(backend: backend)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(8)
        let group = ServiceGroup(configuration: configuration)
        try await group.run()
    }
}

/// Writes a line to standard output at once (unbuffered, so a supervising process sees it).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// The outbox's transport in `supportd`: the SMTP relay of `--smtp`.
struct SMTPRelay: MailTransport {
    let client: SMTPClient

    func send(_ mail: MailEnvelope) async throws(MailDeliveryError) -> String { try await client.send(mail) }
}
