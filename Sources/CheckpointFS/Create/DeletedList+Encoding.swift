extension DeletedList {
    /// The `deleted.files` text podman writes: a JSON array of absolute paths, one a line
    /// with a two-space indent, and no newline after the closing bracket (Go's
    /// `json.MarshalIndent(paths, "", "  ")`). Bytes that are not UTF-8 become U+FFFD, as
    /// Go writes them; `create` reports such paths as inexpressible.
    public static func encode(_ paths: [PathBytes]) -> [UInt8] {
        if paths.isEmpty { return Array("[]".utf8) }
        let lines = paths.map { "  " + GoJSONString.quoted(String(decoding: $0, as: UTF8.self)) }
        return Array(("[\n" + lines.joined(separator: ",\n") + "\n]").utf8)
    }
}
