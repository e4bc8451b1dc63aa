import Foundation
import Glibc
import Synchronization
@testable import CheckpointFS

/// A checkpoint sized for load: a lower root of 300 files in 15 directories, a diff tar that
/// adds 150 files (three of several megabytes), replaces 50 lower files and deletes 20 files
/// and one directory. Contents are seeded patterns, so every byte is checkable.
struct LoadWorkload {
    let directory: TemporaryDirectory
    var lower: String { directory.path("lower") }
    var checkpoint: String { directory.path("checkpoint") }
    /// A commit of the checkpoint on a copy of the lower root: the bytes the view must show.
    var committed: String { directory.path("committed") }

    init() throws {
        directory = try TemporaryDirectory("load")
        var random = SplitMix(seed: 7)
        _ = try check("mkdir", lower) { mkdir(lower, 0o755) }
        for index in 0..<15 {
            _ = try check("mkdir", "d\(index)") { mkdir(lower + "/d\(index)", 0o755) }
        }
        for index in 0..<300 {
            let size = Int(random.next() % (64 << 10))
            try Data(Self.pattern(count: size, seed: UInt64(index)))
                .write(to: URL(fileURLWithPath: lower + "/d\(index % 15)/lower-\(index)"))
        }

        var members: [TarBuilder.Entry] = []
        for index in 0..<150 {
            let size = index < 3 ? (2 + index * 3) << 20 : Int(random.next() % (128 << 10))
            members.append(TarBuilder.Entry(
                name: Array("d\(index % 15)/new-\(index)".utf8),
                content: Self.pattern(count: size, seed: 1000 + UInt64(index))))
        }
        for index in stride(from: 0, to: 300, by: 6) {
            members.append(TarBuilder.Entry(
                name: Array("d\(index % 15)/lower-\(index)".utf8),
                content: Self.pattern(count: Int(random.next() % (96 << 10)),
                                      seed: 5000 + UInt64(index))))
        }
        let deleted = stride(from: 1, to: 300, by: 15).map { "/d\($0 % 15)/lower-\($0)" }
            + ["/d14"]
        _ = try check("mkdir", "checkpoint") { mkdir(checkpoint, 0o755) }
        try Data(TarBuilder.archive(members))
            .write(to: URL(fileURLWithPath: checkpoint + "/rootfs-diff.tar"))
        try JSONEncoder().encode(deleted)
            .write(to: URL(fileURLWithPath: checkpoint + "/deleted.files"))

        try Command.succeed("/bin/cp", ["-a", lower, committed])
        _ = try Restore(source: CheckpointSource.open(path: checkpoint))
            .commit(rootPath: committed)
    }

    /// The regular files and directories of the committed tree, relative to its top.
    func committedTree() throws -> (files: [String], directories: [String]) {
        var files: [String] = []
        var directories = [""]
        let enumerator = FileManager.default.enumerator(atPath: committed)!
        while let relative = enumerator.nextObject() as? String {
            let type = enumerator.fileAttributes?[.type] as? FileAttributeType
            if type == .typeDirectory { directories.append(relative) }
            if type == .typeRegular { files.append(relative) }
        }
        return (files.sorted(), directories.sorted())
    }

    /// Bytes that differ at every offset, so a read from the wrong place cannot match.
    static func pattern(count: Int, seed: UInt64) -> [UInt8] {
        var random = SplitMix(seed: seed)
        var bytes = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            var word = random.next()
            for _ in 0..<8 where index < count {
                bytes[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return bytes
    }
}

/// A small seeded generator (SplitMix64): the same seed, the same numbers.
struct SplitMix {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

/// The resident memory of a process, from `/proc/PID/status`.
enum ResidentMemory {
    /// VmRSS in KiB; nil when the process is gone.
    static func kibibytes(of pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
        }
        return nil
    }
}
