import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// Open handles of lower files do not each hold a descriptor in the daemon: the kernel
/// releases handles when the daemon gets to it, so under fast open-and-close load they pile
/// up, and a descriptor each ran the daemon out of them (EMFILE for every reader).
@Suite struct MountDescriptorTests {
    @Test func manyOpenHandlesShareABoundedSetOfDescriptors() throws {
        let files = 3000
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let wanted = rlim_t(files + 200)
        try #require(limit.rlim_max >= wanted, "needs \(wanted) open files")
        limit.rlim_cur = max(limit.rlim_cur, wanted)
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)

        let scratch = try MountScratch(members: [.file("tar/one", "from the tar\n")])
        for index in 0..<files { try scratch.writeLower("d/f\(index)", "lower \(index)\n") }
        let view = try scratch.mount()
        defer { view.unmount() }

        var descriptors: [Int32] = []
        defer { descriptors.forEach { close($0) } }
        for index in 0..<files {
            let fd = open(view.path("d/f\(index)"), O_RDONLY)
            try #require(fd >= 0, "open f\(index): \(String(cString: strerror(errno)))")
            descriptors.append(fd)
        }
        let held = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(view.daemon)/fd")
        #expect(held.count < 1000, "the daemon holds \(held.count) descriptors")

        for (index, fd) in descriptors.enumerated() {
            var buffer = [UInt8](repeating: 0, count: 64)
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            #expect(Array(buffer.prefix(max(0, count))) == Array("lower \(index)\n".utf8))
        }
    }
}
