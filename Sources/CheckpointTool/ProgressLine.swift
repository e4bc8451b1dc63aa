import Glibc

/// A one-line progress display on standard error, shown only when it is a terminal.
///
/// Updates are throttled to a few per second so progress never costs more than the work;
/// `finish()` clears the line so what follows starts clean.
final class ProgressLine {
    private let enabled: Bool
    private let label: String
    private let total: Int
    private var lastDraw = timespec()
    private var drawn = false

    /// - Parameters:
    ///   - quiet: `-q` was given: show nothing.
    ///   - total: the count that means done, for a percentage.
    init(_ label: String, total: Int, quiet: Bool) {
        self.label = label
        self.total = total
        self.enabled = !quiet && isatty(2) == 1 && total > 0
    }

    func update(_ done: Int) {
        guard enabled else { return }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let elapsed = Double(now.tv_sec - lastDraw.tv_sec)
            + Double(now.tv_nsec - lastDraw.tv_nsec) / 1e9
        guard elapsed >= 0.2 || done == total else { return }
        lastDraw = now
        let percent = done * 100 / total
        writeError(raw: "\r\(label): \(done)/\(total) (\(percent)%)\u{1b}[K")
        drawn = true
    }

    func finish() {
        if drawn { writeError(raw: "\r\u{1b}[K") }
        drawn = false
    }

    private func writeError(raw text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }
}
