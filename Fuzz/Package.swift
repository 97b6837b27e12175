// swift-tools-version: 6.2
//
// libFuzzer targets for what the Host reads from the network: the tar reader (plugin archives) and every JSON
// request decoder. Separate from the main package so its instrumented build (`-sanitize=fuzzer`) never touches the
// main build. Run by `scripts/fuzz` (a bounded time per target; the corpus under corpus/ is committed).

import PackageDescription

let package = Package(
    name: "molecule-fuzz",
    dependencies: [.package(name: "molecule-host", path: "..")],
    targets: [
        .target(name: "FuzzDriver", swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(
            name: "FuzzTar", dependencies: ["FuzzDriver", .product(name: "HostRequests", package: "molecule-host")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "FuzzRequests", dependencies: ["FuzzDriver", .product(name: "HostRequests", package: "molecule-host")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
