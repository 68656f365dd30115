// Reads the bundled sample captchas with the converted model, from their
// files, and one more from pixels this program holds in memory (a padded
// RGBA buffer, as a camera or a graphics library hands them over).
//
//     swift run recognize-captchas [MODEL.bin] [SAMPLES-FOLDER]
//
// MODEL.bin defaults to ../out/crnn.bin (`crnn-convert fixtures/model/crnn.pt
// out/crnn.bin` at the top of the repository writes it).
import CRNNRuntime
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc  // exit
#elseif canImport(Darwin)
import Darwin
#endif

let arguments = CommandLine.arguments.dropFirst()
let modelPath = arguments.first ?? "../out/crnn.bin"
let samplesFolder = arguments.dropFirst().first ?? "../fixtures/samples"

do {
    let recognizer = try TextRecognizer(contentsOf: modelPath)
    print("model: \(modelPath), \(recognizer.model.classes) classes, heights \(recognizer.model.acceptedHeights)")

    // Files: every sample, as one batch (one result per image, in order).
    let names = try FileManager.default.contentsOfDirectory(atPath: samplesFolder)
        .filter { $0.hasSuffix(".png") || $0.hasSuffix(".jpg") }.sorted()
    let results = recognizer.recognize(names.map { .file(samplesFolder + "/" + $0) })
    var matching = 0
    for (name, result) in zip(names, results) {
        switch result {
        case let .success(recognition):
            let label = String(name.prefix { $0 != "." })
            if recognition.text == label { matching += 1 }
            print("\(name)\t\(recognition.text)\tconfidence \(String(Int(recognition.confidence * 100)))%")
        case let .failure(error):
            print("\(name)\tfailed: \(error)")
        }
    }
    print("files: \(matching)/\(names.count) read as their names")

    // Pixels in memory: the first sample's pixels copied into RGBA rows
    // padded to a multiple of 64 bytes, read straight from that buffer.
    guard let first = names.first else { throw RecognitionError.unreadableImage(image: samplesFolder, message: "no samples") }
    let encoded = [UInt8](try Data(contentsOf: URL(fileURLWithPath: samplesFolder + "/" + first)))
    let rgb = try PixelImage(decoding: encoded, name: first)
    let bytesPerRow = (rgb.width * 4 + 63) / 64 * 64
    var rgba = [UInt8](repeating: 0, count: bytesPerRow * rgb.height)
    for y in 0..<rgb.height {
        for x in 0..<rgb.width {
            for channel in 0..<3 { rgba[y * bytesPerRow + 4 * x + channel] = rgb.bytes[3 * (y * rgb.width + x) + channel] }
            rgba[y * bytesPerRow + 4 * x + 3] = 255
        }
    }
    let fromPixels = try rgba.withUnsafeBytes { buffer in
        try recognizer.recognize(pixels: buffer, width: rgb.width, height: rgb.height, bytesPerRow: bytesPerRow,
                                 format: .rgba8, name: "\(first) as RGBA in memory")
    }
    print("pixels in memory (\(rgb.width)x\(rgb.height) RGBA, \(bytesPerRow) bytes per row): \(fromPixels.text)")
} catch {
    print("recognize-captchas: \(error)")
    exit(1)
}
