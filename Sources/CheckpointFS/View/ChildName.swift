/// A name in a directory of the view, as the key its parent's `children` holds it by.
///
/// A `[UInt8]` key costs its 8 bytes in the dictionary and a heap block of 48 bytes or more
/// for the name; with one key per entry of the tree that was a fifth of the daemon's
/// memory. This key is 16 bytes: names of up to 15 bytes (most of a root's) are held in it,
/// longer ones in an array. A name's length alone decides its form, so equal names always
/// make equal keys.
public struct ChildName: Hashable, Sendable {
    private enum Storage: Hashable, Sendable {
        case inline(InlineName)
        case heap(PathBytes)
    }

    private let storage: Storage

    public init(_ bytes: PathBytes) {
        storage = bytes.count <= InlineName.capacity ? .inline(InlineName(bytes)) : .heap(bytes)
    }

    /// The name's bytes.
    public var bytes: PathBytes {
        switch storage {
        case .inline(let name): name.bytes
        case .heap(let bytes): bytes
        }
    }
}
