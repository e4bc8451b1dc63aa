import CSystem
import Glibc

/// Copies a member's data from the plain diff tar into a new file.
///
/// copy_file_range(2) keeps the bytes in the kernel (and shares extents where the file
/// system can); where it cannot be used, pread and write through a buffer. Sparse members
/// are written segment by segment and the file is then extended to its full size, so the
/// holes stay holes.
final class DataCopier {
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)
    private var kernelCopyWorks = true

    func copy(_ member: TarMember, from tar: FileDescriptor, to file: FileDescriptor) throws {
        let segments = member.sparseMap ?? [.init(offset: 0, length: member.size)]
        var source = member.dataOffset
        for segment in segments {
            try copyRange(from: tar, at: source, to: file, at: segment.offset,
                          length: segment.length)
            source += segment.length
        }
        if member.sparseMap != nil {
            _ = try check("ftruncate", file.path) { ftruncate(file.raw, off_t(member.size)) }
        }
    }

    private func copyRange(
        from tar: FileDescriptor, at sourceOffset: Int64,
        to file: FileDescriptor, at targetOffset: Int64,
        length: Int64
    ) throws {
        var input = Int64(sourceOffset)
        var output = Int64(targetOffset)
        var remaining = length
        while remaining > 0 && kernelCopyWorks {
            let copied = ckpt_copy_file_range(tar.raw, &input, file.raw, &output,
                                              Int(remaining))
            if copied > 0 {
                remaining -= Int64(copied)
                continue
            }
            if copied == 0 { throw truncated(tar, file) }
            let code = ckpt_errno()
            if code == EINTR { continue }
            guard code == EXDEV || code == EINVAL || code == ENOSYS || code == EOPNOTSUPP
            else { throw SystemError(errno: code, operation: "copy_file_range", path: file.path) }
            kernelCopyWorks = false
        }
        while remaining > 0 {
            let chunk = Int(min(remaining, Int64(buffer.count)))
            let got = try buffer.withUnsafeMutableBytes { (raw) throws(SystemError) in
                try check("pread", tar.path) {
                    pread(tar.raw, raw.baseAddress, chunk, off_t(input))
                }
            }
            if got == 0 { throw truncated(tar, file) }
            var written = 0
            while written < got {
                let count = try buffer.withUnsafeBytes { (raw) throws(SystemError) in
                    try check("pwrite", file.path) {
                        pwrite(file.raw, raw.baseAddress! + written, got - written,
                               off_t(output) + off_t(written))
                    }
                }
                written += count
            }
            input += Int64(got)
            output += Int64(got)
            remaining -= Int64(got)
        }
    }

    private func truncated(_ tar: FileDescriptor, _ file: FileDescriptor) -> SystemError {
        SystemError(errno: EIO, operation: "read member data for \(file.path)", path: tar.path)
    }
}
