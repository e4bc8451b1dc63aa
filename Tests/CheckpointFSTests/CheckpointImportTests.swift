import Foundation
import Glibc
import Testing
@testable import CheckpointFS

@Suite struct CheckpointImportTests {
    static let archives = ["ckrich-zstd-default.tar.zst", "ckrich-gzip.tar.gz", "ckrich-none.tar"]

    /// What GNU tar extracts from `archive`, as a listing to compare with.
    static func tarExtraction(of archive: String) throws -> (ScratchDirectory, [String: String]) {
        let scratch = try ScratchDirectory()
        try runCommand(["tar", "-xpf", archive, "-C", scratch.path])
        return (scratch, try treeListing(scratch.path))
    }

    @Test(arguments: archives)
    func importWithoutConfigMatchesTarMinusTheConfig(name: String) throws {
        let archive = PodmanFixture.path("archives/" + name)
        let destination = try ScratchDirectory()
        let outcome = try CheckpointImport.run(archive: archive, into: destination.path,
                                               selection: .withoutConfig)

        var expected = try Self.tarExtraction(of: archive).1
        #expect(expected.removeValue(forKey: "config.dump") != nil)
        #expect(expected.removeValue(forKey: "spec.dump") != nil)
        let imported = try treeListing(destination.path)
        #expect(imported == expected)
        #expect(imported["rootfs-diff.tar"] != nil)
        #expect(imported["checkpoint/pages-1.img"] != nil)
        #expect(outcome.membersApplied == expected.count)
        #expect(outcome.pathsRemoved == 0)
    }

    @Test(arguments: archives)
    func importConfigOnlyWritesTheTwoFiles(name: String) throws {
        let archive = PodmanFixture.path("archives/" + name)
        let destination = try ScratchDirectory()
        try CheckpointImport.run(archive: archive, into: destination.path,
                                 selection: .configOnly)

        let expected = try Self.tarExtraction(of: archive).1
            .filter { CheckpointImport.configFiles.contains($0.key) }
        #expect(expected.count == 2)
        #expect(try treeListing(destination.path) == expected)
        // What was imported is what the checkpoint's config says.
        #expect(try ConfigDump.load(checkpoint: destination.path).containerName == "ckrich")
    }

    @Test func compressedArchiveLeavesNoCacheBehind() throws {
        // The cache lies under $TMPDIR or /var/tmp; count checkpointfs-* there around an import.
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap {
            $0.isEmpty ? nil : $0
        } ?? "/var/tmp"
        let destination = try ScratchDirectory()
        let before = try FileManager.default.contentsOfDirectory(atPath: base)
            .filter { $0.hasPrefix("checkpointfs-") && !$0.hasPrefix("checkpointfs-test") }
        try CheckpointImport.run(archive: PodmanFixture.path("archives/ck-addonly.tar.zst"),
                                 into: destination.path, selection: .configOnly)
        // Tests running in parallel make caches of their own for a moment; one this import
        // left behind stays.
        var left: Set<String> = []
        for _ in 0..<100 {
            let after = try FileManager.default.contentsOfDirectory(atPath: base)
                .filter { $0.hasPrefix("checkpointfs-") && !$0.hasPrefix("checkpointfs-test") }
            left = Set(after).subtracting(before)
            if left.isEmpty { break }
            usleep(100_000)
        }
        #expect(left.isEmpty, "left behind: \(left)")
    }

