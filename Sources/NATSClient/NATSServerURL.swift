import Foundation

/// The address of one NATS server: `nats://host:port`, `host:port` or `host` (port 4222).
package struct NATSServerURL: Sendable, Hashable, CustomStringConvertible {
    /// The host name or address (an IPv6 address without its brackets).
    package let host: String
    /// The TCP port.
    package let port: Int

    /// An address from its parts.
    package init(host: String, port: Int = 4222) {
        self.host = host
        self.port = port
    }

    /// Parses `nats://host:port`, `host:port` or `host` (default port 4222); `[::1]:4222` for IPv6.
    /// Nil when it is empty, has another scheme, a path, or a port outside 1...65535.
    package init?(string: String) {
        var rest = Substring(string.trimmingCharacters(in: .whitespaces))
        if let range = rest.range(of: "://") {
            guard rest[..<range.lowerBound].lowercased() == "nats" else { return nil }
            rest = rest[range.upperBound...]
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty, !rest.contains("/"), !rest.contains("@"), !rest.contains(where: { $0 == " " }) else { return nil }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
            guard !host.contains(":") else { return nil }
        } else {
            host = rest
        }
        guard !host.isEmpty else { return nil }
        var port = 4222
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else { return nil }
            port = value
        }
        self.init(host: String(host), port: port)
    }

    /// Parses a comma-separated list (`nats://a:4222,nats://b:4222`); nil when it is empty or one entry is not an address.
    package static func list(_ text: String) -> [NATSServerURL]? {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        var urls: [NATSServerURL] = []
        for part in parts {
            guard let url = NATSServerURL(string: String(part)) else { return nil }
            if !urls.contains(url) { urls.append(url) }
        }
        return urls.isEmpty ? nil : urls
    }

    /// `nats://host:port`.
    package var description: String {
        host.contains(":") ? "nats://[\(host)]:\(port)" : "nats://\(host):\(port)"
    }
}
