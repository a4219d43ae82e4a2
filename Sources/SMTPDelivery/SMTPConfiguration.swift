/// Where and how ``SMTPClient`` hands messages over: the relay, the name it greets with, the TLS
/// policy, optional credentials and the time it waits for each reply.
package struct SMTPConfiguration: Sendable {
    /// The relay's host name or IP address (an IPv6 address without brackets).
    package var host: String
    /// The relay's TCP port.
    package var port: Int
    /// The argument of EHLO (and HELO): the name this client gives itself.
    package var heloName: String
    /// When to upgrade the connection with STARTTLS.
    package var tls: TLSMode
    /// Whether the relay's certificate must be valid for `host` and chain to a system trust root.
    /// `false` only for a relay on loopback with a self-signed certificate.
    package var verifyCertificates: Bool
    /// AUTH PLAIN (or LOGIN, when PLAIN is not offered) with these credentials. They are sent only
    /// over TLS, or in the clear to a relay on a loopback address.
    package var credentials: (user: String, password: String)?
    /// How long the client waits for each reply (and for the TCP connection).
    package var timeout: Duration

    /// The STARTTLS policy.
    package enum TLSMode: Sendable, Equatable {
        /// Upgrade when the relay offers STARTTLS; go on in the clear when it does not.
        case startTLSWhenOffered
        /// Upgrade, or fail (transiently) when the relay does not offer STARTTLS.
        case startTLSRequired
        /// Never upgrade.
        case never
    }

    /// A relay at `host:port`, greeted as "localhost", TLS when offered with verified
    /// certificates, no credentials, 60 seconds per reply.
    package init(host: String, port: Int) {
        self.host = host
        self.port = port
        self.heloName = "localhost"
        self.tls = .startTLSWhenOffered
        self.verifyCertificates = true
        self.credentials = nil
        self.timeout = .seconds(60)
    }

    /// Reads `host:port`, `[IPv6]:port`, `host` or `[IPv6]` (port 25); `nil` for anything else
    /// (an empty host, a port outside 1...65535, an unbracketed IPv6 address with a port).
    package static func parse(hostPort: String) -> SMTPConfiguration? {
        let text = hostPort.trimmingWhitespace()
        guard !text.isEmpty else { return nil }
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return nil }
                portText = rest.dropFirst()
            }
            guard host.contains(":") else { return nil }
        } else {
            let colons = text.count(where: { $0 == ":" })
            if colons == 1, let colon = text.firstIndex(of: ":") {
                host = text[..<colon]
                portText = text[text.index(after: colon)...]
            } else if colons == 0 {
                host = Substring(text)
            } else {
                return nil
            }
        }
        guard !host.isEmpty, host.allSatisfy({ !$0.isWhitespace && $0 != "/" && $0 != "[" && $0 != "]" }) else { return nil }
        var port = 25
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = Int(portText), (1...65535).contains(value)
            else { return nil }
            port = value
        }
        return SMTPConfiguration(host: String(host), port: port)
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }
}
