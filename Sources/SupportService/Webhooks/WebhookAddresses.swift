import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 (4 bytes) or IPv6 (16 bytes) address.
package struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    package var bytes: [UInt8]

    package init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses a literal (`192.0.2.1`, `2001:db8::1`; no brackets, no zone).
    package init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    /// The IPv4 address of an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), else nil.
    var mappedIPv4: IPAddress? {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else { return nil }
        return IPAddress(bytes: Array(bytes[12..<16]))
    }

    package var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) } != nil
        guard ok else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An address range `address/prefix` (a bare address is a range of one).
package struct CIDR: Sendable, Hashable, CustomStringConvertible {
    package var address: IPAddress
    package var prefix: Int

    /// Parses `192.0.2.0/24`, `fe80::/10` or a bare address; nil when malformed.
    package init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let address = IPAddress(String(parts[0])) else { return nil }
        let bits = address.bytes.count * 8
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let p = Int(parts[1]), p <= bits else {
                return nil
            }
            prefix = p
        } else {
            prefix = bits
        }
        self.address = address
    }

    package func contains(_ candidate: IPAddress) -> Bool {
        guard candidate.bytes.count == address.bytes.count else { return false }
        var remaining = prefix
        for k in 0..<address.bytes.count where remaining > 0 {
            let take = min(8, remaining)
            let mask: UInt8 = take == 8 ? 0xFF : ~(0xFF >> UInt8(take))
            if candidate.bytes[k] & mask != address.bytes[k] & mask { return false }
            remaining -= take
        }
        return true
    }

    package var description: String { "\(address)/\(prefix)" }
}

/// Which addresses webhooks may be delivered to (server-side request forgery): an address in
/// ``allowed`` is taken; else one in ``refused`` (the defaults plus `--webhook-deny`) is not.
package struct WebhookAddressPolicy: Sendable, Equatable {
    /// Refused by default: link-local, cloud metadata, unspecified, multicast and broadcast.
    package static let defaultRefused: [CIDR] = [
        "169.254.0.0/16", "fe80::/10", "169.254.169.254/32", "fd00:ec2::254/128", "100.100.100.200/32", "192.0.0.192/32",
        "0.0.0.0/8", "::/128", "224.0.0.0/4", "ff00::/8", "255.255.255.255/32",
    ].compactMap { CIDR($0) }

    package var allowed: [CIDR]
    package var refused: [CIDR]

    package init(allow: [CIDR] = [], deny: [CIDR] = []) {
        allowed = allow
        refused = Self.defaultRefused + deny
    }

    /// Nil when `address` may be contacted, else why not.
    package func problem(with address: IPAddress) -> String? {
        let candidates = [address] + (address.mappedIPv4.map { [$0] } ?? [])
        if candidates.contains(where: { a in allowed.contains { $0.contains(a) } }) { return nil }
        for a in candidates {
            if let range = refused.first(where: { $0.contains(a) }) { return "address \(address) is refused (\(range))" }
        }
        return nil
    }
}

/// Resolves a host name to its addresses.
package protocol WebhookResolver: Sendable {
    /// The addresses of `host` (an IP literal resolves to itself); empty when it does not resolve.
    func addresses(of host: String) async -> Result<[IPAddress], WebhookFailure>
}

/// Why a delivery attempt failed before or while contacting the endpoint.
package struct WebhookFailure: Error, Sendable, Equatable {
    package var detail: String
    package init(_ detail: String) { self.detail = detail }
}

/// `getaddrinfo`, on a thread of its own (it blocks).
package struct SystemResolver: WebhookResolver {
    package init() {}

    package func addresses(of host: String) async -> Result<[IPAddress], WebhookFailure> {
        if let literal = IPAddress(host) { return .success([literal]) }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: Self.resolve(host)) }
        }
    }

    static func resolve(_ host: String) -> Result<[IPAddress], WebhookFailure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let first = list else {
            return .failure(WebhookFailure("cannot resolve \(host): \(String(cString: gai_strerror(status)))"))
        }
        defer { freeaddrinfo(first) }
        var found: [IPAddress] = []
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let info = next {
            if let sa = info.pointee.ai_addr {
                if info.pointee.ai_family == AF_INET {
                    let a = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { p in
                        withUnsafeBytes(of: p.pointee.sin_addr) { Array($0) }
                    }
                    if let ip = IPAddress(bytes: a), !found.contains(ip) { found.append(ip) }
                } else if info.pointee.ai_family == AF_INET6 {
                    let a = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                        withUnsafeBytes(of: p.pointee.sin6_addr) { Array($0) }
                    }
                    if let ip = IPAddress(bytes: a), !found.contains(ip) { found.append(ip) }
                }
            }
            next = info.pointee.ai_next
        }
        if found.isEmpty { return .failure(WebhookFailure("\(host) has no address")) }
        return .success(found)
    }
}
