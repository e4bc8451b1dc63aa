import Glibc
@testable import CheckpointFS

/// Whole-file reads for test data and results.
enum TestFile {
    /// Reads a whole file by path (following symlinks: for files the test itself names).
    static func bytes(atPath path: String) throws(SystemError) -> [UInt8] {
        let file = try FileDescriptor.open(atPath: path)
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try check("read", path) {
                buffer.withUnsafeMutableBytes { Glibc.read(file.raw, $0.baseAddress, $0.count) }
            }
            if count == 0 { return contents }
            contents += buffer[0..<count]
        }
    }
}
