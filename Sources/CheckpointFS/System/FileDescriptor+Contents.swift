import Glibc

extension FileDescriptor {
    /// Reads from the current offset to the end of the file with read(2).
    ///
    /// - Returns: the bytes, or `nil` when the file holds more than `limit` bytes.
    public func readToEnd(limit: Int) throws(SystemError) -> [UInt8]? {
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = try check("read", path) {
                chunk.withUnsafeMutableBytes { read(raw, $0.baseAddress, $0.count) }
            }
            if count == 0 { return contents }
            if contents.count + count > limit { return nil }
            contents.append(contentsOf: chunk[0..<count])
        }
    }

    /// Writes all of `bytes` at `offset` with pwrite(2), looping over short writes.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            let written = try check("pwrite", path) {
                pwrite(raw, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + done)
            }
            done += written
        }
    }
}
