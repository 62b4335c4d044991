import Foundation

/// Capped exponential backoff with jitter, for reconnecting to Redis and Docker.
///
/// Jitter spreads reconnect attempts of many gateways and agents so that a
/// restarted Redis is not hit by all of them in the same millisecond.
public struct Backoff: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(5), multiplier: Double = 2) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
    }

    /// The delay before retry number `attempt` (0 is the first retry): between half
    /// and all of `initial * multiplier^attempt`, never more than `maximum`.
    public func delay(attempt: Int) -> Duration {
        let base = initial.seconds * pow(multiplier, Double(min(attempt, 40)))
        let capped = min(base, maximum.seconds)
        return .seconds(capped * Double.random(in: 0.5...1.0))
    }
}

extension Duration {
    /// The duration in seconds as a floating-point number.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
