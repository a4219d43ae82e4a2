import SupportDomain

/// A support team (queue). The first four are the products: a ticket starts in its product's team.
enum Team: Int, CaseIterable {
    case domains, hosting, vps, email, vpsL2, hostingL2, abuse, billing

    /// The products customers open tickets about.
    static let products: [Team] = [.domains, .hosting, .vps, .email]

    var id: String {
        switch self {
        case .domains: "domains"
        case .hosting: "hosting"
        case .vps: "vps"
        case .email: "email"
        case .vpsL2: "vps-l2"
        case .hostingL2: "hosting-l2"
        case .abuse: "abuse"
        case .billing: "billing"
        }
    }
}

extension Channel {
    /// A human answers phone and chat, so they only open during business hours.
    var needsStaff: Bool { self == .phone || self == .chat }
}

/// The language a customer writes in; agents answer Russian speakers in English.
enum Language {
    case french, english, russian
}

/// The tags agents and automations put on tickets.
enum Tag: Int, CaseIterable {
    case dns, dnssec, transfer, renewal, whois, ssl, php, http500, performance, mysql, malware
    case ftp, backup, outage, network, boot, disk, upgrade, ddos, snapshot, rdns, mx
    case deliverability, spf, quota, imap, alias, vip, followUp, waitingThirdParty, escalated
    case slaRisk, handover, refund, duplicate, spam, monitoring

    var id: String {
        switch self {
        case .dns: "dns"
        case .dnssec: "dnssec"
        case .transfer: "transfer"
        case .renewal: "renewal"
        case .whois: "whois"
        case .ssl: "ssl"
        case .php: "php"
        case .http500: "http-500"
        case .performance: "performance"
        case .mysql: "mysql"
        case .malware: "malware"
        case .ftp: "ftp"
        case .backup: "backup"
        case .outage: "outage"
        case .network: "network"
        case .boot: "boot"
        case .disk: "disk"
        case .upgrade: "upgrade"
        case .ddos: "ddos"
        case .snapshot: "snapshot"
        case .rdns: "rdns"
        case .mx: "mx"
        case .deliverability: "deliverability"
        case .spf: "spf-dkim"
        case .quota: "quota"
        case .imap: "imap"
        case .alias: "alias"
        case .vip: "vip"
        case .followUp: "follow-up"
        case .waitingThirdParty: "waiting-third-party"
        case .escalated: "escalated"
        case .slaRisk: "sla-risk"
        case .handover: "handover"
        case .refund: "refund"
        case .duplicate: "duplicate"
        case .spam: "spam"
        case .monitoring: "monitoring"
        }
    }

    /// Tags agents add along the way (not tied to a topic).
    static let workflow: [Tag] = [.followUp, .slaRisk, .handover, .refund]
}
