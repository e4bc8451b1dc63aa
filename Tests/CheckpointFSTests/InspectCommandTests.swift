import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// `checkpointfs inspect`, run as the built program, against what the podman fixtures'
/// README and listings record about each export.
@Suite struct InspectCommandTests {
    /// Facts of one export, from the fixture README (sections 2 and 4) and its listings
    /// (`listings/*.outer-tvf.txt`: the sizes of config.dump and of the 23 regular files
    /// below `checkpoint/`, and the time of `checkpoint/inventory.img`).
    struct Export: CustomStringConvertible, Sendable {
        var name: String
        var compression: String?
        var size: Int64
        var containerName: String
        var criuBytes: Int64
        var dumpTime: String
        var configSize: Int64
        /// ckrich's diff tar and deleted list, or nil where the export has none.
        var hasDiff: Bool
        var deleted: [String]?

        var description: String { name }
    }

    static let ckrichDeleted = [
        "/bin/vi", "/data/deldir", "/data/delete-me.txt", "/data/file-to-dir", "/data/opaque-me",
    ]

    static let exports = [
        Export(name: "ckrich-zstd-default.tar.zst", compression: "zstd", size: 196_539,
               containerName: "ckrich", criuBytes: 83_293, dumpTime: "2026-12-03T15:59:37Z",
               configSize: 23_294, hasDiff: true, deleted: ckrichDeleted),
        Export(name: "ckrich-none.tar", compression: nil, size: 4_743_168,
               containerName: "ckrich", criuBytes: 83_293, dumpTime: "2026-12-03T15:59:38Z",
               configSize: 23_294, hasDiff: true, deleted: ckrichDeleted),
        Export(name: "ckrich-gzip.tar.gz", compression: "gzip", size: 1_473_064,
               containerName: "ckrich", criuBytes: 83_291, dumpTime: "2026-12-03T15:59:40Z",
               configSize: 23_294, hasDiff: true, deleted: ckrichDeleted),
        Export(name: "ckrich-ignore-rootfs.tar.zst", compression: "zstd", size: 26_318,
               containerName: "ckrich", criuBytes: 83_293, dumpTime: "2026-12-03T15:59:39Z",
               configSize: 23_294, hasDiff: false, deleted: nil),
        Export(name: "ck-nochange.tar.zst", compression: "zstd", size: 26_358,
               containerName: "ck-nochange", criuBytes: 87_388,
               dumpTime: "2026-12-03T16:01:33Z", configSize: 23_304, hasDiff: false,
               deleted: nil),
        Export(name: "ck-delonly.tar.zst", compression: "zstd", size: 26_418,
               containerName: "ck-delonly", criuBytes: 91_479, dumpTime: "2026-12-03T16:01:32Z",
               configSize: 23_302, hasDiff: false,
               deleted: ["/data/deldir", "/data/delete-me.txt"]),
    ]

    /// ckrich's `rootfs-diff.tar` (README section 4, `tar -tvf`): 39 members, of which 24
    /// files, 9 directories, 4 symlinks, the hard link `data/hl-b` and the FIFO `data/fifo`;
    /// 4,550,369 bytes of file data, 4,585,472 bytes in all, `data/big.txt` the largest.
    static let ckrichDiffTar: [String: Int] = [
        "size": 4_585_472, "members": 39, "regularFiles": 24, "directories": 9, "symlinks": 4,
        "hardLinks": 1, "otherMembers": 1, "dataBytes": 4_550_369,
    ]

