import Testing
@testable import CheckpointFS

/// Diff tars damaged at every place a header or its data can be: cut short, with wrong
/// checksums, PAX records whose lengths lie, long-name headers with nothing after them, sizes
/// past the end, numbers in base-256 that fit and that do not. Each one is refused whole
/// with an error naming the file (and the member where there is one), or applied correctly;
/// see `MalformedCheck` for everything each case is held to.
@Suite struct MalformedTarTests {
    typealias Entry = TarBuilder.Entry

    /// A diff tar with a member of every header form: a directory, a small and a multi-block
    /// file, a PAX name with an xattr, a GNU long name, a symlink and a hard link.
    static let richMembers: [Entry] = {
        var pax = Entry.file("pax-short-name", "pax member\n")
        pax.pax = [("path", Array(("d/" + String(repeating: "p", count: 120)).utf8)),
                   ("SCHILY.xattr.user.k", Array("v".utf8))]
        var gnu = Entry.file("gnu-short-name", "gnu member\n")
        gnu.gnuLongName = Array(("d/" + String(repeating: "g", count: 130)).utf8)
        return [
            .directory("d/"),
            .file("d/small", "ten bytes\n"),
            Entry(name: Array("d/big".utf8), content: [UInt8](repeating: 0x61, count: 1500)),
            pax,
            gnu,
            .symlink("d/link", to: "small"),
            .hardLink("d/hard", to: "d/small"),
        ]
    }()

    static let richTar = TarBuilder.archive(richMembers)

    /// Every place the rich tar can be cut: at each header (a clean end if a member starts
    /// there, else a PAX or long-name header left without its member), inside each header,
    /// one byte into each member's data, and at each data block boundary.
    static let truncations: [RawCheckpoint] = {
        let blocks = TarBytes.blocks(richTar)
        var cases: [RawCheckpoint] = []
        var membersBefore = 0
        for (position, block) in blocks.enumerated() {
            let startsMember = position == 0 || ![UInt8(ascii: "x"), UInt8(ascii: "L")]
                .contains(blocks[position - 1].type)
            cases.append(RawCheckpoint(
                description: "cut at header \(position)", tar: Array(richTar[..<block.header]),
                expectation: startsMember ? .applied(members: membersBefore)
                    : .refused(file: "rootfs-diff.tar", entry: nil)))
            cases.append(RawCheckpoint(
                description: "cut inside header \(position)",
                tar: Array(richTar[..<(block.header + 256)]),
                expectation: .refused(file: "rootfs-diff.tar", entry: nil)))
            let name = String(decoding: richTar[block.header..<(block.header + 100)]
                .prefix { $0 != 0 }, as: UTF8.self)
            // Data cut short shows at the next header; the error names the member it follows.
            let entry = block.type == UInt8(ascii: "0") && name.hasPrefix("d/") ? name : nil
            for cut in stride(from: block.dataStart + 1, to: block.dataStart + block.dataLength,
                              by: 512) {
                cases.append(RawCheckpoint(
                    description: "cut in the data of header \(position) at \(cut)",
                    tar: Array(richTar[..<cut]),
                    expectation: .refused(file: "rootfs-diff.tar", entry: entry)))
            }
            if startsMember { membersBefore += 1 }
        }
        let end = blocks.last!.end
        cases.append(RawCheckpoint(
            description: "no end-of-archive blocks", tar: Array(richTar[..<end]),
            expectation: .applied(members: richMembers.count)))
        cases.append(RawCheckpoint(
            description: "one end-of-archive block", tar: Array(richTar[..<(end + 512)]),
            expectation: .applied(members: richMembers.count)))
        return cases
    }()

    @Test(arguments: truncations)
    func truncated(_ checkpoint: RawCheckpoint) throws {
        try MalformedCheck.expect(checkpoint)
    }

