// swift-tools-version: 6.0
//
// The architecture, one target per job (see README.md, "Architecture"):
//
//   System/*          C libraries found through pkg-config (libzip, libpng,
//                     libjpeg-turbo, libdeflate for CRC-32; zlib only for the
//                     fuzz harness's independent CRC); nothing else. OpenBLAS is opened
//                     at run time by Kernels (OpenBLAS.swift says why)
//   Core/TensorCore   dtypes, shapes, strides, byte buffers and memory maps;
//                     no parsing
//   Reader/Pickle     the pickle machine: opcodes -> values, allowlisted
//                     globals only, nothing ever called
//   Reader/TorchCheckpoint
//                     zip and legacy torch.save files, safetensors -> tensors -> state_dict
//   Format/CRNNFormat our flat `.bin` weight file (formats/CRNN-BIN.md)
//   Kernels/Kernels   convolution, pooling, linear, GRU (AVX-512 C loops
//                     or portable Swift + OpenBLAS); knows no model and no file
//   Kernels/CVectorKernels
//                     the kernels' AVX-512 inner loops (C), used by
//                     Kernels on CPUs that have AVX-512F
//   Model/CRNN        typed layers, strict building from a state_dict, the
//                     forward pass, CTC decoding
//   Images/ImageIO    PNG and JPEG -> RGB exactly as PIL's convert('RGB');
//                     the libpng/libjpeg calls (which longjmp on errors) sit
//                     in the small C target Images/CImageDecoders
//   Pipelines/*       what the commands do, as libraries a program can call;
//                     Pipelines/SourceHashing is the SHA-256 (swift-crypto) a
//                     converted file records, passed in by crnn-convert so
//                     that Conversion, and so crnn-predict, link no
//                     cryptography and no full Foundation
//   CLI/*             thin argument-parser commands
//
// Never: CRNNFormat or Kernels importing Pickle/TorchCheckpoint; Kernels
// importing CRNN.
import PackageDescription

/// A C library wrapped as a SwiftPM system-library target.
func systemLibrary(_ name: String, pkgConfig: String, apt: String) -> Target {
    .systemLibrary(
        name: name, path: "Sources/System/\(name)", pkgConfig: pkgConfig,
        providers: [.apt([apt])])
}

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "crnn-swift",
    products: [
        .library(name: "TorchCheckpoint", targets: ["TorchCheckpoint"]),
        .library(name: "Pickle", targets: ["Pickle"]),
        .library(name: "CRNNFormat", targets: ["CRNNFormat"]),
        .library(name: "CRNN", targets: ["CRNN"]),
        .library(name: "ImageIO", targets: ["ImageIO"]),
        .library(name: "Conversion", targets: ["Conversion"]),
        .library(name: "SourceHashing", targets: ["SourceHashing"]),
        .library(name: "Prediction", targets: ["Prediction"]),
        .executable(name: "crnn-convert", targets: ["crnn-convert"]),
        .executable(name: "crnn-inspect", targets: ["crnn-inspect"]),
        .executable(name: "crnn-predict", targets: ["crnn-predict"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        systemLibrary("CZip", pkgConfig: "libzip", apt: "libzip-dev"),
        systemLibrary("CPNG", pkgConfig: "libpng", apt: "libpng-dev"),
        systemLibrary("CJPEG", pkgConfig: "libjpeg", apt: "libjpeg62-turbo-dev"),
        systemLibrary("CZlib", pkgConfig: "zlib", apt: "zlib1g-dev"),
        systemLibrary("CDeflate", pkgConfig: "libdeflate", apt: "libdeflate-dev"),

        .target(name: "TensorCore", path: "Sources/Core/TensorCore"),
        .target(name: "Pickle", path: "Sources/Reader/Pickle"),
        .target(
            name: "TorchCheckpoint", dependencies: ["Pickle", "TensorCore", "CZip"],
            path: "Sources/Reader/TorchCheckpoint"),
        .target(name: "CRNNFormat", dependencies: ["TensorCore", "CDeflate"], path: "Sources/Format/CRNNFormat"),
        // OpenBLAS (apt: libopenblas-dev, installed by scripts/install-deps.sh) is opened at
        // run time, not linked: see Sources/Kernels/Kernels/OpenBLAS.swift for why.
        // The AVX-512 inner loops, in C because Swift cannot compile one function for a newer
        // instruction set; called only on CPUs that have it (Kernels/VectorUnit.swift).
        .target(name: "CVectorKernels", path: "Sources/Kernels/CVectorKernels"),
        .target(name: "Kernels", dependencies: ["CVectorKernels"], path: "Sources/Kernels/Kernels"),
        .target(name: "CRNN", dependencies: ["TensorCore", "Kernels"], path: "Sources/Model/CRNN"),
        .target(name: "CImageDecoders", dependencies: ["CPNG", "CJPEG"], path: "Sources/Images/CImageDecoders"),
        .target(name: "ImageIO", dependencies: ["CImageDecoders", "TensorCore"], path: "Sources/Images/ImageIO"),

        .target(
            name: "Inspection", dependencies: ["TorchCheckpoint", "CRNNFormat", "TensorCore"],
            path: "Sources/Pipelines/Inspection"),
        .target(
            name: "Conversion", dependencies: ["TorchCheckpoint", "CRNNFormat", "CRNN", "TensorCore"],
            path: "Sources/Pipelines/Conversion"),
        .target(
            name: "SourceHashing", dependencies: ["TensorCore", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Pipelines/SourceHashing"),
        .target(
            name: "Prediction", dependencies: ["CRNN", "CRNNFormat", "ImageIO", "Conversion", "TensorCore"],
            path: "Sources/Pipelines/Prediction"),

        .target(name: "CLISupport", dependencies: [argumentParser], path: "Sources/CLI/CLISupport"),
        .executableTarget(
            name: "crnn-inspect", dependencies: ["Inspection", "CLISupport", argumentParser], path: "Sources/CLI/crnn-inspect"),
        .executableTarget(
            name: "crnn-convert", dependencies: ["Conversion", "SourceHashing", "CLISupport", argumentParser], path: "Sources/CLI/crnn-convert"),
        .executableTarget(
            name: "crnn-predict", dependencies: ["Prediction", "CLISupport", argumentParser], path: "Sources/CLI/crnn-predict"),

        .executableTarget(
            name: "crnn-bench", dependencies: ["Prediction", "Kernels", "CLISupport", argumentParser],
            path: "Sources/CLI/crnn-bench"),

        .target(name: "TestSupport", dependencies: ["TensorCore"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"]),
        .testTarget(name: "PickleTests", dependencies: ["Pickle", "TestSupport"]),
        .testTarget(name: "TorchCheckpointTests", dependencies: ["TorchCheckpoint", "TestSupport"]),
        .testTarget(name: "CRNNFormatTests", dependencies: ["CRNNFormat", "TestSupport"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "TestSupport"]),
        .testTarget(name: "CRNNTests", dependencies: ["CRNN", "Kernels", "TestSupport"]),
        .testTarget(
            name: "ImageIOTests",
            dependencies: ["ImageIO", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(
            name: "PipelineTests", dependencies: ["Inspection", "Conversion", "SourceHashing", "Prediction", "TestSupport"]),
        .testTarget(name: "CLISupportTests", dependencies: ["CLISupport"]),
    ]
)
