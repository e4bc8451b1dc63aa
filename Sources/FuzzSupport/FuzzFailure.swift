import Glibc

/// Reports a broken invariant and aborts, so that libFuzzer records the input as a crash.
///
/// An error the library throws on purpose is no finding; an error of the wrong kind, a view
/// that disagrees with itself, or a write where none may happen is one.
func fuzzFailure(_ message: String) -> Never {
    let line = "fuzz invariant broken: " + message + "\n"
    _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    abort()
}
