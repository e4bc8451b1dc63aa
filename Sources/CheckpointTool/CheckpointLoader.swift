import CheckpointFS

/// Opens the checkpoint a command names, showing on a terminal how decompressing an export
/// and indexing its diff tar advance.
enum CheckpointLoader {
    /// The checkpoint at `path`, opened, and its diff tar indexed.
    ///
    /// The caller closes the source, which removes what was decompressed.
    /// - Parameter quiet: `-q`: no progress.
    static func open(_ path: String, quiet: Bool) throws -> (CheckpointSource, Restore) {
        let source = try openSource(path, quiet: quiet)
        let indexing = indexingLine(source, path: path, quiet: quiet)
        defer { indexing.finish() }
        do {
            return (source, try Restore(source: source) { indexing.update($0, total: $1) })
        } catch {
            source.close()
            throw error
        }
    }

    /// The checkpoint at `path`, opened (an export decompressed) but not yet indexed.
    static func openSource(_ path: String, quiet: Bool) throws -> CheckpointSource {
        let reading = ProgressLine("reading \(ProgressLine.shortName(path))", bytes: 0,
                                   quiet: quiet)
        defer { reading.finish() }
        return try CheckpointSource.open(path: path) { reading.update($0, total: $1) }
    }

    /// The progress line of reading the diff tar's headers.
    static func indexingLine(_ source: CheckpointSource, path: String, quiet: Bool)
        -> ProgressLine
    {
        let label = ProgressLine.shortName(source.diffTar?.displayName ?? path)
        return ProgressLine("indexing \(label)", bytes: 0, quiet: quiet)
    }
}
