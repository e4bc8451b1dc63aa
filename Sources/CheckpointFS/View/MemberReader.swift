import CSystem
import Glibc

/// Reads a member's bytes from the plain diff tar, holes of sparse members as zeros.
enum MemberReader {
    /// Reads up to `buffer.count` bytes at `offset` of the member whose data is `data` and
    /// whose logical size is `size`; returns the count read.
    static func read(
        _ data: ViewNode.MemberData,
        size: Int64,
        from tar: FileDescriptor,
        offset: Int64,
        into buffer: UnsafeMutableRawBufferPointer
    ) throws(ViewError) -> Int {
        guard offset < size else { return 0 }
        let wanted = Int(min(Int64(buffer.count), size - offset))
        guard let map = data.sparseMap else {
            return try readFully(tar, into: buffer.baseAddress!, count: wanted,
                                 at: data.offset + offset)
        }

        // Segments lie back to back in the tar; walk them, zero-filling the holes between.
        var produced = 0
        var stored = data.offset
        for segment in map {
            let position = offset + Int64(produced)
            if produced >= wanted { break }
            let segmentEnd = segment.offset + segment.length
            defer { stored += segment.length }
            if segmentEnd <= position { continue }
            if segment.offset > position {
                let hole = Int(min(segment.offset - position, Int64(wanted - produced)))
                (buffer.baseAddress! + produced).initializeMemory(as: UInt8.self,
                                                                  repeating: 0, count: hole)
                produced += hole
                if produced >= wanted { break }
            }
            let inside = offset + Int64(produced) - segment.offset
            let count = Int(min(segment.length - inside, Int64(wanted - produced)))
            produced += try readFully(tar, into: buffer.baseAddress! + produced, count: count,
                                      at: stored + inside)
        }
        if produced < wanted {
            (buffer.baseAddress! + produced).initializeMemory(
                as: UInt8.self, repeating: 0, count: wanted - produced)
            produced = wanted
        }
        return produced
    }

    private static func readFully(
        _ tar: FileDescriptor,
        into pointer: UnsafeMutableRawPointer,
        count: Int,
        at position: Int64
    ) throws(ViewError) -> Int {
        var done = 0
        while done < count {
            let got = pread(tar.raw, pointer + done, count - done, off_t(position) + off_t(done))
            if got < 0 {
                if ckpt_errno() == EINTR { continue }
                throw ViewError(ckpt_errno())
            }
            if got == 0 { throw ViewError(EIO) }  // the tar is shorter than its index says
            done += got
        }
        return done
    }
}