    @Test func memberSelection() {
        let names = ["config.dump", "./spec.dump", "/config.dump", "config.dump/x", "artifacts/",
                     "checkpoint/config.dump", "rootfs-diff.tar", "../x", "./"]
        let configOnly = names.filter {
            CheckpointImport.isSelected(PathBytes(path: $0), by: .configOnly)
        }
        let withoutConfig = names.filter {
            CheckpointImport.isSelected(PathBytes(path: $0), by: .withoutConfig)
        }
        #expect(configOnly == ["config.dump", "./spec.dump", "/config.dump", "config.dump/x",
                               "../x"])
        #expect(withoutConfig == ["artifacts/", "checkpoint/config.dump", "rootfs-diff.tar",
                                  "../x", "./"])
    }

    @Test(arguments: [CheckpointImport.Selection.withoutConfig, .configOnly])
    func memberClimbingOutRefusesTheArchiveBeforeWriting(selection: CheckpointImport.Selection)
        throws
    {
        let scratch = try ScratchDirectory()
        let inner = scratch.path + "/src/inner"
        try FileManager.default.createDirectory(atPath: inner, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: inner + "/config.dump"))
        try Data("escaped".utf8).write(to: URL(fileURLWithPath: scratch.path + "/src/escape"))
        let archive = scratch.path + "/evil.tar"
        // -P keeps the `..` in the member name.
        try runCommand(["tar", "-C", inner, "-cPf", archive, "config.dump", "../escape"])
        try FileManager.default.removeItem(atPath: scratch.path + "/src/escape")

        let destination = scratch.path + "/dest/root"
        try FileManager.default.createDirectory(atPath: destination,
                                                withIntermediateDirectories: true)
        #expect(throws: CheckpointError.refusedMember(
            file: archive, member: "../escape", reason: .climbsAboveRoot)) {
            try CheckpointImport.run(archive: archive, into: destination, selection: selection)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: destination) == [])
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/dest/escape"))
    }

    @Test func symlinksResolveInsideTheDestination() throws {
        let scratch = try ScratchDirectory()
        let source = scratch.path + "/src"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: source + "/link",
                                                   withDestinationPath: "/")
        let canary = "checkpointfs-import-canary-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Data("inside".utf8).write(to: URL(fileURLWithPath: source + "/zz"))
        let archive = scratch.path + "/links.tar"
        // The second member is written through `link -> /`: it must land in the destination.
        try runCommand(["tar", "-C", source, "-cf", archive,
                        "--transform", "s,^zz$,link/\(canary),", "link", "zz"])

        let destination = try ScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: "/" + canary) }
        try CheckpointImport.run(archive: archive, into: destination.path,
                                 selection: .withoutConfig)
        #expect(try contents(destination.path + "/" + canary) == Data("inside".utf8))
        #expect(!FileManager.default.fileExists(atPath: "/" + canary))
        #expect(try FileManager.default.destinationOfSymbolicLink(
            atPath: destination.path + "/link") == "/")
    }

    @Test func directoryIsNotAnArchive() throws {
        let scratch = try ScratchDirectory()
        let destination = try ScratchDirectory()
        #expect(throws: CheckpointError.notACheckpoint(
            path: scratch.path, reason: "an exported archive is needed, not a directory")) {
            try CheckpointImport.run(archive: scratch.path, into: destination.path,
                                     selection: .withoutConfig)
        }
    }
}

/// Every entry below `root` by relative path: type, permissions, owner, size, mtime, and a
/// regular file's bytes or a symlink's target, as one comparable string.
func treeListing(_ root: String) throws -> [String: String] {
    var listing: [String: String] = [:]
    let manager = FileManager.default
    for relative in try manager.subpathsOfDirectory(atPath: root) {
        let path = root + "/" + relative
        var info = stat()
        guard lstat(path, &info) == 0 else { throw POSIXError(.ENOENT) }
        var line = "\(info.st_mode & S_IFMT) \(String(info.st_mode & 0o7777, radix: 8)) "
            + "\(info.st_uid):\(info.st_gid) \(info.st_size) \(info.st_mtim.tv_sec)"
        switch info.st_mode & S_IFMT {
        case S_IFREG: line += " fnv1a=\(fnv1a(try contents(path)))"
        case S_IFLNK: line += " -> " + (try manager.destinationOfSymbolicLink(atPath: path))
        default: break
        }
        listing[relative] = line
    }
    return listing
}

/// FNV-1a over all of `data`: enough to tell two files' bytes apart in a test.
func fnv1a(_ data: Data) -> UInt64 {
    data.reduce(into: 0xcbf2_9ce4_8422_2325 as UInt64) { hash, byte in
        hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
    }
}

@Suite struct ImportCommandTests {
    @Test func importsConfigOnlyAndTheRest() throws {
        let archive = PodmanFixture.path("archives/ckrich-zstd-default.tar.zst")
        let config = try ScratchDirectory()
        let rest = try ScratchDirectory()

        let configResult = try BuiltTool.run(["import", "--config-only", archive, config.path])
        #expect(configResult.status == 0, "\(configResult.error)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: config.path).sorted()
                == ["config.dump", "spec.dump"])

        let restResult = try BuiltTool.run(["import", "-q", archive, rest.path])
        #expect(restResult.status == 0, "\(restResult.error)")
        #expect(restResult.output.isEmpty)
        let names = try FileManager.default.contentsOfDirectory(atPath: rest.path)
        #expect(names.contains("rootfs-diff.tar"))
        #expect(!names.contains("config.dump") && !names.contains("spec.dump"))
    }

    @Test func refusedArchiveExitsThree() throws {
        let scratch = try ScratchDirectory()
        let destination = try ScratchDirectory()
        let archive = scratch.path + "/not-a-tar"
        try Data("plain text, no tar".utf8).write(to: URL(fileURLWithPath: archive))
        let result = try BuiltTool.run(["import", archive, destination.path])
        #expect(result.status == 3)
        #expect(result.error.hasPrefix("checkpointfs import: \(archive)"), "\(result.error)")
    }
}
