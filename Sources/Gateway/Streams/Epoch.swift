/// A stream's epoch (SPEC §2: a random id, new whenever the agent resets the
/// stream's history), as the gateway keeps it with every line it passes on.
///
/// An ASCII epoch of up to 16 bytes (the agent's are 16 hex digits) is held in
/// two words. As a `String` it would be one byte too long for Swift to store
/// inline, so every line of a stream would share one string object and copying
/// a line between the Redis subscriber's thread and the connections' event loops would
/// retain and release that one object from several threads at once.
struct Epoch: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    private enum Storage: Hashable, Sendable {
        /// The bytes, zero-padded, and how many there are.
        case inline(UInt64, UInt64, count: UInt8)
        case string(String)
    }

    private let storage: Storage

    private static let inlineCapacity = 2 * MemoryLayout<UInt64>.size

    /// - Parameter utf8: the epoch's bytes (as they stand between the quotes of a frame).
    init(_ utf8: UnsafeRawBufferPointer) {
        // Every epoch that fits is inline, whichever initialiser made it, so that equal epochs have equal storage.
        guard utf8.count <= Self.inlineCapacity, utf8.allSatisfy({ $0 < 0x80 }) else {
            storage = .string(String(decoding: utf8, as: UTF8.self))
            return
        }
        var words: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: utf8) }
        storage = .inline(words.0, words.1, count: UInt8(utf8.count))
    }

    init(_ string: String) {
        var string = string
        self = string.withUTF8 { Epoch(UnsafeRawBufferPointer($0)) }
    }

    init(stringLiteral value: String) {
        self.init(value)
    }

    var isEmpty: Bool {
        switch storage {
        case .inline(_, _, let count): count == 0
        case .string(let string): string.isEmpty
        }
    }

    var description: String {
        switch storage {
        case .inline(let low, let high, let count):
            withUnsafeBytes(of: (low, high)) { String(decoding: $0.prefix(Int(count)), as: UTF8.self) }
        case .string(let string):
            string
        }
    }
}
