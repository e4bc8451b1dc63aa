/// Turns member names and deleted paths into components relative to the root.
///
/// Names are cleaned lexically, as the reference's `filepath.Join` does: leading `/` and `./`
/// go, `a//b` and `a/./b` collapse, `a/../b` is `b`. A name whose `..` climbs above the root
/// is refused rather than clamped, so nothing it names can be outside the root.
enum RootPath {
    static let maximumPathLength = 4095
    static let maximumComponentLength = 255

    /// The components of `name` below the root; empty when it names the root itself.
    static func components(of name: PathBytes) -> Result<[PathBytes], Refusal> {
        if name.contains(0) { return .failure(.invalidName("it contains a NUL byte")) }
        if name.count > maximumPathLength {
            return .failure(.invalidName("it is longer than \(maximumPathLength) bytes"))
        }
        var components: [PathBytes] = []
        for part in name.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if part.count == 1 && part.first == UInt8(ascii: ".") { continue }
            if part.count == 2 && part.allSatisfy({ $0 == UInt8(ascii: ".") }) {
                if components.isEmpty { return .failure(.climbsAboveRoot) }
                components.removeLast()
                continue
            }
            if part.count > maximumComponentLength {
                return .failure(.invalidName(
                    "a component is longer than \(maximumComponentLength) bytes"))
            }
            components.append(Array(part))
        }
        return .success(components)
    }

    /// `name` split at its last `/`, when what follows is an ordinary name: not empty, `.` or
    /// `..`, without NUL, within the length limits, in a name within them. Then the
    /// components of `name` are those of `parent` followed by `last`, so a caller that has
    /// resolved the same `parent` bytes before need not clean them again. nil otherwise.
    static func splitLast(_ name: PathBytes)
        -> (parent: ArraySlice<UInt8>, last: ArraySlice<UInt8>)?
    {
        guard name.count <= maximumPathLength else { return nil }
        let slash = name.lastIndex(of: UInt8(ascii: "/"))
        let last = name[(slash.map { $0 + 1 } ?? 0)...]
        guard !last.isEmpty, last.count <= maximumComponentLength, !last.contains(0) else {
            return nil
        }
        if last.first == UInt8(ascii: "."),
           last.count == 1 || (last.count == 2 && last.last == UInt8(ascii: "."))
        {
            return nil
        }
        return (name[..<(slash ?? 0)], last)
    }

    /// `base` followed by `parts` with `.` dropped and `..` going up, but never above the
    /// root: how a symlink's target is read when the root is `/`.
    static func confined(_ base: [PathBytes], _ parts: [ArraySlice<UInt8>]) -> [PathBytes] {
        var result = base
        for part in parts {
            if part.count == 1 && part.first == UInt8(ascii: ".") { continue }
            if part.count == 2 && part.allSatisfy({ $0 == UInt8(ascii: ".") }) {
                if !result.isEmpty { result.removeLast() }
                continue
            }
            result.append(Array(part))
        }
        return result
    }

    /// `components` joined with `/`, for messages and change lists.
    static func join(_ components: [PathBytes]) -> PathBytes {
        var out: PathBytes = []
        for (index, component) in components.enumerated() {
            if index > 0 { out.append(UInt8(ascii: "/")) }
            out += component
        }
        return out
    }
}
