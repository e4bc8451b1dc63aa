import CheckpointFS
import Glibc

/// Walks a view through the same calls the FUSE layer makes: readdir, lookup, getattr,
/// readlink, the xattrs, and open/read/release of every regular file to its end.
///
/// What a file system must keep true is checked on the way: an entry readdir lists can be
/// looked up, with the inode readdir gave and the type it said; a file reads exactly its
/// size, no more and no less. The walk is bounded so one input cannot take long.
struct ViewWalk {
    let view: any ViewFileSystem
    private(set) var nodesVisited = 0
    private(set) var bytesRead = 0
    static let nodeLimit = 4000
    static let byteLimit = 16 << 20

    init(view: any ViewFileSystem) {
        self.view = view
    }

    mutating func run() {
        visitDirectory(1, path: "", depth: 0)
    }

    private mutating func visitDirectory(_ node: UInt64, path: String, depth: Int) {
        let entries: [ViewDirectoryEntry]
        do {
            entries = try view.directoryEntries(node: node)
        } catch {
            fuzzFailure("readdir '\(path)': errno \(error.errno)")
        }
        for entry in entries {
            guard nodesVisited < Self.nodeLimit else { return }
            nodesVisited += 1
            let name = path + "/" + entry.name.displayPath
            let found: (node: UInt64, attributes: ViewAttributes)
            do {
                found = try view.lookup(parent: node, name: entry.name)
            } catch {
                fuzzFailure("lookup '\(name)' listed by readdir: errno \(error.errno)")
            }
            defer { view.forget(node: found.node, count: 1) }
            let attributes = found.attributes
            if attributes.inode != entry.inode {
                fuzzFailure("'\(name)': readdir inode \(entry.inode), lookup \(attributes.inode)")
            }
            if attributes.mode & S_IFMT != entry.type {
                fuzzFailure("'\(name)': readdir type \(entry.type), lookup \(attributes.mode)")
            }
            visit(found.node, attributes: attributes, path: name, depth: depth)
        }
    }

    private mutating func visit(
        _ node: UInt64,
        attributes: ViewAttributes,
        path: String,
        depth: Int
    ) {
        do {
            for name in try view.extendedAttributeNames(node: node) {
                _ = try view.extendedAttribute(node: node, name: name)
            }
            switch attributes.mode & S_IFMT {
            case S_IFDIR where depth < 32:
                visitDirectory(node, path: path, depth: depth + 1)
            case S_IFLNK:
                let target = try view.readLink(node: node)
                if target.count != attributes.size {
                    fuzzFailure("'\(path)': symlink of size \(attributes.size) reads "
                                + "\(target.count) bytes")
                }
            case S_IFREG:
                try readWhole(node, size: attributes.size, path: path)
            default:
                break
            }
        } catch {
            fuzzFailure("'\(path)': errno \(error.errno)")
        }
    }

    private mutating func readWhole(_ node: UInt64, size: Int64, path: String)
        throws(ViewError)
    {
        guard bytesRead < Self.byteLimit else { return }
        try view.checkReadable(node: node)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 128 << 10, alignment: 16)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        // Start near the end of a large file: the tail is where a lying size shows.
        if size > Int64(Self.byteLimit) { offset = size - Int64(buffer.count) }
        while true {
            let count = try view.read(node: node, offset: offset, into: buffer)
            if count == 0 { break }
            offset += Int64(count)
            bytesRead += count
            if offset > size { fuzzFailure("'\(path)': read past its size \(size)") }
        }
        if offset != size { fuzzFailure("'\(path)': \(offset) bytes read of \(size)") }
    }
}
