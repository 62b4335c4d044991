/// Writes an integer's decimal digits straight into a byte array: the agent
/// does it for every log line's `seq` and every Redis argument's length, where
/// `String(value).utf8` would make a string each time.
enum ASCIIDecimal {
    static func append(_ value: Int, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var rest = value.magnitude
        // The digits come out last first, each from a division by the constant 10,
        // which compiles to a multiplication; 20 places hold any 64-bit magnitude.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var first = digits.count
            repeat {
                first -= 1
                digits[first] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[first...]))
        }
    }
}
