/// JSON string literals as Go's encoding/json writes them, which is how podman writes
/// `deleted.files` and `podman diff --format json`.
public enum GoJSONString {
    /// `text` as a quoted JSON string (RFC 8259, section 7), with Go's extra escapes: `<`,
    /// `>` and `&` (so the text is safe inside HTML) and the line and paragraph separators.
    public static func quoted(_ text: String) -> String {
        var out = "\""
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
        return out + "\""
    }
}
