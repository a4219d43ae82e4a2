// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Ledgerdesk",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "EventLog", targets: ["EventLog"]),
        .library(name: "SupportDomain", targets: ["SupportDomain"]),
        .library(name: "Projections", targets: ["Projections"]),
        .executable(name: "supportd", targets: ["supportd"]),
        .executable(name: "support-replay", targets: ["support-replay"]),
        .executable(name: "eventlog-bench", targets: ["eventlog-bench"]),
        .executable(name: "eventlog-writer", targets: ["eventlog-writer"]),
        .executable(name: "support-mailgate", targets: ["support-mailgate"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        .systemLibrary(
            name: "CLMDB",
            path: "Sources/CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        .target(
            name: "EventLog",
            dependencies: [
                "CLMDB",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SupportDomain",
            dependencies: ["EventLog", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(
            name: "Projections",
            dependencies: [
                "EventLog", "SupportDomain",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Projections",
            swiftSettings: strict
        ),
        .target(
            name: "SupportService",
            dependencies: [
                "EventLog", "SupportDomain", "Projections", "MailMessage", "LogReplication",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SupportServer",
            dependencies: [
                "EventLog", "SupportDomain", "Projections", "SupportService", "LogReplication",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "supportd",
            dependencies: [
                "EventLog", "SupportDomain", "SupportService", "SupportServer", "DemoWorkload", "MailMessage", "SMTPDelivery",
                "LogReplication", "NATSClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "MailMessage",
            swiftSettings: strict
        ),
        .target(
            name: "SMTPDelivery",
            dependencies: [
                "MailMessage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "LogReplication",
            dependencies: [
                "EventLog", "NATSClient",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "NATSClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "DemoWorkload",
            dependencies: ["EventLog", "SupportDomain"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "eventlog-bench",
            dependencies: [
                "EventLog", "CLMDB",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Tools/eventlog-bench",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "support-replay",
            dependencies: [
                "EventLog", "SupportDomain", "SupportService", "Projections", "LogReplication", "NATSClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tools/support-replay",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "projection-bench",
            dependencies: [
                "EventLog", "SupportDomain", "Projections", "SupportService", "DemoWorkload",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tools/projection-bench",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "http-baseline",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            path: "Tools/http-baseline",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "eventlog-writer",
            dependencies: [
                "EventLog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/eventlog-writer",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "support-mailgate",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tools/support-mailgate",
            swiftSettings: strict
        ),
        .testTarget(
            name: "EventLogTests",
            dependencies: ["EventLog", "CLMDB"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SupportDomainTests",
            dependencies: ["SupportDomain", "EventLog"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ProjectionsTests",
            dependencies: ["Projections", "SupportDomain", "SupportService", "EventLog", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SupportServerTests",
            dependencies: [
                "SupportServer", "SupportService", "EventLog", "SupportDomain", "Projections", "MailMessage", "DemoWorkload",
                "LogReplication",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SupportMailgateTests",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SMTPDeliveryTests",
            dependencies: [
                "SMTPDelivery", "MailMessage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NATSClientTests",
            dependencies: [
                "NATSClient", "LogReplication", "EventLog",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MailMessageTests",
            dependencies: ["MailMessage"],
            exclude: ["Corpus"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DemoWorkloadTests",
            dependencies: ["DemoWorkload", "EventLog", "SupportDomain"],
            swiftSettings: strict
        ),
    ]
)
