import Glibc

extension FileDescriptor {
    /// read(2) until `buffer` (or its first `limit` bytes) is full or the file ends.
    /// - Returns: the bytes read; fewer than asked only at the end of the file.
    func readFully(into buffer: inout [UInt8], upTo limit: Int? = nil) throws(SystemError)
        -> Int
    {
        let wanted = min(limit ?? buffer.count, buffer.count)
        var total = 0
        while total < wanted {
            let offset = total
            let count = try check("read", path) {
                buffer.withUnsafeMutableBytes {
                    Glibc.read(raw, $0.baseAddress! + offset, wanted - offset)
                }
            }
            if count == 0 { break }
            total += count
        }
        return total
    }

}
