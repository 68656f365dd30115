import Foundation

/// The CPU's vendor and model, as /proc/cpuinfo names them, for every figure
/// the benchmark prints.
struct CPUDescription {
    let vendor: String
    let modelName: String
    let family: String
    let model: String

    static let current: CPUDescription = {
        let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        func field(_ name: String) -> String {
            for line in text.split(separator: "\n") where line.hasPrefix(name) {
                if let colon = line.firstIndex(of: ":") {
                    return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
            }
            return "unknown"
        }
        return CPUDescription(vendor: field("vendor_id"), modelName: field("model name"), family: field("cpu family"),
                              model: field("model\t"))
    }()

    var json: [String: Any] { ["vendor": vendor, "model_name": modelName, "family": family, "model": model] }

    /// One line: `GenuineIntel Intel(R) Xeon(R) Processor (family 6, model 207)`.
    var summary: String { "\(vendor) \(modelName) (family \(family), model \(model))" }
}
