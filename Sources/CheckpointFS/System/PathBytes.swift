/// Paths and names as raw bytes: tar member names need not be UTF-8, and the kernel
/// treats them as bytes too.
public typealias PathBytes = [UInt8]

extension Array where Element == UInt8 {
    /// Bytes of a Swift string, without a terminating NUL.
    public init(path: String) {
        self = Array(path.utf8)
    }

    /// A readable rendering: valid UTF-8 as is, other bytes as `\xNN`.
    public var displayPath: String {
        var out = ""
        var index = 0
        while index < count {
            let scalarLength = Self.utf8Length(self, at: index)
            if scalarLength > 0,
               let text = String(validating: self[index..<index + scalarLength], as: UTF8.self)
            {
                for scalar in text.unicodeScalars {
                    if scalar.value < 0x20 || scalar.value == 0x7f {
                        out += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2)
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
                index += scalarLength
            } else {
                out += "\\x" + String(self[index], radix: 16).leftPadded(to: 2)
                index += 1
            }
        }
        return out
    }

    private static func utf8Length(_ bytes: [UInt8], at index: Int) -> Int {
        let lead = bytes[index]
        let length: Int
        switch lead {
        case 0..<0x80: length = 1
        case 0xc2..<0xe0: length = 2
        case 0xe0..<0xf0: length = 3
        case 0xf0..<0xf5: length = 4
        default: return 0
        }
        return index + length <= bytes.count ? length : 0
    }

    /// Calls `body` with a NUL-terminated C string of these bytes.
    public func withCPath<R, E: Error>(
        _ body: (UnsafePointer<CChar>) throws(E) -> R
    ) throws(E) -> R {
        var terminated = self
        terminated.append(0)
        let result: Result<R, E> = terminated.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                do throws(E) { return .success(try body($0)) } catch { return .failure(error) }
            }
        }
        return try result.get()
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
