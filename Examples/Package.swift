// swift-tools-version: 6.0
//
// A program that uses only the runtime product, CRNNRuntime, as an app that
// ships a converted model would: it depends on the crnn-swift package by
// path and imports nothing else of it.
import PackageDescription

let package = Package(
    name: "crnn-examples",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "crnn-swift", path: "..")],
    targets: [
        .executableTarget(
            name: "recognize-captchas",
            dependencies: [.product(name: "CRNNRuntime", package: "crnn-swift")]),
    ]
)
