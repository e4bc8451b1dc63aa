import Foundation
import Testing
@testable import CheckpointFS

@Suite struct ConfigDumpTests {
    /// The fixture's createdTime, seconds counted by Foundation as a cross-check.
    static let createdSeconds: Int64 = {
        let formatter = ISO8601DateFormatter()
        return Int64(formatter.date(from: "2026-12-03T15:58:29Z")!.timeIntervalSince1970)
    }()

    /// A checkpoint directory holding the fixture's config.dump.
    static func directoryWithFixture() throws -> ScratchDirectory {
        let scratch = try ScratchDirectory()
        try FileManager.default.copyItem(
            atPath: PodmanFixture.path("state/ckrich-config.dump.pretty.json"),
            toPath: scratch.path + "/config.dump")
        return scratch
    }

    @Test func fixtureFieldsAreRead() throws {
        let scratch = try Self.directoryWithFixture()
        let dump = try ConfigDump.load(checkpoint: scratch.path)
        #expect(dump == ConfigDump(
            runtime: "runc",
            containerName: "ckrich",
            containerID: "8ee6e2189d092bae500a035057e7a0d666e45b250417a7a478fecfc23c3dbd13",
            imageName: "localhost/ckbase:v1",
            imageID: "dc2190ad206623a704b158fe2ea8e8ac4f1198d8d1a5c0c65364d4497264e306",
            created: Timestamp(seconds: Self.createdSeconds, nanoseconds: 600_703_047),
            checkpointed: nil))
        #expect(try ConfigDump.runtime(ofCheckpoint: scratch.path) == "runc")
    }

    @Test(arguments: ["ckrich-zstd-default.tar.zst", "ckrich-gzip.tar.gz", "ckrich-none.tar",
                      "ck-nochange.tar.zst"])
    func readStraightFromAnArchive(name: String) throws {
        let archive = PodmanFixture.path("archives/" + name)
        let dump = try ConfigDump.load(checkpoint: archive)
        #expect(dump.runtime == "runc")
        #expect(dump.imageName == "localhost/ckbase:v1")
        #expect(dump.created != nil)
        #expect(try ConfigDump.runtime(ofCheckpoint: archive) == "runc")
    }

    @Test func archiveIsReadOnlyAsFarAsConfigDump() throws {
        // Cut the archive short inside the CRIU images, well after config.dump: the
        // whole-archive open fails, reading config.dump does not.
        let scratch = try ScratchDirectory()
        let whole = try contents(PodmanFixture.path("archives/ckrich-none.tar"))
        let cut = scratch.path + "/cut.tar"
        try Data(whole.prefix(100_000)).write(to: URL(fileURLWithPath: cut))

        #expect(throws: CheckpointError.self) { try CheckpointSource.open(path: cut) }
        let archived = try ConfigDump.load(checkpoint: cut)
        let fixture = try Self.directoryWithFixture()
        #expect(archived == (try ConfigDump.load(checkpoint: fixture.path)))
    }

    @Test func missingConfigDumpIsNotACheckpoint() throws {
        let scratch = try ScratchDirectory()
        #expect(throws: CheckpointError.notACheckpoint(
            path: scratch.path, reason: "it has no config.dump")) {
            try ConfigDump.load(checkpoint: scratch.path)
        }
        let archive = PodmanFixture.path("archives/ckrich-none.tar")
        #expect(try CheckpointSource.readFile("no-such-member", checkpoint: archive,
                                              limit: 1000) == nil)
    }

    @Test func missingRuntimeIsReported() throws {
        let scratch = try ScratchDirectory()
        try Data(#"{"name": "x"}"#.utf8)
            .write(to: URL(fileURLWithPath: scratch.path + "/config.dump"))
        #expect(throws: CheckpointError.notACheckpoint(
            path: scratch.path, reason: "config.dump names no OCI runtime")) {
            try ConfigDump.runtime(ofCheckpoint: scratch.path)
        }
    }

    @Test(arguments: [
        ("[]", "config.dump: not a JSON object"),
        (#"{"runtime": "runc""#, "config.dump: invalid JSON"),
        (#"{"name": 5}"#, "config.dump: 'name'"),
        (#"{"createdTime": "yesterday"}"#, "config.dump: 'createdTime' is not an RFC 3339"),
    ])
    func malformedConfigDumpIsRefused(json: String, reason: String) throws {
        let error = try #require(throws: CheckpointError.self) {
            try ConfigDump.parse(Array(json.utf8), checkpoint: "/ckpt")
        }
        guard case .notACheckpoint(let path, let found) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(path == "/ckpt")
        #expect(found.hasPrefix(reason), "\(found)")
    }

    @Test func goZeroTimeMeansUnset() throws {
        let json = #"{"createdTime": "0001-01-01T00:00:00Z", "checkpointedTime": "#
            + #""2026-12-03T17:59:40.403126332+02:00"}"#
        let dump = try ConfigDump.parse(Array(json.utf8), checkpoint: "c")
        #expect(dump.created == nil)
        #expect(dump.checkpointed == Timestamp(seconds: Self.createdSeconds + 71,
                                               nanoseconds: 403_126_332))
    }

    @Test func rfc3339Times() {
        #expect(RFC3339Time.parse("1970-01-01T00:00:00Z") == Timestamp(seconds: 0,
                                                                       nanoseconds: 0))
        #expect(RFC3339Time.parse("1970-01-01T01:00:00.5+01:00")
                == Timestamp(seconds: 0, nanoseconds: 500_000_000))
        #expect(RFC3339Time.parse("1969-12-31T23:59:59.000000001Z")
                == Timestamp(seconds: -1, nanoseconds: 1))
        #expect(RFC3339Time.parse("0001-01-01T00:00:00Z")?.seconds == RFC3339Time.goZeroSeconds)
        for bad in ["", "2026-12-03", "2026-12-03T15:58:29", "2026-13-03T15:58:29Z",
                    "2026-12-03T15:58:29.Z", "2026-12-03T15:58:29Zjunk", "2026-12-03 15:58:29Z"] {
            #expect(RFC3339Time.parse(bad) == nil, "\(bad)")
        }
    }
}
