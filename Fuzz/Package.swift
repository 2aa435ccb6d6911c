// swift-tools-version:6.1
// The fuzzers: a package of its own because every module of it is built with -sanitize=fuzzer,address
// (see scripts/fuzz), which the daemon's own build must not be.
import PackageDescription

let package = Package(
    name: "SwitchboardFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Switchboard", path: "..")],
    targets: [
        .target(name: "CFuzzerDriver"),
        .executableTarget(
            name: "SwitchboardFuzzer",
            dependencies: ["CFuzzerDriver", .product(name: "SwitchboardFuzzing", package: "Switchboard")]
        ),
    ]
)
