/// Makes the header checksums of mutated tar bytes right again.
///
/// Almost every mutation of a header breaks its checksum, and libarchive stops at the first
/// bad one, so without this the fuzzer would only ever reach the checksum test. The walk
/// follows the tar's own layout: a block with the `ustar` magic is a header, its size field
/// says how many data blocks follow; anything else is skipped block by block.
enum TarChecksum {
    static func repaired(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        var offset = 0
        while offset + 512 <= bytes.count {
            guard bytes[(offset + 257)..<(offset + 262)].elementsEqual("ustar".utf8) else {
                offset += 512
                continue
            }
            for index in (offset + 148)..<(offset + 156) { bytes[index] = 0x20 }
            let sum = bytes[offset..<(offset + 512)].reduce(0) { $0 + Int($1) }
            let digits = Array(String(sum, radix: 8).utf8)
            let field = Array(repeating: UInt8(ascii: "0"), count: max(0, 6 - digits.count))
                + digits.suffix(6) + [0, 0x20]
            bytes.replaceSubrange((offset + 148)..<(offset + 156), with: field)
            let size = octal(bytes[(offset + 124)..<(offset + 136)]) ?? 0
            offset += 512 + Int(min(size, Int64(bytes.count))).roundedUpToBlock
        }
        return bytes
    }

    /// An octal header field; nil when it holds anything else (base-256 included).
    private static func octal(_ field: ArraySlice<UInt8>) -> Int64? {
        var value: Int64 = 0
        var seen = false
        for byte in field {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                guard value < Int64.max >> 3 else { return nil }
                value = value << 3 | Int64(byte - UInt8(ascii: "0"))
                seen = true
            case 0, 0x20: if seen { return value }
            default: return nil
            }
        }
        return seen ? value : nil
    }
}

extension Int {
    fileprivate var roundedUpToBlock: Int { (self + 511) / 512 * 512 }
}
