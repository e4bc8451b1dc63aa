extension DeletedList {
    /// Checks that `bytes` are, to the letter of RFC 8259, `null` or an array of strings.
    ///
    /// Foundation's decoder is lenient where podman's is not: it takes `["/a",]`, for one,
    /// which Go's encoding/json refuses, so a restore would fail where we would apply. The
    /// decoder still does the reading; this only says whether the text may be read at all.
    ///
    /// - Returns: nil when the syntax is strict JSON, else what is wrong and at which byte.
    static func syntaxError(in bytes: [UInt8]) -> String? {
        var scanner = StrictScanner(bytes: bytes)
        return scanner.scanDocument()
    }
}

/// A scanner for the one shape a deleted list may have: `null` or `[ "..." , ... ]`.
private struct StrictScanner {
    let bytes: [UInt8]
    var position = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func scanDocument() -> String? {
        skipSpace()
        if bytes[position...].starts(with: "null".utf8) {
            position += 4
        } else if let error = scanArray() {
            return error
        }
        skipSpace()
        return position == bytes.count ? nil : unexpected("after the end of the document")
    }

    private mutating func scanArray() -> String? {
        guard next == UInt8(ascii: "[") else { return unexpected("where '[' belongs") }
        position += 1
        skipSpace()
        if next == UInt8(ascii: "]") {
            position += 1
            return nil
        }
        while true {
            skipSpace()
            if let error = scanString() { return error }
            skipSpace()
            switch next {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"):
                position += 1
                return nil
            default: return unexpected("where ',' or ']' belongs")
            }
        }
    }

    private mutating func scanString() -> String? {
        guard next == UInt8(ascii: "\"") else { return unexpected("where a string belongs") }
        position += 1
        while let byte = next {
            position += 1
            switch byte {
            case UInt8(ascii: "\""): return nil
            case UInt8(ascii: "\\"):
                guard let escaped = next else { break }
                position += 1
                if Array("\"\\/bfnrt".utf8).contains(escaped) { continue }
                guard escaped == UInt8(ascii: "u"), position + 4 <= bytes.count,
                      bytes[position..<(position + 4)].allSatisfy(\.isHexDigit)
                else { return unexpected("in an escape") }
                position += 4
            case 0..<0x20:
                position -= 1
                return unexpected("inside a string (control characters must be escaped)")
            default: continue
            }
        }
        return "a string is not terminated"
    }

    private var next: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipSpace() {
        while let byte = next, [0x20, 0x09, 0x0a, 0x0d].contains(byte) { position += 1 }
    }

    private func unexpected(_ place: String) -> String {
        guard let byte = next else { return "the document ends \(place)" }
        let shown = (0x21..<0x7f).contains(byte) ? "'\(UnicodeScalar(byte))'"
            : "byte 0x" + String(byte, radix: 16)
        return "\(shown) at byte \(position) \(place)"
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self)
    }
}
