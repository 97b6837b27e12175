// swift-tools-version: 6.2
//
// A Molecule Host provider built outside the Host's repository: it depends on ProviderKit the way any third party
// would, by git URL and version, and builds one `.dynamic` library the Host loads with dlopen.
//
// The URL is the Host's repository unless MOLECULE_HOST_PACKAGE_URL names another (a mirror, or the temporary
// clone `scripts/external-provider` tags). No raw compiler flags: SwiftPM refuses them in versioned dependencies,
// and a provider's manifest should build for anyone.

import PackageDescription

let hostPackageURL = Context.environment["MOLECULE_HOST_PACKAGE_URL"] ?? "https://github.com/molecule-ai/molecule-host"

let package = Package(
    name: "provider-swift-external",
    platforms: [.macOS(.v15)],
    products: [
        // libDirectoryProvider.so: `molecule-host contract --provider .../libDirectoryProvider.so`.
        .library(name: "DirectoryProvider", type: .dynamic, targets: ["DirectoryProvider"])
    ],
    dependencies: [
        .package(url: hostPackageURL, from: "0.2.0")
    ],
    targets: [
        .target(
            name: "DirectoryProvider",
            dependencies: [.product(name: "ProviderKit", package: "molecule-host")],
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
                .treatAllWarnings(as: .error),
            ]
        )
    ]
)
