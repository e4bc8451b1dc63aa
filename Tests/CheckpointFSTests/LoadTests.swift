import Foundation
import Glibc
import Synchronization
import Testing
@testable import CheckpointFS

/// Many readers at once over a mounted view for a bounded time: every byte read equals the
/// committed file's byte at the same offset, every directory listing equals the committed
/// directory's, no call fails, and the daemon's memory does not grow with the work done.
///
/// The load lasts `CHECKPOINTFS_LOAD_SECONDS` (3 s unless set; scripts/reliability sets
/// more) with 32 readers. A line starting `reliability: load` gives the figures.
@Suite struct LoadTests {
    static let readers = 32
    static var seconds: Double {
        ProcessInfo.processInfo.environment["CHECKPOINTFS_LOAD_SECONDS"].flatMap(Double.init)
            ?? 3
    }
    /// What the daemon's resident memory may grow by after warm-up: enough for allocator
    /// noise and a buffer per loop thread, far below what one copy of the data would take.
    static let allowedGrowthKiB = 24 << 10

    @Test func readersAndListingsMatchTheCommit() throws {
        let workload = try LoadWorkload()
        let (files, directories) = try workload.committedTree()
        var contents: [String: [UInt8]] = [:]
        for file in files {
            contents[file] = try TestFile.bytes(atPath: workload.committed + "/" + file)
        }
        var listings: [String: [String]] = [:]
        for directory in directories {
            listings[directory] = try FileManager.default
                .contentsOfDirectory(atPath: workload.committed + "/" + directory).sorted()
        }
        let mountPoint = workload.directory.path("view")
        _ = try check("mkdir", mountPoint) { mkdir(mountPoint, 0o755) }
        let view = try MountHarness(root: workload.lower, checkpoint: workload.checkpoint,
                                    mountPoint: mountPoint)
        let load = ReadLoad(view: view, contents: contents, listings: listings)

        // Warm-up: each file read once and each directory listed, so the daemon has met
        // every inode before memory is measured.
        for file in files { load.readWhole(file, random: nil) }
        for directory in directories { load.list(directory) }
        let baseline = try #require(ResidentMemory.kibibytes(of: view.daemon))

        let samples = load.run(readers: Self.readers, seconds: Self.seconds)
        let failures = load.failures.withLock { $0 }
        #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(5))")
        let peak = samples.max() ?? baseline
        #expect(peak - baseline < Self.allowedGrowthKiB,
                "daemon VmRSS grew from \(baseline) KiB to \(peak) KiB")
        #expect(load.filesRead.load(ordering: .relaxed) > Self.readers)
        print("reliability: load readers=\(Self.readers) seconds=\(Self.seconds) "
              + "files_read=\(load.filesRead.load(ordering: .relaxed)) "
              + "bytes_read=\(load.bytesRead.load(ordering: .relaxed)) "
              + "listings=\(load.listings.load(ordering: .relaxed)) "
              + "failures=\(failures.count) rss_kib_baseline=\(baseline) "
              + "rss_kib_peak=\(peak) rss_kib_by_quarter=\(Self.quarters(samples))")
        #expect(view.unmount() == 0, "daemon: \(view.log())")
    }

    /// The samples at the start, each quarter and the end of the run, to show a trend.
    static func quarters(_ samples: [Int]) -> String {
        guard !samples.isEmpty else { return "none" }
        let last = samples.count - 1
        return [0, last / 4, last / 2, 3 * last / 4, last].map { String(samples[$0]) }
            .joined(separator: ",")
    }
}

/// The readers of `LoadTests` and what they found.
final class ReadLoad: Sendable {
    let view: MountHarness
    let contents: [String: [UInt8]]
    let expectedListings: [String: [String]]
    let failures = Mutex<[String]>([])
    let filesRead = Atomic<Int>(0)
    let bytesRead = Atomic<Int>(0)
    let listings = Atomic<Int>(0)

    init(view: MountHarness, contents: [String: [UInt8]], listings: [String: [String]]) {
        self.view = view
        self.contents = contents
        expectedListings = listings
    }

    /// Runs `readers` threads for `seconds`; one in eight steps lists a directory, the rest
    /// read a whole file in chunks of random sizes. Returns the daemon's VmRSS, sampled
    /// every 50 ms meanwhile.
    func run(readers: Int, seconds: Double) -> [Int] {
        let deadline = Date().addingTimeInterval(seconds)
        let group = DispatchGroup()
        let files = contents.keys.sorted()
        let directories = expectedListings.keys.sorted()
        for reader in 0..<readers {
            group.enter()
            Thread.detachNewThread { [self] in
                var random = SplitMix(seed: UInt64(reader) + 1)
                while Date() < deadline {
                    if random.next() % 8 == 0 {
                        list(directories[Int(random.next() % UInt64(directories.count))])
                    } else {
                        readWhole(files[Int(random.next() % UInt64(files.count))],
                                  random: &random)
                    }
                }
                group.leave()
            }
        }
        var samples: [Int] = []
        while group.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
            if let sample = ResidentMemory.kibibytes(of: view.daemon) { samples.append(sample) }
        }
        return samples
    }

    func readWhole(_ file: String, random: inout SplitMix) {
        readWhole(file, chunk: { 1 + Int(random.next() % (256 << 10)) })
    }

    func readWhole(_ file: String, random: SplitMix?) {
        readWhole(file, chunk: { 128 << 10 })
    }

    /// Reads `file` through the view front to back and compares every chunk.
    private func readWhole(_ file: String, chunk: () -> Int) {
        let expected = contents[file]!
        let descriptor = open(view.path(file), O_RDONLY)
        guard descriptor >= 0 else { return fail("open \(file): errno \(errno)") }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        var offset = 0
        while true {
            let wanted = chunk()
            let count = buffer.withUnsafeMutableBytes {
                pread(descriptor, $0.baseAddress, wanted, off_t(offset))
            }
            guard count >= 0 else { return fail("read \(file) at \(offset): errno \(errno)") }
            if count == 0 { break }
            let same = offset + count <= expected.count && expected.withUnsafeBytes { whole in
                buffer.withUnsafeBytes {
                    memcmp($0.baseAddress!, whole.baseAddress! + offset, count) == 0
                }
            }
            guard same else { return fail("\(file): bytes at \(offset)+\(count) differ") }
            offset += count
        }
        guard offset == expected.count else {
            return fail("\(file): \(offset) bytes of \(expected.count)")
        }
        filesRead.add(1, ordering: .relaxed)
        bytesRead.add(offset, ordering: .relaxed)
    }

    /// Lists `directory` through the view and compares the names.
    func list(_ directory: String) {
        do {
            let names = try FileManager.default.contentsOfDirectory(atPath: view.path(directory))
            if names.sorted() != expectedListings[directory]! {
                fail("listing of '\(directory)' differs: \(names.count) names")
            }
            listings.add(1, ordering: .relaxed)
        } catch {
            fail("listing of '\(directory)': \(error)")
        }
    }

    private func fail(_ message: String) {
        failures.withLock { if $0.count < 100 { $0.append(message) } }
    }
}
