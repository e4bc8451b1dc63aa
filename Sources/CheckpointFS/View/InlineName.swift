/// A name of at most 15 bytes held in 16 bytes, with no heap block: the short form of
/// `ChildName`.
///
/// The bytes are split over fields of 8, 4, 2 and 1 bytes, and the count is a 16-case enum
/// in the last byte: its unused values are where `ChildName` keeps which form it holds, so
/// the key stays 16 bytes. A count held in a plain `UInt8` would leave no room and make the
/// key 17 bytes, 24 with padding.
struct InlineName: Hashable, Sendable {
    static let capacity = 15

    /// Bytes 0 to 7, the first in the low byte.
    private let head: UInt64
    /// Bytes 8 to 11, 12 and 13, and 14, the first of each in the low byte.
    private let tail32: UInt32
    private let tail16: UInt16
    private let tail8: UInt8
    private let count: Count

    enum Count: UInt8 {
        case c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15
    }

    /// Holds `bytes`, at most `capacity` of them.
    init(_ bytes: PathBytes) {
        precondition(bytes.count <= Self.capacity, "an inline name holds 15 bytes")
        var words: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &words) { $0.copyBytes(from: bytes) }
        let head = UInt64(littleEndian: words.0)
        let tail = UInt64(littleEndian: words.1)
        self.head = head
        tail32 = UInt32(truncatingIfNeeded: tail)
        tail16 = UInt16(truncatingIfNeeded: tail >> 32)
        tail8 = UInt8(truncatingIfNeeded: tail >> 48)
        count = Count(rawValue: UInt8(bytes.count))!
    }

    /// Bytes 8 to 14 in one word, the count in the top byte.
    private var tailWord: UInt64 {
        UInt64(tail32) | UInt64(tail16) << 32 | UInt64(tail8) << 48
            | UInt64(count.rawValue) << 56
    }

    var bytes: PathBytes {
        let count = Int(count.rawValue)
        return withUnsafeBytes(of: (head.littleEndian, tailWord.littleEndian)) { raw in
            PathBytes(raw.prefix(count))
        }
    }

    static func == (left: InlineName, right: InlineName) -> Bool {
        left.head == right.head && left.tailWord == right.tailWord
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(head)
        hasher.combine(tailWord)
    }
}
