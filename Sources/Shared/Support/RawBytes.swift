import Glibc

extension UnsafeRawBufferPointer {
    /// Whether these bytes equal `other`'s, with `memcmp`: the per-message
    /// comparisons of the gateway's hot path, where a generic `elementsEqual`
    /// walks byte by byte through witness calls.
    @inlinable
    public func hasSameBytes(as other: UnsafeRawBufferPointer) -> Bool {
        guard count == other.count else { return false }
        guard count > 0 else { return true }
        return memcmp(baseAddress!, other.baseAddress!, count) == 0
    }

    /// Whether these bytes, from `offset` on, start with `prefix`.
    @inlinable
    public func hasBytes(_ prefix: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        guard offset >= 0, count - offset >= prefix.count else { return false }
        return UnsafeRawBufferPointer(rebasing: self[offset..<(offset + prefix.count)]).hasSameBytes(as: prefix)
    }
}

extension String {
    /// Whether this string's UTF-8 is exactly `bytes` (no copy for a native string).
    @inlinable
    public func hasUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var string = self
        return string.withUTF8 { UnsafeRawBufferPointer($0).hasSameBytes(as: bytes) }
    }
}
