import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// A sparse member larger than 8 GiB, mounted: the size, the holes and the data at every
/// stretch read back as a commit of the same writes them, and the view costs no disk.
@Suite struct ViewLargeFileTests {
    @Test func sparseMemberOver8GiB() throws {
        let scratch = try CreateScratch()
        try scratch.inBase.directory("d")
        try scratch.copyBaseToChanged()
        try scratch.inChanged.file("d/huge", "")
        let size: Int64 = 9 << 30
        let marks: [(Int64, String)] = [
            (0, "start"), (4 << 30, "past four"), (8 << 30 + 12345, "past eight"),
            (size - 3, "end"),
        ]
        let fd = open(scratch.inChanged.full("d/huge"), O_WRONLY)
        #expect(fd >= 0)
        for (offset, text) in marks {
            _ = Array(text.utf8).withUnsafeBytes {
                pwrite(fd, $0.baseAddress, $0.count, off_t(offset))
            }
        }
        close(fd)
        try CheckpointDiff.create(basePath: scratch.base, changedPath: scratch.changed,
                                  outputPath: scratch.output)
        try Command.succeed("/bin/cp", ["-a", scratch.base, scratch.applied])
        _ = try Restore(source: CheckpointSource.open(path: scratch.output))
            .commit(rootPath: scratch.applied)
        let mountPoint = scratch.path + "/view"
        _ = try check("mkdir", mountPoint) { mkdir(mountPoint, 0o755) }
        let view = try MountHarness(root: scratch.base, checkpoint: scratch.output,
                                    mountPoint: mountPoint)
        defer { view.unmount() }

        let viewed = try FileDescriptor.open(atPath: view.path("d/huge"))
        let committed = try FileDescriptor.open(atPath: scratch.applied + "/d/huge")
        let viewInfo = try viewed.stat()
        #expect(viewInfo.st_size == Int(size))
        // Only the stretches with data take blocks.
        #expect(viewInfo.st_blocks > 0 && viewInfo.st_blocks < 1024)

        let probes: [Int64] = marks.map(\.0) + [1 << 30, (8 << 30) - 1, 8 << 30 + 12340]
        for offset in probes {
            var fromView = [UInt8](repeating: 0xAA, count: 64)
            var fromCommit = [UInt8](repeating: 0x55, count: 64)
            let viewCount = fromView.withUnsafeMutableBytes {
                pread(viewed.raw, $0.baseAddress, $0.count, off_t(offset))
            }
            let commitCount = fromCommit.withUnsafeMutableBytes {
                pread(committed.raw, $0.baseAddress, $0.count, off_t(offset))
            }
            #expect(viewCount == commitCount, "count at \(offset)")
            #expect(fromView.prefix(viewCount) == fromCommit.prefix(commitCount),
                    "bytes at \(offset)")
        }
        for (offset, text) in marks {
            var buffer = [UInt8](repeating: 0, count: text.utf8.count)
            _ = buffer.withUnsafeMutableBytes {
                pread(viewed.raw, $0.baseAddress, $0.count, off_t(offset))
            }
            #expect(buffer == Array(text.utf8), "at \(offset)")
        }
    }
}