    /// A wrong checksum, or one that is not a number, at the first, a middle and the last
    /// header.
    @Test(arguments: [0, 3, 8], ["0000000\0", "zzzzzz\0 "])
    func badChecksum(_ position: Int, _ checksum: String) throws {
        var tar = Self.richTar
        let header = TarBytes.blocks(tar)[position].header
        tar.replaceSubrange((header + 148)..<(header + 156), with: Array(checksum.utf8))
        try MalformedCheck.expect(RawCheckpoint(
            description: "checksum '\(checksum)' at header \(position)", tar: tar,
            expectation: .refused(file: "rootfs-diff.tar", entry: nil)))
    }

    /// PAX records whose length field is too long, too short, zero or no number, or that
    /// lack their `=` or newline: the member they belong to is refused, never applied under
    /// its ustar name with the records dropped.
    @Test(arguments: [
        "99 path=good\n", "5 path=good\n", "0 path=good\n", "xx path=good\n", "11 pathgood\n",
        "13 path=goodX", "13 path=good\n14 uid=1000\n",
    ])
    func paxRecordWithWrongLength(_ records: String) throws {
        let tar = TarBuilder.archive([
            Entry(name: Array("PaxHeaders/f".utf8), type: UInt8(ascii: "x"),
                  content: Array(records.utf8)),
            .file("f", "member\n"),
        ])
        try MalformedCheck.expect(RawCheckpoint(
            description: "PAX records \(records.debugDescription)", tar: tar,
            expectation: .refused(file: "rootfs-diff.tar", entry: "f")))
    }

    /// A GNU long-name or long-link header, or a PAX header, with no member after it: at the
    /// end of the archive, or at the end of the file.
    @Test(arguments: ["L", "K", "x"], [true, false])
    func extensionHeaderWithNothingAfter(_ type: String, _ endBlocks: Bool) throws {
        var builder = TarBuilder()
        builder.append(.file("first", "first\n"))
        builder.append(Entry(name: Array("././@LongLink".utf8), type: type.utf8.first!,
                             content: Array("a-long-name\0".utf8)))
        let tar = endBlocks ? builder.finished() : builder.bytes
        try MalformedCheck.expect(RawCheckpoint(
            description: "lone '\(type)' header\(endBlocks ? "" : " at the end of the file")",
            tar: tar, expectation: .refused(file: "rootfs-diff.tar", entry: nil)))
    }

    /// Sizes that claim more data than the file holds, in octal and in base-256, for the
    /// last member and one in the middle. libarchive rejects a size that overflows its own
    /// arithmetic at the header, before the member has a name: then the error names the
    /// member before it.
    @Test(arguments: [
        ("octal", TarBytes.octal(100_000, width: 12), "f"),
        ("base-256 2^40", TarBytes.base256(1 << 40, width: 12), "f"),
        ("base-256 maximum", TarBytes.base256(Int64.max, width: 12), "first"),
    ], [true, false])
    func sizePastTheEnd(_ size: (String, [UInt8], String), _ last: Bool) throws {
        var builder = TarBuilder()
        builder.append(.file("first", "first\n"))
        builder.append(.file("f", "abc"))
        if !last { builder.append(.file("after", "after\n")) }
        var tar = builder.finished()
        TarBytes.set(.size, of: TarBytes.blocks(tar)[1].header, to: size.1, in: &tar)
        try MalformedCheck.expect(RawCheckpoint(
            description: "size \(size.0) past the end\(last ? "" : " before another member")",
            tar: tar, expectation: .refused(file: "rootfs-diff.tar", entry: size.2)))
    }

    /// A GNU header whose `realsize` field claims more than the member stores: the bytes it
    /// claims would come from the next header or from past the end of the file. (A last
    /// member that claims only part of the end-of-archive blocks is not caught: libarchive
    /// does not say where its data ends. docs/reliability.md lists it.)
    @Test(arguments: [(600, false), (1 << 40, true), (1 << 40, false), (Int64.max, true),
                      (Int64.max, false)])
    func realSizeBeyondStoredData(_ realSize: Int64, _ last: Bool) throws {
        var builder = TarBuilder()
        builder.append(.file("first", "first\n"))
        builder.append(.file("f", "abc"))
        if !last { builder.append(.file("after", "after\n")) }
        var tar = builder.finished()
        let header = TarBytes.blocks(tar)[1].header
        TarBytes.set(.gnuMagic, of: header, to: Array("ustar  ".utf8), in: &tar)
        TarBytes.set(.gnuRealSize, of: header, to: TarBytes.base256(realSize, width: 12),
                     in: &tar)
        try MalformedCheck.expect(RawCheckpoint(
            description: "GNU realsize \(realSize)\(last ? "" : " before another member")",
            tar: tar, expectation: .refused(file: "rootfs-diff.tar", entry: "f")))
    }

