import Glibc

extension VirtualTree {
    /// The changes a restore makes to the lower root, sorted by path as `podman diff` sorts
    /// them: entries that are new (`A`), replaced or changed (`C`, and every lower directory
    /// something changes in), and removed (`D`, once for a removed directory).
    public func changes() throws -> [FileChange] {
        var changes: [FileChange] = []
        try collectChanges(in: root, at: [], into: &changes)
        changes.sort { $0.path.lexicographicallyPrecedes($1.path) }
        return changes
    }

    private func collectChanges(
        in directory: ViewNode,
        at path: PathBytes,
        into changes: inout [FileChange]
    ) throws {
        for name in directory.hidden where directory.children[ChildName(name)] == nil {
            changes.append(FileChange(.deleted, path + [UInt8(ascii: "/")] + name))
        }
        for (key, child) in directory.children {
            let name = key.bytes
            let childPathBytes = path + [UInt8(ascii: "/")] + name
            let lowerPath = directory.lowerDirectory.map { childPath($0, name) }
            if child.isDirectory, let lowerPath, child.lowerDirectory == lowerPath {
                // The same lower directory, merged or with changes below it.
                let touched = child.fromMember || child.mtime == nil
                    || !child.children.isEmpty || !child.hidden.isEmpty
                if touched { changes.append(FileChange(.changed, childPathBytes)) }
                try collectChanges(in: child, at: childPathBytes, into: &changes)
            } else if directory.hidden.contains(name) {
                changes.append(FileChange(.changed, childPathBytes))
                try collectAdded(below: child, at: childPathBytes, into: &changes)
            } else {
                changes.append(FileChange(.added, childPathBytes))
                try collectAdded(below: child, at: childPathBytes, into: &changes)
            }
        }
    }

    private func collectAdded(
        below node: ViewNode,
        at path: PathBytes,
        into changes: inout [FileChange]
    ) throws {
        guard node.isDirectory else { return }
        for (name, child) in node.children {
            let childPathBytes = path + [UInt8(ascii: "/")] + name.bytes
            changes.append(FileChange(.added, childPathBytes))
            try collectAdded(below: child, at: childPathBytes, into: &changes)
        }
    }
}
