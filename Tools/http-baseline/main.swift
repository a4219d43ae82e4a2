import Foundation
import Hummingbird

/// The baseline of the HTTP benchmarks: a bare Hummingbird server with one small JSON GET and
/// one POST that decodes and encodes a small JSON body, measured in the same run as supportd.
struct Echo: Codable, ResponseEncodable {
    var body: String
    var status: String?
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
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
