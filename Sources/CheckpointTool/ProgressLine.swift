import Glibc

/// A one-line progress display on standard error, shown only when it is a terminal.
///
/// Updates are throttled to a few per second so progress never costs more than the work;
/// `finish()` clears the line so what follows starts clean.
final class ProgressLine {
    /// What the counts count.
    enum Unit {
        case items
        case bytes
    }

    private let enabled: Bool
    private let label: String
    private let unit: Unit
    private var total: Int64
    private var lastDraw = timespec()
    private var lastDone: Int64 = -1
    private var drawn = false

    /// The shortest time between two draws, in seconds.
    private static let interval = 0.2

    /// - Parameters:
    ///   - quiet: `-q` was given: show nothing.
    ///   - total: the count that means done, for a percentage.
    convenience init(_ label: String, total: Int, quiet: Bool) {
        self.init(label, total: Int64(total), unit: .items, quiet: quiet)
    }

    /// A progress line that counts bytes of `total`, shown in KiB, MiB or GiB.
    convenience init(_ label: String, bytes total: Int64, quiet: Bool) {
        self.init(label, total: total, unit: .bytes, quiet: quiet)
    }

    private init(_ label: String, total: Int64, unit: Unit, quiet: Bool) {
        self.label = label
        self.total = total
        self.unit = unit
        self.enabled = !quiet && isatty(2) == 1
    }

    func update(_ done: Int) {
        update(Int64(done))
    }

    /// Shows `done` of the total; `total` replaces the total when the work learns it late.
    func update(_ done: Int64, total newTotal: Int64? = nil) {
        guard enabled else { return }
        if let newTotal { total = newTotal }
        guard total > 0 else { return }
        let now = Self.now()
        guard done != lastDone,
              Self.seconds(from: lastDraw, to: now) >= Self.interval || done == total
        else { return }
        lastDraw = now
        lastDone = done
        let percent = min(100, max(0, done) * 100 / total)
        let counts: String
        switch unit {
        case .items: counts = "\(done)/\(total)"
        case .bytes: counts = "\(ByteSize.text(done)) of \(ByteSize.text(total))"
        }
        writeError(raw: "\r\(label): \(counts) (\(percent)%)\u{1b}[K")
        drawn = true
    }

    /// The last component of a path, which keeps a progress line within a terminal's width.
    static func shortName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    func finish() {
        if drawn { writeError(raw: "\r\u{1b}[K") }
        drawn = false
    }

    private static func now() -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now
    }

    private static func seconds(from earlier: timespec, to later: timespec) -> Double {
        Double(later.tv_sec - earlier.tv_sec) + Double(later.tv_nsec - earlier.tv_nsec) / 1e9
    }

    private func writeError(raw text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }
}