    static func inspectJSON(_ arguments: [String]) throws -> [String: Any] {
        let result = try BuiltTool.run(["inspect", "--format", "json"] + arguments)
        #expect(result.status == 0, "\(result.error)")
        return try #require(try JSONSerialization.jsonObject(with: result.output)
                            as? [String: Any])
    }

    @Test(arguments: exports)
    func exportMatchesWhatTheFixtureRecords(_ export: Export) throws {
        let path = PodmanFixture.path("archives/" + export.name)
        let json = try Self.inspectJSON([path])

        #expect(json["layout"] as? String == "archive")
        #expect(json["compression"] as? String == export.compression)
        #expect(json["archiveSize"] as? Int64 == export.size)

        let container = try #require(json["container"] as? [String: Any])
        #expect(container["name"] as? String == export.containerName)
        #expect(container["runtime"] as? String == "runc")
        #expect(container["image"] as? String == "localhost/ckbase:v1")
        #expect((container["imageID"] as? String)?.hasPrefix("dc2190ad") == true)
        // podman 4.3 does not write checkpointedTime.
        #expect(container["checkpointed"] is NSNull)
        if export.containerName == "ckrich" {
            #expect(container["id"] as? String
                    == "8ee6e2189d092bae500a035057e7a0d666e45b250417a7a478fecfc23c3dbd13")
            #expect(container["created"] as? String == "2026-12-03T15:58:29.600703047Z")
        }

        let criu = try #require(json["criu"] as? [String: Any])
        #expect(criu["images"] as? Int == 23)
        #expect(criu["bytes"] as? Int64 == export.criuBytes)
        #expect(criu["dumpTime"] as? String == export.dumpTime)

        let files = try #require(json["files"] as? [[String: Any]])
        let sizes = Dictionary(uniqueKeysWithValues: files.map {
            ($0["name"] as? String ?? "", $0["size"] as? Int64 ?? -1)
        })
        #expect(sizes["config.dump"] == export.configSize)
        #expect(sizes["spec.dump"] == 20_842)

        if export.hasDiff {
            let diff = try #require(json["diffTar"] as? [String: Any])
            for (key, value) in Self.ckrichDiffTar {
                #expect(diff[key] as? Int == value, "\(key)")
            }
            #expect(diff["compression"] is NSNull)
            let largest = try #require(diff["largest"] as? [[String: Any]])
            #expect(largest.count == 5)
            #expect(largest.first?["name"] as? String == "data/big.txt")
            #expect(largest.first?["size"] as? Int64 == 4_550_000)
        } else {
            #expect(json["diffTar"] is NSNull)
        }
        if let deleted = export.deleted {
            let list = try #require(json["deletedFiles"] as? [String: Any])
            #expect(list["count"] as? Int == deleted.count)
            #expect(list["paths"] as? [String] == deleted)
        } else {
            #expect(json["deletedFiles"] is NSNull)
        }
        let expectedRoot = export.hasDiff ? "included"
            : export.deleted == nil ? "absent" : "deletions only"
        #expect(json["rootFileSystem"] as? String == expectedRoot)
    }

    @Test func addOnlyExport() throws {
        let json = try Self.inspectJSON([PodmanFixture.path("archives/ck-addonly.tar.zst")])
        let diff = try #require(json["diffTar"] as? [String: Any])
        // One member, data/only-added.txt of 11 bytes, in a 2,048-byte tar.
        #expect(diff["members"] as? Int == 1)
        #expect(diff["dataBytes"] as? Int == 11)
        #expect(diff["size"] as? Int == 2048)
        #expect(json["deletedFiles"] is NSNull)
        #expect(json["rootFileSystem"] as? String == "included")
    }

    @Test func tableShowsTheFactsOneALine() throws {
        let result = try BuiltTool.run(
            ["inspect", PodmanFixture.path("archives/ckrich-zstd-default.tar.zst")])
        #expect(result.status == 0, "\(result.error)")
        let lines = String(decoding: result.output, as: UTF8.self)
            .split(separator: "\n").map(String.init)
        for expected in [
            "container         ckrich",
            "image             localhost/ckbase:v1",
            "runtime           runc",
            "created           2026-12-03T15:58:29.600703047Z",
            "root file system  included",
            "rootfs-diff.tar   39 members: 24 files, 9 directories, 4 symlinks, 1 hard link, "
                + "1 special file",
            "deleted.files     5 paths",
            "  4550000  data/big.txt",
        ] {
            #expect(lines.contains(expected), "missing: \(expected)")
        }
        #expect(lines.contains { $0.hasPrefix("checkpointed      2026-12-03T15:59:37Z") })
        #expect(lines.contains { $0.hasPrefix("CRIU images       23 files") })
        #expect(lines.contains { $0.hasPrefix("format            exported archive, zstd") })

        let ignored = try BuiltTool.run(
            ["inspect", PodmanFixture.path("archives/ckrich-ignore-rootfs.tar.zst")])
        #expect(String(decoding: ignored.output, as: UTF8.self)
                .contains("root file system  not included"))
    }

    @Test func directoryGivesWhatItsArchiveGives() throws {
        let scratch = try TemporaryDirectory("inspect")
        let archive = PodmanFixture.path("archives/ckrich-zstd-default.tar.zst")
        try runCommand(["tar", "--zstd", "-xf", archive, "-C", scratch.path])
        let fromDirectory = try Self.inspectJSON(["--largest", "3", scratch.path])
        let fromArchive = try Self.inspectJSON(["--largest", "3", archive])

        #expect(fromDirectory["layout"] as? String == "directory")
        #expect(fromDirectory["archiveSize"] is NSNull)
        for key in ["container", "diffTar", "deletedFiles", "rootFileSystem"] {
            let left = try JSONSerialization.data(withJSONObject: [fromDirectory[key]!],
                                                  options: .sortedKeys)
            let right = try JSONSerialization.data(withJSONObject: [fromArchive[key]!],
                                                   options: .sortedKeys)
            #expect(left == right, "\(key)")
        }
        let criu = try #require(fromDirectory["criu"] as? [String: Any])
        #expect(criu["images"] as? Int == 23)
        #expect(criu["bytes"] as? Int == 83_293)
        let largest = try #require((fromDirectory["diffTar"] as? [String: Any])?["largest"]
                                   as? [[String: Any]])
        #expect(largest.map { $0["name"] as? String } == ["data/big.txt", "etc/passwd",
                                                          "etc/group"])
    }

    @Test(arguments: [("gzip", ["gzip", "-c"]), ("zstd", ["zstd", "-q", "-c"])])
    func compressedDiffTarInADirectory(filter: String, compressor: [String]) throws {
        let scratch = try TemporaryDirectory("inspect")
        let packed = try runCommand(
            compressor + [PodmanFixture.path("unpacked/ckrich/rootfs-diff.tar")]).output
        try packed.write(to: URL(fileURLWithPath: scratch.path("rootfs-diff.tar")))
        let json = try Self.inspectJSON([scratch.path])
        let diff = try #require(json["diffTar"] as? [String: Any])
        #expect(diff["compression"] as? String == filter)
        #expect(diff["size"] as? Int == packed.count)
        #expect(diff["members"] as? Int == 39)
        #expect(diff["dataBytes"] as? Int == 4_550_369)
        #expect(json["container"] is NSNull)
    }

    /// Reading an export extracts nothing: the cache a commit would make under $TMPDIR is
    /// never made.
    @Test func archivesAreReadWithoutExtracting() throws {
        let temporary = try TemporaryDirectory("inspect-tmp")
        for name in ["ckrich-zstd-default.tar.zst", "ckrich-gzip.tar.gz", "ckrich-none.tar"] {
            let result = try Command.run("/usr/bin/env", [
                "TMPDIR=" + temporary.path, BuiltTool.path, "inspect",
                PodmanFixture.path("archives/" + name),
            ])
            #expect(result.status == 0, "\(result.standardError)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.path)
                    .isEmpty, "\(name)")
        }
    }

    @Test func damagedArchiveNamesTheFile() throws {
        let scratch = try TemporaryDirectory("inspect")
        let whole = try Fixtures.bytes("podman/archives/ckrich-none.tar")
        // Cut inside rootfs-diff.tar's data, which comes after the CRIU images.
        let cut = scratch.path("cut.tar")
        try Data(whole.prefix(whole.count - 100_000)).write(to: URL(fileURLWithPath: cut))
        let result = try BuiltTool.run(["inspect", cut])
        #expect(result.status == 3)
        #expect(result.error.contains("\(cut): member 'rootfs-diff.tar': Truncated tar archive"))

        let notTar = scratch.path("not.tar")
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: notTar))
        let other = try BuiltTool.run(["inspect", notTar])
        #expect(other.status == 3)
        #expect(other.error.contains("\(notTar): not a checkpoint"))
    }

    @Test func commandLineMistakesExitTwo() throws {
        #expect(try BuiltTool.run(["inspect"]).status == 2)
        let badFormat = try BuiltTool.run(["inspect", "-f", "xml", "/"])
        #expect(badFormat.status == 2)
        #expect(badFormat.error.contains("--format must be table or json, not 'xml'"))
        #expect(try BuiltTool.run(["inspect", "--largest", "-1", "/"]).status == 2)
        let missing = try BuiltTool.run(["inspect", "/nonexistent-checkpoint"])
        #expect(missing.status == 3)
        #expect(missing.error.contains("/nonexistent-checkpoint: not a checkpoint"))
    }
}
