// swift-tools-version: 6.2
//
// Molecule Host: a server that provisions and runs long-lived AI-agent workspaces on pluggable backends.
// Backends are shared libraries behind a versioned C ABI (`Sources/ProviderABI`). The Host never links a provider
// target: it loads them with dlopen. Nothing Swift-typed crosses that boundary, only C types and JSON bytes.

import PackageDescription

let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    // Allowed in a versioned dependency (SwiftPM refuses raw compiler flags there, and ignores warning control for
    // dependencies): a third party can depend on ProviderKit by version.
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "molecule-host",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "molecule-host", targets: ["Host"]),
        .executable(name: "molecule-bench", targets: ["HostBenchmarks"]),
        // The process a provider runs in under process isolation (started by the Host, never by hand).
        .executable(name: "molecule-provider-runner", targets: ["ProviderRunner"]),
        // The per-workspace supervisor the Process provider starts each workload under (subreaper, cgroup join, exit status).
        .executable(name: "molecule-workload-supervisor", targets: ["WorkloadSupervisor"]),
        // The reference agent: the Process provider's default workload (registers, heartbeats, answers A2A).
        .executable(name: "molecule-agent", targets: ["ReferenceAgent"]),
        // Providers: drop-in shared objects, loaded by the Host at run time (never linked into it).
        .library(name: "ProviderProcess", type: .dynamic, targets: ["ProviderProcess"]),
        // A provider whose verbs do nothing: the benchmark's probe for the cost of the ABI itself.
        .library(name: "ProviderNoop", type: .dynamic, targets: ["ProviderNoop"]),
        .library(name: "ProviderDocker", type: .dynamic, targets: ["ProviderDocker"]),
        .library(name: "ProviderEC2", type: .dynamic, targets: ["ProviderEC2"]),
        // One-defect providers over the Process provider's .so: the contract suite must fail every one (Tests/ContractMutants).
        .library(name: "ContractMutants", type: .dynamic, targets: ["ContractMutants"]),
        // The SDK for provider authors.
        // The SDK modules a provider imports: ProviderKit, the wire types and the C header.
        .library(name: "ProviderKit", targets: ["ProviderKit", "ProviderWire", "ProviderABI"]),
        // What the fuzz targets (Fuzz/) link: the tar reader and every network-fed request decoder.
        .library(name: "HostRequests", targets: ["HostRequests", "ProviderWire"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        // MARK: The contract
        .target(name: "ProviderABI", path: "Sources/ProviderABI", exclude: ["abi-lock.json"]),

        // MARK: C libraries (system)
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CLibSSH", pkgConfig: "libssh", providers: [.apt(["libssh-dev"])]),
        // Tar archives from clients and engines are read by libarchive, never by a hand-written parser.
        .systemLibrary(name: "CLibArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),

        // MARK: Shared value types (JSON wire shapes). Linked statically into Host and providers; no value of
        // these types ever crosses the ABI — they are encoded to JSON bytes on one side and decoded on the other.
        .target(name: "ProviderWire", dependencies: ["CLibArchive"], swiftSettings: strictSettings),

        // The request bodies the Host accepts from the network, decoded and bounded (small: the fuzz targets link it).
        .target(name: "HostRequests", dependencies: ["ProviderWire"], swiftSettings: strictSettings),

        // MARK: SDK for provider authors
        .target(name: "ProviderKit", dependencies: ["ProviderABI", "ProviderWire"], swiftSettings: strictSettings),

        // MARK: Providers
        // dladdr (a GNU extension Swift's Glibc does not import): where the Process provider's library was loaded from.
        .target(name: "CProcessSupport", path: "Sources/CProcessSupport"),
        .target(
            name: "ProviderProcess", dependencies: ["ProviderKit", "ProviderABI", "ProviderWire", "CProcessSupport"], swiftSettings: strictSettings),

        // libcurl for the providers that speak HTTP (Docker Engine API, EC2 Query API).
        .target(name: "ProviderHTTP", dependencies: ["ProviderKit", "ProviderWire", "CCurl"], swiftSettings: strictSettings),
        .target(name: "ProviderDocker", dependencies: ["ProviderKit", "ProviderABI", "ProviderWire", "ProviderHTTP"], swiftSettings: strictSettings),
        .target(
            name: "ProviderEC2", dependencies: ["ProviderKit", "ProviderABI", "ProviderWire", "ProviderHTTP", "CLibSSH"],
            swiftSettings: strictSettings
        ),
        .target(name: "ContractMutantCatalogue", path: "Tests/ContractMutants/Catalogue", swiftSettings: strictSettings),
        .target(
            name: "ContractMutants", dependencies: ["ProviderABI", "ProviderWire", "CProcessSupport", "ContractMutantCatalogue"],
            path: "Tests/ContractMutants/Library", swiftSettings: strictSettings
        ),
        .target(
            name: "ProviderNoop",
            dependencies: ["ProviderKit", "ProviderABI", "ProviderWire"],
            path: "Benchmarks/ProviderNoop",
            swiftSettings: strictSettings
        ),

        // MARK: Host side
        // The two Linux calls the runner needs that Swift cannot make (variadic prctl, close_range).
        .target(name: "CRunnerSupport", path: "Sources/CRunnerSupport"),
        .target(
            name: "ProviderHost",
            dependencies: [
                "ProviderABI", "ProviderWire", "CRunnerSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ContractSuite",
            dependencies: [
                "ProviderHost", "ProviderWire",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "HostStore",
            dependencies: [
                "CLibPQ", "ProviderWire",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            resources: [.copy("Resources/migrations")],
            swiftSettings: strictSettings
        ),
        // The only server module that may import ProviderHost: every provider call goes through its Dispatcher.
        .target(
            name: "HostDispatch",
            dependencies: [
                "HostStore", "ProviderHost", "ProviderWire", .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "HostAPI",
            dependencies: [
                "HostStore", "HostDispatch", "HostRequests", "ProviderWire",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Resources/openapi.yaml")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "Host",
            dependencies: [
                "ProviderHost", "ContractSuite", "HostAPI", "HostStore", "HostDispatch",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // The provider kit's templates: embedded by scripts/embed-scaffold (Scaffold/ScaffoldTemplates.swift).
            exclude: ["Scaffold/Templates"],
            swiftSettings: strictSettings
        ),
        .executableTarget(name: "ProviderRunner", dependencies: ["ProviderHost"], swiftSettings: strictSettings),
        // Plain C: small, starts in a millisecond, async-signal-safe by construction (see its main.c).
        .executableTarget(name: "WorkloadSupervisor", path: "Sources/WorkloadSupervisor"),
        .executableTarget(
            name: "ReferenceAgent",
            dependencies: [
                "ProviderHTTP", "ProviderWire",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "HostBenchmarks",
            dependencies: ["ProviderHost", "ProviderWire", "ProviderABI"],
            path: "Benchmarks/HostBenchmarks",
            swiftSettings: strictSettings
        ),

        // MARK: Tests
        .testTarget(
            name: "ProviderHostTests",
            dependencies: [
                "ProviderHost", "ContractSuite", "ProviderWire", "HostAPI", "ContractMutantCatalogue",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The EC2 provider's pure logic (its behaviour against moto and an sshd is in HostTests).
        .testTarget(
            name: "ProviderEC2Tests", dependencies: ["ProviderEC2", "ProviderKit", "ProviderWire", "ProviderHTTP"], swiftSettings: strictSettings),
        .testTarget(
            name: "HostTests",
            dependencies: [
                "HostAPI", "HostStore", "HostDispatch", "ProviderWire", "ProviderHost", "ContractSuite",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
