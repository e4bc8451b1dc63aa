/// A JSON document to print: objects keep their keys in the order given, and the text is
/// laid out as Go's `json.MarshalIndent` lays it out, so output meant to match podman's
/// matches it byte for byte.
indirect enum JSONValue {
    case string(String)
    case integer(Int64)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    /// A string, or `null` for `nil`.
    static func optional(_ text: String?) -> JSONValue {
        text.map(JSONValue.string) ?? .null
    }

    /// The document, each level indented by `indent`, with a final newline.
    func text(indent: String) -> String {
        var out = ""
        write(into: &out, indent: indent, depth: 0)
        return out + "\n"
    }

    private func write(into out: inout String, indent: String, depth: Int) {
        let inner = "\n" + String(repeating: indent, count: depth + 1)
        let closing = "\n" + String(repeating: indent, count: depth)
        switch self {
        case .string(let text): Self.quote(text, into: &out)
        case .integer(let value): out += String(value)
        case .bool(let value): out += value ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (position, item) in items.enumerated() {
                out += (position == 0 ? "" : ",") + inner
                item.write(into: &out, indent: indent, depth: depth + 1)
            }
            out += closing + "]"
        case .object(let fields):
            guard !fields.isEmpty else { out += "{}"; return }
            out += "{"
            for (position, field) in fields.enumerated() {
                out += (position == 0 ? "" : ",") + inner
                Self.quote(field.key, into: &out)
                out += ": "
                field.value.write(into: &out, indent: indent, depth: depth + 1)
            }
            out += closing + "}"
        }
    }

    /// A JSON string with Go's escapes: `<`, `>` and `&` too (encoding/json escapes them so
    /// the text is safe inside HTML), and the line and paragraph separators.
    private static func quote(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                out += "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
            case _ where scalar.value < 0x20:
                out += "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

extension String {
    /// The string with `0`s in front up to `width` characters.
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
