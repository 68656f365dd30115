// swift-tools-version: 6.0
//
// The architecture, one target per job (see README.md, "Architecture"):
//
//   System/*          C libraries found through pkg-config (libzip, libpng,
//                     libjpeg-turbo, libdeflate for CRC-32; zlib only for the
//                     fuzz harness's independent CRC); nothing else. OpenBLAS is opened
//                     at run time by Kernels (OpenBLAS.swift says why)
//   Core/SystemShim   the only file naming the platform's C library (Glibc or
//                     Darwin); every system call goes through it
//   Core/TensorCore   dtypes, shapes, strides, byte buffers and memory maps;
//                     no parsing
//   Reader/Pickle     the pickle machine: opcodes -> values, allowlisted
//                     globals only, nothing ever called
//   Reader/TorchCheckpoint
//                     zip and legacy torch.save files, safetensors -> tensors -> state_dict
//   Format/CRNNFormat our flat `.bin` weight file (formats/CRNN-BIN.md)
//   Kernels/Kernels   convolution, pooling, linear, GRU (AVX-512 or AVX2 C
//                     loops, or portable Swift + OpenBLAS); knows no model
//                     and no file
//   Kernels/CVectorKernels
//                     the kernels' vector inner loops (C), written once and
//                     compiled for AVX-512F and for AVX2 + FMA, used by
//                     Kernels on CPUs that have them
//   Model/CRNN        typed layers, strict building from a state_dict, the
//                     forward pass, CTC decoding
//   Images/ImageDecoding
//                     PNG and JPEG -> RGB exactly as PIL's convert('RGB');
//                     the libpng/libjpeg calls (which longjmp on errors) sit
//                     in the small C target Images/CImageDecoders (not named
//                     ImageIO: that is Apple's framework)
//   Runtime/CRNNRuntime
//                     the face a deployed app imports alone: TextRecognizer
//                     (a .bin -> texts from pixels, encoded images, files);
//                     links no pickle reader, libzip, crypto or Foundation
//   Pipelines/*       what the commands do, as libraries a program can call;
//                     Pipelines/SourceHashing is the SHA-256 (swift-crypto) a
//                     converted file records, passed in by crnn-convert so
//                     that Conversion, and so crnn-predict, link no
//                     cryptography and no full Foundation
//   CLI/*             thin argument-parser commands
//
// Products (the public faces): CRNNRuntime; Conversion (with Inspection and
// the .bin format's reader and metadata); TorchCheckpoint (with TensorCore's
// tensors and dtypes). Everything else is internal.
//
// Never: CRNNRuntime, CRNNFormat or Kernels importing Pickle/TorchCheckpoint;
// Kernels importing CRNN.
import PackageDescription

/// A C library wrapped as a SwiftPM system-library target.
func systemLibrary(_ name: String, pkgConfig: String, apt: String) -> Target {
    .systemLibrary(
        name: name, path: "Sources/System/\(name)", pkgConfig: pkgConfig,
        providers: [.apt([apt])])
}

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")

/// Imports are internal unless written `public import`, so the compiler refuses any public
/// signature that names a type from a target that is not part of a product (the audit of
/// "products are the public faces only", by construction).
let productFace: [SwiftSetting] = [.enableUpcomingFeature("InternalImportsByDefault")]

