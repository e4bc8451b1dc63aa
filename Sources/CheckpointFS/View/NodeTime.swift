/// A view node's mtime in one word: with one node per member, the 12 bytes of a
/// `Timestamp` and a flag for "none" would cost every node 8 bytes more.
///
/// The seconds take the upper 34 bits (signed: the years 1698 to 2242), the nanoseconds the
/// lower 30. Two values no time has (nanoseconds above 999,999,999) say that the node has
/// no time of its own, or that its time did not fit and is kept apart.
struct NodeTime: Equatable, Sendable {
    private let bits: Int64

    private static let nanosecondBits = 30
    private static let nanosecondMask: Int64 = (1 << nanosecondBits) - 1
    private static let secondsRange: Range<Int64> = -(1 << 33)..<(1 << 33)

    /// No time of its own: stamped with the time of the apply.
    static let applyTime = NodeTime(bits: nanosecondMask)
    /// A time outside what the word holds, which the node keeps elsewhere.
    static let elsewhere = NodeTime(bits: nanosecondMask - 1)

    private init(bits: Int64) {
        self.bits = bits
    }

    /// `time` in one word; nil when it does not fit.
    init?(_ time: Timestamp) {
        guard Self.secondsRange.contains(time.seconds),
              (0..<1_000_000_000).contains(time.nanoseconds)
        else { return nil }
        bits = time.seconds << Self.nanosecondBits | Int64(time.nanoseconds)
    }

    /// The time held; nil for `applyTime` and `elsewhere`.
    var timestamp: Timestamp? {
        let nanoseconds = bits & Self.nanosecondMask
        guard nanoseconds < 1_000_000_000 else { return nil }
        return Timestamp(seconds: bits >> Self.nanosecondBits, nanoseconds: Int32(nanoseconds))
    }
}
