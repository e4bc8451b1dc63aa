import CheckpointMount
import Foundation
import Glibc
import Synchronization
import Testing
@testable import CheckpointFS

/// File data through the mount: many readers at once, at any offset and size, get exactly
/// the bytes of the diff tar's member or of the lower file.
@Suite struct MountReadTests {
    /// Bytes that differ at every offset, so a read from the wrong place cannot match.
    static func pattern(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                buffer[index] = UInt8(truncatingIfNeeded: state >> 33)
            }
        }
        return bytes
    }

    @Test func concurrentReadersGetExactBytes() throws {
        let member = Self.pattern(count: 4 << 20, seed: 1)
        let lower = Self.pattern(count: 3 << 20 + 123, seed: 2)
        let scratch = try MountScratch(members: [
            TarBuilder.Entry(name: Array("data/member".utf8), content: member),
        ])
        try FileManager.default.createDirectory(atPath: scratch.root + "/data",
                                                withIntermediateDirectories: false)
        try Data(lower).write(to: URL(fileURLWithPath: scratch.root + "/data/lower"))
        let mount = try scratch.mount()
        let files = [(mount.path("data/member"), member), (mount.path("data/lower"), lower)]

        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { reader in
            let (path, expected) = files[reader % files.count]
            let descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else {
                failures.withLock { $0.append("open \(path): \(errno)") }
                return
            }
            defer { close(descriptor) }
            var state = UInt64(reader + 1)
            var buffer = [UInt8](repeating: 0, count: 512 << 10)
            for _ in 0..<100 {
                state = state &* 6_364_136_223_846_793_005 &+ 1
                let offset = Int(state >> 20) % expected.count
                let size = 1 + Int(state >> 44) % buffer.count
                let count = buffer.withUnsafeMutableBytes {
                    pread(descriptor, $0.baseAddress, size, off_t(offset))
                }
                let wanted = min(size, expected.count - offset)
                let same = count == wanted && expected.withUnsafeBytes { file in
                    buffer.withUnsafeBytes {
                        memcmp($0.baseAddress!, file.baseAddress! + offset, wanted) == 0
                    }
                }
                if !same {
                    failures.withLock {
                        $0.append("\(path) at \(offset), \(size) bytes: got \(count)")
                    }
                }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0.prefix(5) })")

        // And one sequential read of the whole file, as cat does.
        #expect(try TestFile.bytes(atPath: files[0].0) == member)
        #expect(MountHarness.exitCode(mount.unmount()) == 0, "\(mount.log())")
    }
}