let package = Package(
    name: "crnn-swift",
    products: [
        // The public faces; every other target is internal (README, "Architecture").
        .library(name: "CRNNRuntime", targets: ["CRNNRuntime"]),
        .library(name: "Conversion", targets: ["Conversion", "Inspection", "CRNNFormat"]),
        .library(name: "TorchCheckpoint", targets: ["TorchCheckpoint", "TensorCore"]),
        .executable(name: "crnn-convert", targets: ["crnn-convert"]),
        .executable(name: "crnn-inspect", targets: ["crnn-inspect"]),
        .executable(name: "crnn-predict", targets: ["crnn-predict"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // `swift package generate-documentation --target CRNNRuntime` (no effect on builds).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        systemLibrary("CZip", pkgConfig: "libzip", apt: "libzip-dev"),
        systemLibrary("CPNG", pkgConfig: "libpng", apt: "libpng-dev"),
        systemLibrary("CJPEG", pkgConfig: "libjpeg", apt: "libjpeg62-turbo-dev"),
        systemLibrary("CZlib", pkgConfig: "zlib", apt: "zlib1g-dev"),
        systemLibrary("CDeflate", pkgConfig: "libdeflate", apt: "libdeflate-dev"),

        // The one place that names the platform's C library (Glibc or Darwin).
        .target(name: "SystemShim", path: "Sources/Core/SystemShim"),
        .target(name: "TensorCore", dependencies: ["SystemShim"], path: "Sources/Core/TensorCore", swiftSettings: productFace),
        .target(name: "Pickle", path: "Sources/Reader/Pickle"),
        .target(
            name: "TorchCheckpoint", dependencies: ["Pickle", "TensorCore", "CZip", "CDeflate"],
            path: "Sources/Reader/TorchCheckpoint", swiftSettings: productFace),
        .target(name: "CRNNFormat", dependencies: ["TensorCore", "SystemShim", "CDeflate"], path: "Sources/Format/CRNNFormat", swiftSettings: productFace),
        // OpenBLAS (apt: libopenblas-dev, installed by scripts/install-deps.sh) is opened at
        // run time, not linked: see Sources/Kernels/Kernels/OpenBLAS.swift for why.
        // The AVX-512 and AVX2 inner loops, in C because Swift cannot compile one function for a
        // newer instruction set; called only on CPUs that have it (Kernels/VectorUnit.swift).
        .target(name: "CVectorKernels", path: "Sources/Kernels/CVectorKernels"),
        .target(name: "Kernels", dependencies: ["CVectorKernels", "SystemShim"], path: "Sources/Kernels/Kernels"),
        .target(name: "CRNN", dependencies: ["TensorCore", "Kernels"], path: "Sources/Model/CRNN"),
        .target(name: "CImageDecoders", dependencies: ["CPNG", "CJPEG"], path: "Sources/Images/CImageDecoders"),
        .target(name: "ImageDecoding", dependencies: ["CImageDecoders", "TensorCore"], path: "Sources/Images/ImageDecoding"),

        .target(
            name: "CRNNRuntime", dependencies: ["CRNN", "CRNNFormat", "ImageDecoding", "Kernels", "TensorCore", "SystemShim"],
            path: "Sources/Runtime/CRNNRuntime", swiftSettings: productFace),
        .target(
            name: "Inspection", dependencies: ["TorchCheckpoint", "CRNNFormat", "CRNN", "Conversion", "TensorCore"],
            path: "Sources/Pipelines/Inspection", swiftSettings: productFace),
        .target(
            name: "Conversion", dependencies: ["TorchCheckpoint", "CRNNFormat", "CRNN", "TensorCore", "SystemShim"],
            path: "Sources/Pipelines/Conversion", swiftSettings: productFace),
        .target(
            name: "SourceHashing", dependencies: ["TensorCore", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Pipelines/SourceHashing"),
        .target(
            name: "Prediction",
            dependencies: ["CRNN", "CRNNFormat", "CRNNRuntime", "ImageDecoding", "Conversion", "TensorCore", "SystemShim"],
            path: "Sources/Pipelines/Prediction"),

        .target(name: "CLISupport", dependencies: ["SystemShim", argumentParser], path: "Sources/CLI/CLISupport"),
        .executableTarget(
            name: "crnn-inspect", dependencies: ["Inspection", "CLISupport", argumentParser], path: "Sources/CLI/crnn-inspect"),
        .executableTarget(
            name: "crnn-convert", dependencies: ["Conversion", "SourceHashing", "CLISupport", argumentParser], path: "Sources/CLI/crnn-convert"),
        .executableTarget(
            name: "crnn-predict", dependencies: ["Prediction", "CLISupport", argumentParser], path: "Sources/CLI/crnn-predict"),

        .executableTarget(
            name: "crnn-bench", dependencies: ["Prediction", "CRNN", "Kernels", "CLISupport", "SystemShim", argumentParser],
            path: "Sources/CLI/crnn-bench"),

        .target(name: "TestSupport", dependencies: ["TensorCore", "SystemShim"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"]),
        .testTarget(name: "PickleTests", dependencies: ["Pickle", "TestSupport"]),
        .testTarget(name: "TorchCheckpointTests", dependencies: ["TorchCheckpoint", "TestSupport"]),
        .testTarget(name: "CRNNFormatTests", dependencies: ["CRNNFormat", "TestSupport"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "CVectorKernels", "TestSupport"]),
        .testTarget(name: "CRNNTests", dependencies: ["CRNN", "Kernels", "CVectorKernels", "TestSupport"]),
        .testTarget(
            name: "ImageDecodingTests",
            dependencies: ["ImageDecoding", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(
            name: "PipelineTests",
            dependencies: ["Inspection", "Conversion", "SourceHashing", "Prediction", "CRNNRuntime", "TestSupport"]),
        .testTarget(name: "CLISupportTests", dependencies: ["CLISupport"]),
        .testTarget(
            name: "CRNNRuntimeTests", dependencies: ["CRNNRuntime", "ImageDecoding", "Conversion", "SourceHashing", "TestSupport"]),
    ]
)