    /// Header numbers in base-256, as GNU tar writes what octal cannot hold: those a file
    /// system can carry are applied (the view shows what the commit wrote); owners no
    /// system call can set, and device numbers mknod(2) cannot hold, are refused.
    static let base256Numbers: [(String, Entry, TarBytes.Field, Int64, Bool)] = [
        ("uid 3000000000", .file("f", "x\n"), .uid, 3_000_000_000, true),
        ("gid 70000", .file("f", "x\n"), .gid, 70000, true),
        ("size 5", .file("f", "hello"), .size, 5, true),
        ("mtime -1000", .file("f", "x\n"), .mtime, -1000, true),
        ("mtime 2^33", .file("f", "x\n"), .mtime, 1 << 33, true),
        ("uid -1", .file("f", "x\n"), .uid, -1, false),
        ("uid 4294967295", .file("f", "x\n"), .uid, 4_294_967_295, false),
        ("gid 2^32", .file("f", "x\n"), .gid, 1 << 32, false),
        ("device major 4095", charDevice, .devMajor, 4095, true),
        ("device major 4096", charDevice, .devMajor, 4096, false),
        ("device major 2^33", charDevice, .devMajor, 1 << 33, false),
        ("device minor 1048575", charDevice, .devMinor, 1_048_575, true),
        ("device minor 1048576", charDevice, .devMinor, 1_048_576, false),
    ]

    static var charDevice: Entry {
        Entry(name: Array("f".utf8), type: UInt8(ascii: "3"), mode: 0o600)
    }

    @Test(arguments: base256Numbers.indices)
    func base256Number(_ index: Int) throws {
        let (label, entry, field, value, fits) = Self.base256Numbers[index]
        var tar = TarBuilder.archive([.file("first", "first\n"), entry])
        TarBytes.set(field, of: TarBytes.blocks(tar)[1].header,
                     to: TarBytes.base256(value, width: field.width), in: &tar)
        try MalformedCheck.expect(RawCheckpoint(
            description: "base-256 \(label)", tar: tar,
            expectation: fits ? .applied(members: 2)
                : .refused(file: "rootfs-diff.tar", entry: "f")))
    }

    /// Owners from PAX records that no system call can set: `-1` means "leave it" to
    /// chown(2), and larger ones do not fit a uid_t.
    @Test(arguments: ["uid=-1", "uid=4294967295", "gid=4294967296", "uid=99999999999999999999"])
    func paxOwnerOutOfRange(_ record: String) throws {
        var entry = Entry.file("f", "x\n")
        let parts = record.split(separator: "=")
        entry.pax = [(String(parts[0]), Array(parts[1].utf8))]
        try MalformedCheck.expect(RawCheckpoint(
            description: "PAX \(record)", tar: TarBuilder.archive([entry]),
            expectation: .refused(file: "rootfs-diff.tar", entry: "f")))
    }
}

/// A symlink's mode in its header means nothing to the kernel: every symlink is 0777. Tools
/// other than GNU tar write other modes; the view must show what the commit gets.
@Suite struct SymlinkModeTests {
    @Test(arguments: [0o644, 0o000, 0o4755, 0o777] as [UInt32])
    func symlinkModeIsAlwaysAll(_ mode: UInt32) throws {
        var link = TarBuilder.Entry.symlink("data/link", to: "a")
        link.mode = mode
        var absolute = TarBuilder.Entry.symlink("new/up", to: "/etc")
        absolute.mode = mode
        try MalformedCheck.expect(RawCheckpoint(
            description: "symlinks with mode \(String(mode, radix: 8))",
            tar: TarBuilder.archive([link, absolute]),
            expectation: .applied(members: 2)))
    }
}
