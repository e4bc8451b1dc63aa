import Foundation
import Glibc
import Testing
@testable import CheckpointFS

@Suite struct CheckpointSourceTests {
    static let ckrichDiff = PodmanFixture.path("unpacked/ckrich/rootfs-diff.tar")
    static let ckrichDeleted = PodmanFixture.path("unpacked/ckrich/deleted.files")

    @Test func directoryWithPlainTarIsUsedInPlace() throws {
        let directory = PodmanFixture.path("unpacked/ckrich")
        let source = try CheckpointSource.open(path: directory)
        defer { source.close() }

        #expect(source.layout == .directory)
        #expect(source.diffTar == CheckpointFile(path: directory + "/rootfs-diff.tar",
                                                 displayName: directory + "/rootfs-diff.tar"))
        #expect(source.deletedList?.path == directory + "/deleted.files")
    }

    @Test func emptyDiffTarInDirectoryIsPlain() throws {
        let scratch = try ScratchDirectory()
        #expect(FileManager.default.createFile(atPath: scratch.path + "/rootfs-diff.tar",
                                               contents: Data()))
        let source = try CheckpointSource.open(path: scratch.path)
        #expect(source.diffTar?.path == scratch.path + "/rootfs-diff.tar")
    }

    @Test func directoryWithOnlyOneOfTheFiles() throws {
        let addOnly = try CheckpointSource.open(path: PodmanFixture.path("unpacked/ck-addonly"))
        #expect(addOnly.diffTar != nil)
        #expect(addOnly.deletedList == nil)

        let delOnly = try CheckpointSource.open(path: PodmanFixture.path("unpacked/ck-delonly"))
        #expect(delOnly.diffTar == nil)
        #expect(delOnly.deletedList != nil)
    }

    @Test(arguments: [("gzip", ["gzip", "-c"]), ("zstd", ["zstd", "-q", "-c"])])
    func compressedDiffTarInDirectoryIsDecompressedIntoCache(
        filter: String, compressor: [String]
    ) throws {
        let scratch = try ScratchDirectory()
        let packed = try runCommand(compressor + [Self.ckrichDiff]).output
        try packed.write(to: URL(fileURLWithPath: scratch.path + "/rootfs-diff.tar"))

        let source = try CheckpointSource.open(path: scratch.path)
        let diffTar = try #require(source.diffTar)
        #expect(diffTar.displayName == scratch.path + "/rootfs-diff.tar")
        #expect(diffTar.path != scratch.path + "/rootfs-diff.tar")
        #expect(try contents(diffTar.path) == contents(Self.ckrichDiff))

        // The cache is private and lies under $TMPDIR or /var/tmp.
        let cache = (diffTar.path as NSString).deletingLastPathComponent
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap {
            $0.isEmpty ? nil : $0
        } ?? "/var/tmp"
        #expect((cache as NSString).deletingLastPathComponent
                == (base as NSString).standardizingPath)
        var info = stat()
        #expect(lstat(cache, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o700)

        source.close()
        #expect(!FileManager.default.fileExists(atPath: cache))
        #expect(FileManager.default.fileExists(atPath: scratch.path + "/rootfs-diff.tar"))
    }

    @Test(arguments: [
        ("ckrich-zstd-default.tar.zst", "zstd"),
        ("ckrich-gzip.tar.gz", "gzip"),
        ("ckrich-none.tar", nil),
    ])
    func exportedArchiveYieldsBothFiles(name: String, compression: String?) throws {
        let archive = PodmanFixture.path("archives/" + name)
        let source = try CheckpointSource.open(path: archive)
        defer { source.close() }

        #expect(source.layout == .archive(compression: compression))
        let diffTar = try #require(source.diffTar)
        let deleted = try #require(source.deletedList)
        #expect(diffTar.displayName == archive + ":rootfs-diff.tar")
        #expect(deleted.displayName == archive + ":deleted.files")
        #expect(try contents(diffTar.path) == contents(Self.ckrichDiff))
        #expect(try contents(deleted.path) == contents(Self.ckrichDeleted))
    }

    @Test(arguments: [
        ("ck-addonly.tar.zst", true, false),
        ("ck-delonly.tar.zst", false, true),
        ("ck-nochange.tar.zst", false, false),
        ("ckrich-ignore-rootfs.tar.zst", false, false),
    ])
    func exportedArchiveWithoutSomeFiles(name: String, hasDiff: Bool, hasDeleted: Bool) throws {
        let source = try CheckpointSource.open(path: PodmanFixture.path("archives/" + name))
        defer { source.close() }
        #expect((source.diffTar != nil) == hasDiff)
        #expect((source.deletedList != nil) == hasDeleted)
    }

    @Test func addOnlyArchiveMatchesUnpackedDiff() throws {
        let source = try CheckpointSource.open(
            path: PodmanFixture.path("archives/ck-addonly.tar.zst"))
        defer { source.close() }
        let diffTar = try #require(source.diffTar)
        #expect(try contents(diffTar.path)
                == contents(PodmanFixture.path("unpacked/ck-addonly/rootfs-diff.tar")))
    }

    @Test func compressedDiffTarInsideArchiveIsDecompressed() throws {
        let scratch = try ScratchDirectory()
        let packed = try runCommand(["gzip", "-c", Self.ckrichDiff]).output
        try packed.write(to: URL(fileURLWithPath: scratch.path + "/rootfs-diff.tar"))
        try runCommand(["tar", "-C", scratch.path, "-cf", scratch.path + "/export.tar",
                        "./rootfs-diff.tar"])

        let source = try CheckpointSource.open(path: scratch.path + "/export.tar")
        let diffTar = try #require(source.diffTar)
        #expect(try contents(diffTar.path) == contents(Self.ckrichDiff))
        let cache = (diffTar.path as NSString).deletingLastPathComponent
        // Only the plain copy stays in the cache.
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache).count == 1)
        source.close()
        #expect(!FileManager.default.fileExists(atPath: cache))
    }

    @Test func droppingTheSourceRemovesTheCache() throws {
        var source: CheckpointSource? = try CheckpointSource.open(
            path: PodmanFixture.path("archives/ckrich-gzip.tar.gz"))
        let cache = try #require(source?.diffTar).path
        #expect(FileManager.default.fileExists(atPath: cache))
        source = nil
        #expect(!FileManager.default.fileExists(atPath: cache))
        #expect(!FileManager.default.fileExists(
            atPath: (cache as NSString).deletingLastPathComponent))
    }

    @Test func missingPathIsNotACheckpoint() throws {
        let scratch = try ScratchDirectory()
        let missing = scratch.path + "/nothing-here"
        #expect(throws: CheckpointError.notACheckpoint(
            path: missing, reason: "No such file or directory")) {
            try CheckpointSource.open(path: missing)
        }
    }

    @Test func fileThatIsNoTarIsNotACheckpoint() throws {
        let error = try #require(throws: CheckpointError.self) {
            try CheckpointSource.open(path: Self.ckrichDeleted)
        }
        guard case .notACheckpoint(let path, _) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(path == Self.ckrichDeleted)
    }

    @Test func truncatedArchiveNamesTheMember() throws {
        let scratch = try ScratchDirectory()
        // Cut ckrich-none.tar in the middle of rootfs-diff.tar's data.
        let whole = try contents(PodmanFixture.path("archives/ckrich-none.tar"))
        let truncated = scratch.path + "/truncated.tar"
        try Data(whole.prefix(whole.count - 100_000)).write(to: URL(fileURLWithPath: truncated))

        let error = try #require(throws: CheckpointError.self) {
            try CheckpointSource.open(path: truncated)
        }
        guard case .malformedArchive(let file, let member, _) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(file == truncated)
        #expect(member == "rootfs-diff.tar")
    }

    /// A compressed diff tar cut short is malformed; the error names the file, and no
    /// member: the compressed stream is the file itself, not something inside it.
    @Test(arguments: [["gzip", "-c"], ["zstd", "-q", "-c"]])
    func truncatedCompressedDiffTarIsMalformed(_ compressor: [String]) throws {
        let scratch = try ScratchDirectory()
        let packed = try runCommand(compressor + [Self.ckrichDiff]).output
        try packed.prefix(packed.count / 2)
            .write(to: URL(fileURLWithPath: scratch.path + "/rootfs-diff.tar"))

        let error = try #require(throws: CheckpointError.self) {
            try CheckpointSource.open(path: scratch.path)
        }
        guard case .malformedArchive(let file, let member, _) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(file == scratch.path + "/rootfs-diff.tar")
        #expect(member == nil, "\(error)")
    }

    @Test func diffTarThatIsADirectoryIsRefused() throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path + "/rootfs-diff.tar",
                                                withIntermediateDirectories: false)
        #expect(throws: CheckpointError.notACheckpoint(
            path: scratch.path + "/rootfs-diff.tar", reason: "not a regular file")) {
            try CheckpointSource.open(path: scratch.path)
        }
    }

    @Test func memberNamesAreNormalized() {
        #expect(CheckpointMemberName.normalized(PathBytes(path: "./config.dump"))
                == "config.dump")
        #expect(CheckpointMemberName.normalized(PathBytes(path: "/.//./deleted.files"))
                == "deleted.files")
        #expect(CheckpointMemberName.normalized(PathBytes(path: "checkpoint/x"))
                == "checkpoint/x")
    }
}

