import CheckpointFS

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
        case .string(let text): out += GoJSONString.quoted(text)
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
                out += GoJSONString.quoted(field.key)
                out += ": "
                field.value.write(into: &out, indent: indent, depth: depth + 1)
            }
            out += closing + "}"
        }
    }
}
