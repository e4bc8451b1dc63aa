/// Edits the bytes of a finished tar: header fields with their checksum made right again,
/// numbers in base-256, and the layout of headers and data, to cut or damage an archive at
/// an exact place.
enum TarBytes {
    /// Where one ustar header field lies: its offset in the header block and its width.
    struct Field: Sendable {
        var offset: Int
        var width: Int

        static let name = Field(offset: 0, width: 100)
        static let mode = Field(offset: 100, width: 8)
        static let uid = Field(offset: 108, width: 8)
        static let gid = Field(offset: 116, width: 8)
        static let size = Field(offset: 124, width: 12)
        static let mtime = Field(offset: 136, width: 12)
        static let checksum = Field(offset: 148, width: 8)
        static let type = Field(offset: 156, width: 1)
        static let devMajor = Field(offset: 329, width: 8)
        static let devMinor = Field(offset: 337, width: 8)
        /// GNU headers: `ustar  ` (two spaces, NUL) in place of ustar's magic and version.
        static let gnuMagic = Field(offset: 257, width: 8)
        /// GNU headers: the real size of a sparse file.
        static let gnuRealSize = Field(offset: 483, width: 12)
    }

    /// One header block of an archive and the data that follows it.
    struct Block: Sendable {
        /// Offset of the header.
        var header: Int
        /// The type flag (`0`, `5`, `x`, `L`, ...).
        var type: UInt8
        /// Offset of the first data byte and the data's length (before padding).
        var dataStart: Int
        var dataLength: Int
        /// The offset after the padded data: the next header.
        var end: Int { dataStart + (dataLength + 511) / 512 * 512 }
    }

    /// The header blocks of `bytes` in order, found by following each header's octal size,
    /// up to the end-of-archive zero block.
    static func blocks(_ bytes: [UInt8]) -> [Block] {
        var result: [Block] = []
        var offset = 0
        while offset + 512 <= bytes.count,
              bytes[offset..<(offset + 512)].contains(where: { $0 != 0 })
        {
            let sizeField = bytes[(offset + 124)..<(offset + 135)]
            let length = Int(String(decoding: sizeField.filter { $0 != 0 }, as: UTF8.self),
                             radix: 8) ?? 0
            let block = Block(header: offset, type: bytes[offset + 156],
                              dataStart: offset + 512, dataLength: length)
            result.append(block)
            offset = block.end
        }
        return result
    }

    /// Writes `value` into `field` of the header at `header` (NUL-padded, cut to the field's
    /// width) and recomputes the header's checksum.
    static func set(
        _ field: Field,
        of header: Int,
        to value: [UInt8],
        in bytes: inout [UInt8]
    ) {
        let padded = Array((value + [UInt8](repeating: 0, count: field.width)).prefix(field.width))
        bytes.replaceSubrange((header + field.offset)..<(header + field.offset + field.width),
                              with: padded)
        fixChecksum(of: header, in: &bytes)
    }

    /// Sets the checksum of the header at `header` to the sum of its bytes, as ustar defines
    /// it: the checksum field counts as eight spaces.
    static func fixChecksum(of header: Int, in bytes: inout [UInt8]) {
        for index in (header + 148)..<(header + 156) { bytes[index] = 0x20 }
        let sum = bytes[header..<(header + 512)].reduce(0) { $0 + Int($1) }
        let digits = Array(String(sum, radix: 8).utf8)
        let field = [UInt8](repeating: UInt8(ascii: "0"), count: 6 - digits.count) + digits
            + [0, 0x20]
        bytes.replaceSubrange((header + 148)..<(header + 156), with: field)
    }

    /// `value` as a base-256 number field of `width` bytes: the high bit of the first byte
    /// set, then the two's complement value big-endian, as GNU tar writes numbers that do
    /// not fit in octal (negative ones included).
    static func base256(_ value: Int64, width: Int) -> [UInt8] {
        var field = [UInt8](repeating: value < 0 ? 0xff : 0, count: width)
        var rest = value
        for index in stride(from: width - 1, through: 0, by: -1) {
            field[index] = UInt8(truncatingIfNeeded: rest)
            rest >>= 8
            if index <= width - 8 { break }
        }
        field[0] = field[0] | 0x80
        return field
    }

    /// `value` in octal digits filling `width - 1` bytes, then NUL.
    static func octal(_ value: Int64, width: Int) -> [UInt8] {
        let digits = Array(String(value, radix: 8).utf8)
        return [UInt8](repeating: UInt8(ascii: "0"), count: max(0, width - 1 - digits.count))
            + digits + [0]
    }
}
