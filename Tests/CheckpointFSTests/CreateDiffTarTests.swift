import CSystem
import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// The diff tar and deleted list `create` writes, read back byte by byte, with libarchive
/// (the tar index) and with GNU tar.
@Suite struct CreateDiffTarTests {
    /// One 512-byte header of the tar as written.
    struct RawHeader {
        var name: String
        var typeflag: Character
        var size: Int
        var linkName: String
        var owner: String
        var ownerNames: [UInt8]
        var magic: [UInt8]
        /// The PAX records of an `x` header.
        var records: String
    }

    /// Walks the tar's headers; also returns where the two zero blocks at the end start.
    static func rawHeaders(_ bytes: [UInt8]) -> (headers: [RawHeader], end: Int) {
        func field(_ at: Int, _ length: Int) -> [UInt8] {
            Array(bytes[at..<at + length].prefix { $0 != 0 })
        }
        func octal(_ at: Int, _ length: Int) -> Int {
            Int(String(decoding: field(at, length), as: UTF8.self)
                .trimmingCharacters(in: .whitespaces), radix: 8) ?? -1
        }
        var headers: [RawHeader] = []
        var offset = 0
        while offset + 512 <= bytes.count,
              bytes[offset..<offset + 512].contains(where: { $0 != 0 })
        {
            let prefix = field(offset + 345, 155)
            let name = (prefix.isEmpty ? [] : prefix + [UInt8(ascii: "/")]) + field(offset, 100)
            let size = octal(offset + 124, 12)
            let dataStart = offset + 512
            let typeflag = Character(UnicodeScalar(bytes[offset + 156]))
            headers.append(RawHeader(
                name: String(decoding: name, as: UTF8.self),
                typeflag: typeflag,
                size: size,
                linkName: String(decoding: field(offset + 157, 100), as: UTF8.self),
                owner: "\(octal(offset + 108, 8)):\(octal(offset + 116, 8))",
                ownerNames: field(offset + 265, 32) + field(offset + 297, 32),
                magic: Array(bytes[offset + 257..<offset + 265]),
                records: typeflag == "x"
                    ? String(decoding: bytes[dataStart..<dataStart + size], as: UTF8.self) : ""))
            offset = dataStart + (size + 511) / 512 * 512
        }
        return (headers, offset)
    }

    static func makePair(_ scratch: CreateScratch) throws {
        try scratch.inBase.directory("kept")
        try scratch.inBase.file("kept/old", "old")
        try scratch.copyBaseToChanged()
        let changed = scratch.inChanged
        try changed.remove("kept/old")
        try changed.directory("d")
        try changed.file("d/plain", "plain", uid: 1000, gid: 1000)
        try changed.time("d/plain", 1_600_000_000)
        try changed.file("d/ns", "nanoseconds")
        try changed.time("d/ns", 1_600_000_000, nanoseconds: 5)
        try changed.file("d/x", "xattrs")
        try changed.time("d/x", 1_600_000_000)
        try changed.xattr("d/x", "user.k", "v")
        try changed.xattr("d/x", "security.selinux", "system_u:object_r:etc_t:s0")
        try changed.file("d/h1", "linked")
        try changed.hardLink("d/h2", to: "d/h1")
        try changed.file("d/big-uid", "ids", uid: 3_000_000, gid: 7)
        try changed.time("d/big-uid", 1_600_000_000)
        try changed.directory("d/" + String(repeating: "a", count: 90))
        try changed.file("d/" + String(repeating: "a", count: 90) + "/"
                         + String(repeating: "b", count: 90), "split by the ustar prefix")
        try changed.file("d/sparse", "")
        try CreateRoundTripTests.makeSparse(changed.full("d/sparse"))
        // Whole seconds everywhere but d/ns: a nanosecond part needs a PAX record.
        let long = "d/" + String(repeating: "a", count: 90)
        for path in ["d/h1", long + "/" + String(repeating: "b", count: 90), long, "d/sparse",
                     "kept", "d"] {
            try changed.time(path, 1_600_000_000)
        }
    }

