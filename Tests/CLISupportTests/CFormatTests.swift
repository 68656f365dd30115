import CLISupport
import Foundation
import Testing

/// `String(cFormat:)` writes what Foundation's `String(format:)` writes, for
/// the formats the commands print with.
@Suite struct CFormatTests {
    static let formats = ["%.0f", "%.2e", "%.3g", "%.3f", "%.4g", "%.1f KiB", "%5d   %13.3f   "]
    static let values: [Double] = [
        0, -0.0, 1, -1, 0.5, 1.5, 2.5, 1e-3, 1.38e-05, 8.82e-06, 0.0575, 123_456.789, -9.999e-7, 1e300, .leastNonzeroMagnitude,
        .infinity, -.infinity, .nan, Double(Float(1) / 3), Double.pi,
    ]

    @Test(arguments: formats)
    func matchesFoundation(_ format: String) {
        for value in Self.values {
            if format.contains("%5d") {
                #expect(String(cFormat: format, 42, value) == String(format: format, 42, value), "\(format) \(value)")
            } else {
                #expect(String(cFormat: format, value) == String(format: format, value), "\(format) \(value)")
            }
        }
    }

    @Test func floatsAndIntegersAsFoundationTakesThem() {
        let float: Float = 1.3800001e-05
        #expect(String(cFormat: "%.2e", float) == String(format: "%.2e", float))
        for byte: UInt8 in [0, 9, 0x0A, 0x7F, 0xFF] {
            #expect(String(cFormat: "%02x", byte) == String(format: "%02x", byte))
        }
        #expect(String(cFormat: "plain") == "plain")
        #expect(String(cFormat: "") == "")
        #expect(String(cFormat: "%05000d", 7) == String(format: "%05000d", 7))
    }
}
