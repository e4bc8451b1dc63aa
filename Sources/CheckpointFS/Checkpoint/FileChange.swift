/// One line of a change list, as `podman diff` prints it: `A /path`, `C /path`, `D /path`.
public struct FileChange: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case added = "A"
        case changed = "C"
        case deleted = "D"
    }

    public var kind: Kind
    /// Absolute path inside the container, as bytes.
    public var path: PathBytes

    public init(_ kind: Kind, _ path: PathBytes) {
        self.kind = kind
        self.path = path
    }

    /// `A /path`, with bytes that are not UTF-8 escaped.
    public var line: String { "\(kind.rawValue) \(path.displayPath)" }
}
