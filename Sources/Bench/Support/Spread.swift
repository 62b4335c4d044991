/// One figure measured over several runs: its median, minimum and maximum.
struct Spread: Sendable {
    let samples: [Double]

    init(_ samples: [Double]) {
        precondition(!samples.isEmpty, "a spread needs at least one sample")
        self.samples = samples.sorted()
    }

    var median: Double {
        let middle = samples.count / 2
        return samples.count % 2 == 1 ? samples[middle] : (samples[middle - 1] + samples[middle]) / 2
    }

    var min: Double { samples[0] }
    var max: Double { samples[samples.count - 1] }

    /// `median (min–max)`, each number formatted by `format`; just the median for one run.
    func formatted(_ format: (Double) -> String) -> String {
        samples.count == 1 ? format(median) : "\(format(median)) (\(format(min))–\(format(max)))"
    }
}
