import Testing

@testable import MailMessage
