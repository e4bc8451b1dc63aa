/// The last decisions, once every member is known: which kept directories need a header,
/// and what the restore will stamp with its own time.
extension DiffPlanner {
    func finishHeaders() {
        // Creating or replacing an entry stamps the directory it is in. A kept directory's
        // header sets its mtime back after the last member; the root has no header.
        var rootStamped = false
        for member in slots.compactMap({ $0 }) {
            let parent = Self.parent(of: member.path)
            if parent.isEmpty {
                rootStamped = true
            } else {
                mergedDirectories[parent]?.stamped = true
            }
        }

        // The deleted list runs after the tar: whatever it stamps stays stamped.
        var stampedByDeletion: [PathBytes] = []
        var seen: Set<PathBytes> = []
        for path in deletedPaths {
            let parent = Self.parent(of: path)
            if parent.isEmpty {
                rootStamped = true
            } else if seen.insert(parent).inserted {
                stampedByDeletion.append(parent)
            }
            if String(validating: path, as: UTF8.self) == nil {
                inexpressible.append(.init(path: Self.absolute(path), reason: .deletedPathNotUTF8))
            }
        }
        for parent in stampedByDeletion {
            inexpressible.append(.init(path: Self.absolute(parent),
                                       reason: .directoryTimeStampedByDeletion))
        }
        if rootStamped {
            inexpressible.append(.init(path: Self.absolute([]), reason: .rootTimeStamped))
        }

        for (_, directory) in mergedDirectories where directory.changed || directory.stamped {
            slots[directory.slot] = directory.header
        }
        checkEmptyXattrValues()
    }

    /// The restore skips xattrs with an empty value; only a kept directory that already has
    /// the same empty one comes out right.
    private func checkEmptyXattrValues() {
        for member in slots.compactMap({ $0 }) {
            for xattr in member.xattrs where xattr.value.isEmpty {
                if member.role == .mergedDirectory,
                   let kept = mergedDirectories[member.path],
                   kept.baseXattrs.contains(where: { $0.name == xattr.name && $0.value.isEmpty })
                {
                    continue
                }
                inexpressible.append(.init(
                    path: Self.absolute(member.path),
                    reason: .emptyXattrValue(name: xattr.name.displayPath)))
            }
        }
    }
}
