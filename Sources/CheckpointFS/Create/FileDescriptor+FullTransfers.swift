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

    /// write(2) of all of `bytes`, looping over short writes.
    func writeAll(_ bytes: [UInt8]) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            let offset = done
            done += try check("write", path) {
                bytes.withUnsafeBytes {
                    Glibc.write(raw, $0.baseAddress! + offset, $0.count - offset)
                }
            }
        }
    }
}
