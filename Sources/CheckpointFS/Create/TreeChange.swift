/// One line of a change list: what happened to a path of the changed root relative to its
/// base, as `podman diff` prints it (`A /etc/new.conf`, `C /etc`, `D /bin/vi`).
public struct TreeChange: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Character, Sendable {
        case added = "A"
        case changed = "C"
        case deleted = "D"
    }

    public var kind: Kind
    /// The absolute path inside the root (`/etc/passwd`), as bytes.
    public var path: PathBytes

    public init(kind: Kind, path: PathBytes) {
        self.kind = kind
        self.path = path
    }

    /// The `podman diff` line; bytes that are not printable UTF-8 show as `\xNN`.
    public var description: String {
        "\(kind.rawValue) \(path.displayPath)"
    }
}
