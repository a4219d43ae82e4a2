import SupportDomain

/// The roles of the API (SPEC §7).
package enum Role: String, Sendable, CaseIterable {
    case customer, agent, manager, auditor, admin
    /// The mail gateway (`support-mailgate`, or a provider's webhook): hands mail in with
    /// `POST /v1/mail` and may do nothing else. What it writes is the sender's (a customer's).
    case gateway

    /// The actor kind a role writes as; auditors and gateways never write as themselves.
    package var actorKind: ActorKind? {
        switch self {
        case .customer: .customer
        case .agent: .agent
        case .manager: .manager
        case .admin: .admin
        case .auditor, .gateway: nil
        }
    }
}

/// Who is calling: the role and id a bearer token maps to.
package struct Principal: Sendable, Hashable {
    /// The role the token grants.
    package var role: Role
    /// The customer's, agent's or staff member's id.
    package var id: String

    package init(role: Role, id: String) {
        self.role = role
        self.id = id
    }

    /// The actor of this principal's commands; nil for auditors.
    package var actor: SupportActor? { role.actorKind.map { SupportActor(kind: $0, id: id) } }
}
