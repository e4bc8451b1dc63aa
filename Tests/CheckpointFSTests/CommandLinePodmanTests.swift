import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// The real podman checkpoint through the whole program, as an engineer would use it: mount
/// the view over the base image, commit the same checkpoint onto a copy, compare the two with
/// GNU diff, and check what `diff` and `inspect` say against what the fixture README records.
@Suite struct CommandLinePodmanTests {
    /// What the fixture README records about ckrich's checkpoint (sections 3 and 4): the
    /// deleted list, and a diff tar of 39 members holding 4,550,369 bytes of file data.
    static let deletedPaths = [
        "/bin/vi", "/data/deldir", "/data/delete-me.txt", "/data/file-to-dir", "/data/opaque-me",
    ]
    static let commitSummary = "39 members applied, 5 paths removed, 4550369 bytes written"

    static let forms = [
        "unpacked/ckrich", "archives/ckrich-none.tar", "archives/ckrich-gzip.tar.gz",
        "archives/ckrich-zstd-default.tar.zst",
    ]

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    @Test(arguments: forms)
    func viewAndCommitAgreeAndDiffAndInspectSayWhatPodmanRecorded(_ form: String) throws {
        let checkpoint = PodmanFixture.path(form)
        let scratch = try TemporaryDirectory("podman-e2e")
        let lower = scratch.path("lower")
        let copy = scratch.path("copy")
        let mountPoint = scratch.path("view")
        for path in [lower, mountPoint] {
            _ = try check("mkdir", path) { mkdir(path, 0o755) }
        }
        try BaseRootfs.extract(into: lower)
        try Command.succeed("/bin/cp", ["-a", lower, copy])
        let start = Int(time(nil))

        let view = try MountHarness(root: lower, checkpoint: checkpoint, mountPoint: mountPoint)
        defer { view.unmount() }
        let commit = try BuiltTool.run(["commit", "--state-dir", scratch.path("state"),
                                        "--root", copy, checkpoint])
        #expect(commit.status == 0, "\(commit.error)")
        #expect(String(decoding: commit.output, as: UTF8.self) == Self.commitSummary + "\n")

        // GNU diff calls two FIFOs different whatever they are; the snapshots below compare
        // data/fifo (type, mode, owner, time) with everything else.
        let gnuDiff = try Command.run("/usr/bin/diff", [
            "-r", "--no-dereference", "--exclude=fifo", view.mountPoint, copy,
        ])
        #expect(gnuDiff.status == 0, "\(String(decoding: gnuDiff.standardOutput, as: UTF8.self))")
        let viewTree = try TreeSnapshot(of: view.mountPoint, freshAfter: start)
        let commitTree = try TreeSnapshot(of: copy, freshAfter: start)
        #expect(viewTree == commitTree,
                "view (-) vs commit (+):\n\(commitTree.difference(from: viewTree))")

        try expectChangeListMatches(lower: lower, view: view.mountPoint, checkpoint: checkpoint)
        for path in Self.deletedPaths {
            #expect(Self.exists(lower + path), "\(path) is not in the base image")
            #expect(!Self.exists(view.mountPoint + path), "\(path) is still in the view")
            #expect(!Self.exists(copy + path), "\(path) is still in the commit")
        }
        try expectInspectMatches(checkpoint: checkpoint, isDirectory: form.hasPrefix("unpacked"))
        #expect(view.unmount() == 0, "\(view.log())")
    }

    /// `checkpointfs diff` against the base image lists what the view shows: an `A` path is
    /// in the view and not in the base, a `D` path the other way round, a `C` path in both;
    /// and every difference `diff -rq` finds between the base and the view is listed.
    func expectChangeListMatches(lower: String, view: String, checkpoint: String) throws {
        let result = try BuiltTool.run(["diff", "--root", lower, checkpoint])
        #expect(result.status == 0, "\(result.error)")
        let lines = String(decoding: result.output, as: UTF8.self).split(separator: "\n")
            .map(String.init)
        for line in lines {
            let path = String(line.dropFirst(2))
            switch line.first {
            case "A":
                #expect(Self.exists(view + path) && !Self.exists(lower + path), "\(line)")
            case "D":
                #expect(!Self.exists(view + path) && Self.exists(lower + path), "\(line)")
            case "C":
                #expect(Self.exists(view + path) && Self.exists(lower + path), "\(line)")
            default:
                Issue.record("not a change line: \(line)")
            }
        }
        #expect(lines.filter { $0.hasPrefix("D ") }.map { String($0.dropFirst(2)) }
                == Self.deletedPaths)

        let listed = Set(lines)
        let gnu = try Command.run("/usr/bin/diff", ["-rq", "--no-dereference", lower, view])
        for line in String(decoding: gnu.standardOutput, as: UTF8.self).split(separator: "\n") {
            let text = String(line)
            if let (directory, name) = Self.onlyIn(text, root: view) {
                #expect(listed.contains("A \(directory)/\(name)"), "\(text)")
            } else if let (directory, name) = Self.onlyIn(text, root: lower) {
                #expect(listed.contains("D \(directory)/\(name)"), "\(text)")
            } else if text.hasPrefix("Files \(lower)/") && text.hasSuffix(" differ") {
                let path = String(text.dropFirst("Files \(lower)".count)
                    .prefix { $0 != " " })
                #expect(listed.contains("C \(path)"), "\(text)")
            } else {
                Issue.record("diff -rq said something unexpected: \(text)")
            }
        }
    }

    /// The directory below `root` and the name of a `diff -rq` line `Only in ROOT/DIR: NAME`.
    static func onlyIn(_ line: String, root: String) -> (String, String)? {
        let prefix = "Only in \(root)"
        guard line.hasPrefix(prefix), let colon = line.range(of: ": ") else { return nil }
        let directory = String(line[line.index(line.startIndex, offsetBy: prefix.count)
                                    ..< colon.lowerBound])
        return (directory, String(line[colon.upperBound...]))
    }

    /// `inspect` says what the README says: runc, 39 members, the five deleted paths.
    func expectInspectMatches(checkpoint: String, isDirectory: Bool) throws {
        let result = try BuiltTool.run(["inspect", "--format", "json", checkpoint])
        #expect(result.status == 0, "\(result.error)")
        let json = try #require(try JSONSerialization.jsonObject(with: result.output)
                                as? [String: Any])
        let diff = try #require(json["diffTar"] as? [String: Any])
        #expect(diff["members"] as? Int == 39)
        #expect(diff["dataBytes"] as? Int == 4_550_369)
        #expect((json["deletedFiles"] as? [String: Any])?["paths"] as? [String]
                == Self.deletedPaths)
        if isDirectory {
            // The unpacked copy holds the diff tar and deleted list only.
            #expect(json["container"] is NSNull)
        } else {
            let container = try #require(json["container"] as? [String: Any])
            #expect(container["runtime"] as? String == "runc")
            #expect(container["name"] as? String == "ckrich")
        }
    }
}
