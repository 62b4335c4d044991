import Foundation

/// Number formats for result tables: fixed, locale-independent, easy to compare by eye.
enum NumberFormat {
    /// A whole number with thousands separators: `1,234,567`.
    static func grouped(_ value: Double) -> String {
        let digits = String(Int(value.rounded()).magnitude)
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return value < -0.5 ? "-" + grouped : grouped
    }

    static func fixed(_ value: Double, digits: Int) -> String {
        String(format: "%.\(digits)f", value)
    }

    /// A ratio such as `0.87`.
    static func ratio(_ value: Double) -> String { fixed(value, digits: 2) }

    /// CPU seconds, enough digits for the small per-100k figures.
    static func cpuSeconds(_ value: Double) -> String { fixed(value, digits: 3) }

    static func mebibytes(kibibytes: Double) -> String { fixed(kibibytes / 1024, digits: 1) + " MiB" }
}
