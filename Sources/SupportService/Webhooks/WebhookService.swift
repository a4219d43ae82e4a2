import EventLog
import Logging
import ServiceLifecycle

extension SupportBackend {
    /// The runner delivering to the registered webhook endpoints through `transport` (HTTP by
    /// default), following this log with a checkpoint per endpoint in ``checkpoints``. Run it with
    /// ``WebhookDeliveryService``; it does nothing while no endpoint is registered.
    package func makeWebhooks(
        transport: any WebhookTransport = HTTPWebhookTransport(), resolver: any WebhookResolver = SystemResolver(),
        addresses: WebhookAddressPolicy = WebhookAddressPolicy(), retry: WebhookRetryPolicy = WebhookRetryPolicy(),
        wallClock: @escaping @Sendable () -> Timestamp = { Timestamp.now() }, logger: Logger = Logger(label: "webhooks")
    ) -> WebhookRunner {
        let runner = WebhookRunner(
            store: store, checkpoints: checkpoints, sealer: webhooks.sealer, transport: transport, resolver: resolver,
            addresses: addresses, retry: retry, clock: wallClock, logger: logger)
        webhooks.attach(runner)
        return runner
    }
}

/// Runs the webhook deliveries while the server runs (stopped with the other services at shutdown).
package struct WebhookDeliveryService: Service {
    let runner: WebhookRunner
    package init(runner: WebhookRunner) { self.runner = runner }

    package func run() async throws {
        await cancelWhenGracefulShutdown { await runner.run() }
    }
}
