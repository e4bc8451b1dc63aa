import Foundation
import Testing
@testable import CheckpointFS

@Suite struct DeletedListTests {
    static let ckrichList = [
        "/bin/vi", "/data/deldir", "/data/delete-me.txt", "/data/file-to-dir", "/data/opaque-me",
    ]

    @Test func podmanListIsReadInOrder() throws {
        let path = PodmanFixture.path("unpacked/ckrich/deleted.files")
        let list = try DeletedList.load(CheckpointFile(path: path, displayName: path))
        #expect(list == Self.ckrichList)

        let other = PodmanFixture.path("unpacked/ck-delonly/deleted.files")
        #expect(try DeletedList.load(CheckpointFile(path: other, displayName: other))
                == ["/data/deldir", "/data/delete-me.txt"])
    }

    @Test func listFromAnExportedArchive() throws {
        let source = try CheckpointSource.open(
            path: PodmanFixture.path("archives/ckrich-zstd-default.tar.zst"))
        defer { source.close() }
        #expect(try DeletedList.load(source.deletedList) == Self.ckrichList)
    }

    @Test func missingListMeansNothingToDelete() throws {
        let scratch = try ScratchDirectory()
        let missing = CheckpointFile(path: scratch.path + "/deleted.files",
                                     displayName: "deleted.files")
        #expect(try DeletedList.load(missing) == [])
        #expect(try DeletedList.load(nil) == [])
    }

    @Test func nullMeansNothingToDelete() throws {
        #expect(try DeletedList.parse(Array("null".utf8), file: "d") == [])
        #expect(try DeletedList.parse(Array(" null\n".utf8), file: "d") == [])
        #expect(try DeletedList.parse(Array("[]".utf8), file: "d") == [])
    }

    @Test func namesOutsideASCIIAreKept() throws {
        let json = #"["/data/name with spaces ünïcødé 日本.txt", "/a\u00e9"]"#
        #expect(try DeletedList.parse(Array(json.utf8), file: "d")
                == ["/data/name with spaces ünïcødé 日本.txt", "/aé"])
    }

    @Test(arguments: [
        (#"{"not": "an array"}"#, "not a JSON array of strings"),
        (#""/etc/passwd""#, "not a JSON array of strings"),
        ("42", "not a JSON array of strings"),
        (#"["/etc/hostname", 1]"#, "element 1 is not a string"),
        (#"["/a", "/b", null]"#, "element 2 is not a string"),
        (#"[["/nested"]]"#, "element 0 is not a string"),
        (#"["/a", {"b": 1}]"#, "element 1 is not a string"),
        (#"["/a""#, "invalid JSON"),
        (#"["/a"] trailing"#, "invalid JSON"),
        ("", "invalid JSON"),
    ])
    func malformedListsAreRefused(json: String, reason: String) throws {
        let error = try #require(throws: CheckpointError.self) {
            try DeletedList.parse(Array(json.utf8), file: "/ckpt/deleted.files")
        }
        guard case .malformedDeletedList(let file, let found) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(file == "/ckpt/deleted.files")
        #expect(found.hasPrefix(reason), "\(found)")
    }

    @Test func bytesThatAreNotUTF8AreRefused() throws {
        let latin1: [UInt8] = Array(#"["/caf"#.utf8) + [0xe9] + Array(#""]"#.utf8)
        #expect(throws: CheckpointError.malformedDeletedList(
            file: "x", reason: "not UTF-8 at byte 6")) {
            try DeletedList.parse(latin1, file: "x")
        }
        let utf16 = Array("[]".data(using: .utf16)!)
        #expect(throws: CheckpointError.malformedDeletedList(
            file: "x", reason: "not UTF-8 at byte 0")) {
            try DeletedList.parse(utf16, file: "x")
        }
    }

    @Test func fileErrorsNameTheDisplayName() throws {
        let scratch = try ScratchDirectory()
        let path = scratch.path + "/deleted.files"
        try Data(#"["/etc/hostname", 1]"#.utf8).write(to: URL(fileURLWithPath: path))
        let file = CheckpointFile(path: path, displayName: "ck.tar.zst:deleted.files")
        let error = try #require(throws: CheckpointError.self) { try DeletedList.load(file) }
        #expect(error.description.hasPrefix("ck.tar.zst:deleted.files: element 1"))
    }
}
