import Foundation
import Hummingbird
import Synchronization

/// The baseline of the HTTP benchmarks: a bare Hummingbird server with one small JSON GET and
/// one POST that decodes and encodes a small JSON body, measured in the same run as supportd.
struct Echo: Codable, ResponseEncodable {
    var body: String
    var status: String?
}

/// The webhook receiver of `Tools/bench/webhooks.sh`: `POST /hook` takes any body and answers
/// 204, `GET /hook/count` says how many it took.
final class Received: Sendable {
    static let shared = Received()
    let count = Atomic<Int>(0)
}

let port = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 8090
let router = Router()
router.get("small") { _, _ in
    Echo(body: "hello", status: "open")
}
router.post("echo") { request, context in
    var echo = try await request.decode(as: Echo.self, context: context)
    echo.status = "pending"
    return echo
}
router.post("hook") { request, _ -> HTTPResponse.Status in
    _ = try await request.body.collect(upTo: 1 << 20)
    Received.shared.count.add(1, ordering: .relaxed)
    return .noContent
}
router.get("hook/count") { _, _ in
    "\(Received.shared.count.load(ordering: .relaxed))\n"
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
