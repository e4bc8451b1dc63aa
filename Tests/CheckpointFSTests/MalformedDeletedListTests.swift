import Foundation
import Testing
@testable import CheckpointFS

/// Deleted lists that are not a JSON array of strings, that are huge, or that repeat
/// themselves: refused whole naming `deleted.files` (and the element), or applied as a list
/// of distinct paths would be.
@Suite struct MalformedDeletedListTests {
    static let notArraysOfStrings: [(String, String)] = [
        ("an object", #"{"paths": ["/etc/passwd"]}"#),
        ("a string", #""/etc/passwd""#),
        ("a number", "42"),
        ("true", "true"),
        ("an array of numbers", "[1, 2]"),
        ("a string then a number", #"["/data/a", 2]"#),
        ("a null element", #"["/data/a", null]"#),
        ("a nested array", #"[["/data/a"]]"#),
        ("an object element", #"[{"path": "/data/a"}]"#),
        ("unterminated", #"["/data/a""#),
        ("a trailing comma", #"["/data/a",]"#),
        ("a leading comma", #"[,"/data/a"]"#),
        ("two commas", #"["/data/a",,"/etc"]"#),
        ("a comment", #"["/data/a" /* and */]"#),
        ("a raw tab in a string", "[\"/data/\ta\"]"),
        ("a bad escape", #"["/data/\q"]"#),
        ("Null", "Null"),
        ("two documents", #"["/data/a"] ["/etc"]"#),
        ("empty", ""),
        ("whitespace", " \n"),
        ("single quotes", "['/data/a']"),
        ("a lone surrogate escape", #"["/data/\ud800"]"#),
    ]

    @Test(arguments: notArraysOfStrings)
    func notAnArrayOfStrings(_ input: (String, String)) throws {
        try MalformedCheck.expect(RawCheckpoint(
            description: "deleted list: \(input.0)", tar: nil, deleted: Array(input.1.utf8),
            expectation: .refused(file: "deleted.files", entry: nil)))
    }

    static let utf16: [UInt8] = [0xff, 0xfe] + Array(#"["/data/a"]"#.utf16).flatMap {
        [UInt8($0 & 0xff), UInt8($0 >> 8)]
    }
    static let notUTF8Inputs: [(String, [UInt8])] = [
        ("invalid UTF-8", Array(#"["/data/"#.utf8) + [0xff, 0xfe] + Array(#""]"#.utf8)),
        ("UTF-16", utf16),
    ]

    /// Bytes that are not UTF-8 at all, and UTF-16 with its byte-order mark.
    @Test(arguments: notUTF8Inputs)
    func notUTF8(_ input: (String, [UInt8])) throws {
        try MalformedCheck.expect(RawCheckpoint(
            description: "deleted list: \(input.0)", tar: nil, deleted: input.1,
            expectation: .refused(file: "deleted.files", entry: nil)))
    }

    /// A path with a NUL byte names nothing a file system can hold.
    @Test func nulInAPath() throws {
        try MalformedCheck.expect(RawCheckpoint(
            description: "deleted list: NUL in a path", tar: nil,
            deleted: Array(#"["/data/a\u0000/x"]"#.utf8),
            expectation: .refused(file: "deleted.files", entry: "/data/a\0/x")))
    }

    /// The element that is not a string is named by its index.
    @Test func elementIsNamed() throws {
        #expect(throws: CheckpointError.self) {
            try DeletedList.parse(Array(#"["/a", "/b", 3]"#.utf8), file: "deleted.files")
        }
        do {
            _ = try DeletedList.parse(Array(#"["/a", "/b", 3]"#.utf8), file: "deleted.files")
        } catch {
            #expect("\(error)".contains("deleted.files") && "\(error)".contains("element 2"))
        }
    }

    /// Larger than the limit: refused after reading no more than the limit, whatever the
    /// file's size (a sparse file, so the test writes nothing).
    @Test func largerThanTheLimit() throws {
        let scratch = try TemporaryDirectory("huge-deleted")
        let checkpoint = scratch.path("checkpoint")
        try RawCheckpoint(description: "huge", tar: nil, deleted: Array("[".utf8),
                          expectation: .applied(members: nil)).write(to: checkpoint)
        let path = checkpoint + "/deleted.files"
        _ = try check("truncate", path) { truncate(path, off_t(DeletedList.sizeLimit) + 1) }
        let root = scratch.path("root")
        _ = try check("mkdir", root) { mkdir(root, 0o755) }
        #expect {
            try Restore(source: CheckpointSource.open(path: checkpoint)).commit(rootPath: root)
        } throws: { error in
            "\(error)".contains("deleted.files") && "\(error)".contains("larger than")
        }
    }

    /// 100,000 paths, one of them repeated 1,000 times and a parent listed after its child:
    /// applied, the repeats doing nothing, in a time that does not grow with the square.
    @Test func hugeAndRepeating() throws {
        var paths = (0..<100_000).map { "/data/missing-\($0)" }
        paths += Array(repeating: "/data/a", count: 1000)
        paths += ["/data/sub/b", "/data/sub", "/data/sub", "/etc/passwd", "/etc/passwd"]
        try MalformedCheck.expect(RawCheckpoint(
            description: "100,000 paths with repeats", tar: nil,
            deleted: Array(try JSONEncoder().encode(paths)),
            expectation: .applied(members: 0)))
    }

    /// A list that names the same directory through symlinks and spellings: `/datalink/a`
    /// removes `data/a`, after which `/data/a` and `/data//a/` are already gone.
    @Test func sameEntryUnderManyNames() throws {
        let paths = ["/datalink/a", "/data/a", "/data//a/", "/./data/./a", "/up/data/a"]
        try MalformedCheck.expect(RawCheckpoint(
            description: "one path many ways", tar: nil,
            deleted: Array(try JSONEncoder().encode(paths)),
            expectation: .applied(members: 0)))
    }
}