    @Test func membersAreUstarWithPaxOnlyWhereNeeded() throws {
        let scratch = try CreateScratch()
        try Self.makePair(scratch)
        let plan = try CheckpointDiff.create(
            basePath: scratch.base, changedPath: scratch.changed, outputPath: scratch.output,
            options: CreateOptions(allowLossy: true))
        let tar = try TestFile.bytes(atPath: scratch.output + "/rootfs-diff.tar")
        let (headers, end) = Self.rawHeaders(tar)

        // The archive ends with two zero blocks and nothing after them.
        #expect(tar.count == end + 1024)
        #expect(tar[end...].allSatisfy { $0 == 0 })

        let members = headers.filter { $0.typeflag != "x" }
        for header in headers {
            #expect(header.magic == Array("ustar\u{0}00".utf8), "\(header.name)")
            #expect(header.ownerNames.isEmpty, "\(header.name) names an owner")
            #expect(!header.name.hasPrefix("./") && !header.name.hasPrefix("/"))
        }
        let long = "d/" + String(repeating: "a", count: 90) + "/"
            + String(repeating: "b", count: 90)
        // libarchive names a sparse member's ustar header GNUSparseFile.0/NAME; its PAX
        // record GNU.sparse.name holds the real name.
        #expect(members.map(\.name) == [
            "d/", "d/" + String(repeating: "a", count: 90) + "/", long, "d/big-uid", "d/h1",
            "d/h2", "d/ns", "d/plain", "d/GNUSparseFile.0/sparse", "d/x", "kept", "kept/",
        ])
        #expect(members.map(\.name).count == plan.members.count)

        // A PAX header precedes exactly the members ustar cannot hold.
        var paxBefore: [String: String] = [:]
        for (index, header) in headers.enumerated() where header.typeflag == "x" {
            paxBefore[headers[index + 1].name] = header.records
        }
        #expect(Set(paxBefore.keys) == ["d/big-uid", "d/ns", "d/GNUSparseFile.0/sparse", "d/x"])
        #expect(paxBefore["d/big-uid"]?.contains("uid=3000000\n") == true)
        #expect(paxBefore["d/ns"]?.contains("mtime=1600000000.000000005\n") == true)
        #expect(paxBefore["d/x"]?.contains("SCHILY.xattr.user.k=v\n") == true)
        #expect(paxBefore["d/x"]?.contains("LIBARCHIVE") == false)
        #expect(paxBefore["d/x"]?.contains("selinux") == false)
        let sparse = paxBefore["d/GNUSparseFile.0/sparse"] ?? ""
        #expect(sparse.contains("GNU.sparse.realsize=4194304\n"))
        #expect(sparse.contains("GNU.sparse.name=d/sparse\n"))

        let byName = Dictionary(members.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        #expect(byName["d/h2"]?.typeflag == "1")
        #expect(byName["d/h2"]?.linkName == "d/h1")
        #expect(byName["d/h2"]?.size == 0)
        #expect(byName["d/plain"]?.owner == "1000:1000")
        #expect(byName["d/plain"]?.typeflag == "0")
        #expect(byName["d/"]?.typeflag == "5")
        #expect(byName["kept"]?.typeflag == "0" && byName["kept"]?.size == 0)
        #expect(byName[long]?.typeflag == "0")
    }

    @Test func libarchiveAndGNUTarReadItBack() throws {
        let scratch = try CreateScratch()
        try Self.makePair(scratch)
        try CheckpointDiff.create(
            basePath: scratch.base, changedPath: scratch.changed, outputPath: scratch.output,
            options: CreateOptions(allowLossy: true))
        let tarPath = scratch.output + "/rootfs-diff.tar"

        let index = try TarIndex(path: tarPath)
        let members = Dictionary(index.members.map { ($0.name.displayPath, $0) },
                                 uniquingKeysWith: { $1 })
        #expect(members["d/ns"]?.mtime == Timestamp(seconds: 1_600_000_000, nanoseconds: 5))
        #expect(members["d/x"]?.xattrs.map(\.name.displayPath) == ["user.k"])
        #expect(members["d/x"]?.xattrs.first?.value == Array("v".utf8))
        #expect(members["d/big-uid"]?.uid == 3_000_000)
        #expect(members["d/h2"]?.kind == .hardLink(target: PathBytes(path: "d/h1")))
        #expect(members["d/sparse"]?.size == 4 << 20)
        #expect(members["d/sparse"]?.storedSize ?? 0 < 64 << 10)

        let listing = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/tar")
        process.arguments = ["-tf", tarPath]
        process.standardOutput = listing
        try process.run()
        let names = String(decoding: listing.fileHandleForReading.readDataToEndOfFile(),
                           as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(names.split(separator: "\n").map(String.init)
                == index.members.map(\.name.displayPath))
    }

    /// A member over 8 GiB (the ustar size field's limit) with holes: a PAX size, a sparse
    /// map, and a few kilobytes in the tar.
    @Test func hugeSparseFileRoundTrips() throws {
        let scratch = try CreateScratch()
        try scratch.inBase.directory("d")
        try scratch.copyBaseToChanged()
        try scratch.inChanged.file("d/huge", "")
        let size: Int64 = 9 << 30
        let fd = open(scratch.inChanged.full("d/huge"), O_WRONLY)
        #expect(fd >= 0)
        let marks: [(Int64, String)] = [(0, "start"), (5 << 30, "middle"), (size - 3, "end")]
        for (offset, text) in marks {
            _ = Array(text.utf8).withUnsafeBytes {
                pwrite(fd, $0.baseAddress, $0.count, off_t(offset))
            }
        }
        close(fd)

        try scratch.createAndApply(options: CreateOptions())
        let tarSize = try FileDescriptor.open(atPath: scratch.output + "/rootfs-diff.tar")
            .stat().st_size
        #expect(tarSize < 1 << 20)
        let member = try TarIndex(path: scratch.output + "/rootfs-diff.tar").members
            .first { $0.name == PathBytes(path: "d/huge") }
        #expect(member?.size == size)

        let applied = try FileDescriptor.open(atPath: scratch.applied + "/d/huge")
        #expect(try applied.stat().st_size == Int(size))
        for (offset, text) in marks {
            var buffer = [UInt8](repeating: 0, count: text.utf8.count)
            let count = buffer.withUnsafeMutableBytes {
                pread(applied.raw, $0.baseAddress, $0.count, off_t(offset))
            }
            #expect(count == buffer.count && buffer == Array(text.utf8), "at \(offset)")
        }
        #expect(try scratch.appliedDifference(ignoring: [.sha256]).isEmpty)
    }

    @Test func deletedListIsPodmansJSON() throws {
        let scratch = try CreateScratch()
        try scratch.inBase.file("a", "a")
        try scratch.inBase.file("quote \"b\"", "b")
        try scratch.inBase.file("kept", "k")
        try scratch.copyBaseToChanged()
        try scratch.inChanged.remove("a")
        try scratch.inChanged.remove("quote \"b\"")

        let plan = try CheckpointDiff.create(
            basePath: scratch.base, changedPath: scratch.changed, outputPath: scratch.output,
            options: CreateOptions(allowLossy: true))
        #expect(plan.members.isEmpty)
        let text = try TestFile.bytes(atPath: scratch.output + "/deleted.files")
        #expect(String(decoding: text, as: UTF8.self) == "[\n  \"/a\",\n  \"/quote \\\"b\\\"\"\n]")
        #expect(try DeletedList.parse(text, file: "deleted.files") == ["/a", "/quote \"b\""])
        // Nothing to put in the tar: like podman, no tar at all.
        #expect(!FileManager.default.fileExists(atPath: scratch.output + "/rootfs-diff.tar"))
    }

    @Test func staleFilesAreRemovedFromTheOutput() throws {
        let scratch = try CreateScratch()
        try scratch.inBase.directory("d")
        try scratch.copyBaseToChanged()
        try scratch.inChanged.file("d/new", "n")
        try TreeMaker(root: scratch.path).directory("out")
        try TreeMaker(root: scratch.output).file("deleted.files", "[\"/d\"]")
        try TreeMaker(root: scratch.output).file("rootfs-diff.tar", "stale")

        try CheckpointDiff.create(basePath: scratch.base, changedPath: scratch.changed,
                                  outputPath: scratch.output)
        let names = try FileManager.default.contentsOfDirectory(atPath: scratch.output)
        #expect(names == ["rootfs-diff.tar"])
        let index = try TarIndex(path: scratch.output + "/rootfs-diff.tar")
        #expect(index.members.map(\.name.displayPath) == ["d/", "d/new"])
    }

    @Test func deletedListEscapesControlCharacters() {
        let text = DeletedList.encode([PathBytes(path: "/tab\there"), PathBytes(path: "/\u{1}")])
        #expect(String(decoding: text, as: UTF8.self) == "[\n  \"/tab\\there\",\n  \"/\\u0001\"\n]")
        #expect(String(decoding: DeletedList.encode([]), as: UTF8.self) == "[]")
    }
}