/// The podman fixtures copied into the test bundle.
enum PodmanFixture {
    static func path(_ relative: String) -> String {
        Bundle.module.resourcePath! + "/Fixtures/podman/" + relative
    }
}

/// A fresh directory under /tmp, removed with everything in it when dropped.
final class ScratchDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/checkpointfs-test-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        path = String(cString: template)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// The whole contents of a file.
func contents(_ path: String) throws -> Data {
    try Data(contentsOf: URL(fileURLWithPath: path))
}

/// Runs a program found in PATH; throws unless it exits 0 (or `allowFailure`).
@discardableResult
func runCommand(_ arguments: [String], allowFailure: Bool = false) throws -> CommandOutput {
    let result = allowFailure
        ? try Command.run("/usr/bin/env", arguments)
        : try Command.succeed("/usr/bin/env", arguments)
    return CommandOutput(status: result.status, output: Data(result.standardOutput),
                         error: result.standardError)
}

/// A finished command's status and outputs, standard output as `Data`.
struct CommandOutput {
    var status: Int32
    var output: Data
    var error: String
}

/// The built `checkpointfs` program, which lies beside the test resources in the build
/// products directory.
enum BuiltTool {
    static var path: String {
        Bundle.module.bundleURL.deletingLastPathComponent().path + "/checkpointfs"
    }

    /// Runs `checkpointfs` with `arguments`; a non-zero exit is a result, not an error.
    static func run(_ arguments: [String]) throws -> CommandOutput {
        try runCommand([path] + arguments, allowFailure: true)
    }
}
