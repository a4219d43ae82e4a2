import MailMessage

extension MailDeliveryError {
    /// A failure the relay may get over: try again later.
    static func transient(_ detail: String) -> MailDeliveryError { MailDeliveryError(permanent: false, detail: detail) }
}
