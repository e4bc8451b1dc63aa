/// Writes tar archives byte by byte, so tests can make any header a real tar can hold,
/// and many that a careful writer never would.
struct TarBuilder {
    struct Entry {
        var name: [UInt8]
        var type: UInt8 = UInt8(ascii: "0")
        var mode: UInt32 = 0o644
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        var mtime: Int64 = 1_600_000_000
        var content: [UInt8] = []
        var linkName: [UInt8] = []
        var devMajor: UInt32 = 0
        var devMinor: UInt32 = 0
        /// PAX records written in an `x` header before this entry.
        var pax: [(String, [UInt8])] = []
        /// Written as a GNU `L` record before the entry when set.
        var gnuLongName: [UInt8]? = nil

        static func file(_ name: String, _ content: String, mode: UInt32 = 0o644) -> Entry {
            Entry(name: Array(name.utf8), mode: mode, content: Array(content.utf8))
        }

        static func directory(_ name: String, mode: UInt32 = 0o755) -> Entry {
            Entry(name: Array(name.utf8), type: UInt8(ascii: "5"), mode: mode)
        }

        static func symlink(_ name: String, to target: String) -> Entry {
            Entry(name: Array(name.utf8), type: UInt8(ascii: "2"), mode: 0o777,
                  linkName: Array(target.utf8))
        }

        static func hardLink(_ name: String, to target: String) -> Entry {
            Entry(name: Array(name.utf8), type: UInt8(ascii: "1"),
                  linkName: Array(target.utf8))
        }
    }

    private(set) var bytes: [UInt8] = []

    mutating func append(_ entry: Entry) {
        if !entry.pax.isEmpty {
            var records: [UInt8] = []
            for (key, value) in entry.pax { records += Self.paxRecord(key, value) }
            appendHeader(name: Array("PaxHeaders.0/x".utf8), type: UInt8(ascii: "x"),
                         mode: 0o644, size: records.count, entry: nil)
            appendData(records)
        }
        if let long = entry.gnuLongName {
            appendHeader(name: Array("././@LongLink".utf8), type: UInt8(ascii: "L"),
                         mode: 0o644, size: long.count + 1, entry: nil)
            appendData(long + [0])
        }
        appendHeader(name: entry.name, type: entry.type, mode: entry.mode,
                     size: entry.content.count, entry: entry)
        appendData(entry.content)
    }

    mutating func append(_ entries: [Entry]) {
        for entry in entries { append(entry) }
    }

    /// The archive with its two zero blocks.
    func finished() -> [UInt8] { bytes + [UInt8](repeating: 0, count: 1024) }

    static func archive(_ entries: [Entry]) -> [UInt8] {
        var builder = TarBuilder()
        builder.append(entries)
        return builder.finished()
    }

    private mutating func appendHeader(
        name: [UInt8], type: UInt8, mode: UInt32, size: Int, entry: Entry?
    ) {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ field: [UInt8], at offset: Int, width: Int) {
            for (index, byte) in field.prefix(width).enumerated() { header[offset + index] = byte }
        }
        func octal(_ value: Int64, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            let padded = String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
            put(Array(padded.utf8), at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(Int64(mode), at: 100, width: 8)
        octal(Int64(entry?.uid ?? 0), at: 108, width: 8)
        octal(Int64(entry?.gid ?? 0), at: 116, width: 8)
        octal(Int64(size), at: 124, width: 12)
        octal(entry?.mtime ?? 0, at: 136, width: 12)
        header[156] = type
        put(entry?.linkName ?? [], at: 157, width: 100)
        put(Array("ustar\u{0}00".utf8), at: 257, width: 8)
        octal(Int64(entry?.devMajor ?? 0), at: 329, width: 8)
        octal(Int64(entry?.devMinor ?? 0), at: 337, width: 8)
        for index in 148..<156 { header[index] = UInt8(ascii: " ") }
        let sum = header.reduce(0) { $0 + Int64($1) }
        octal(sum, at: 148, width: 7)
        header[155] = UInt8(ascii: " ")
        bytes += header
    }

    private mutating func appendData(_ data: [UInt8]) {
        bytes += data
        let padding = (512 - data.count % 512) % 512
        bytes += [UInt8](repeating: 0, count: padding)
    }

    /// One PAX record: "<length> <key>=<value>\n", where length counts itself.
    static func paxRecord(_ key: String, _ value: [UInt8]) -> [UInt8] {
        let body = Array(" \(key)=".utf8) + value + [UInt8(ascii: "\n")]
        var length = body.count + 1
        while String(length).utf8.count + body.count != length { length += 1 }
        return Array(String(length).utf8) + body
    }
}
