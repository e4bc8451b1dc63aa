import CheckpointFS

/// Opens the checkpoint a command names, showing on a terminal how decompressing an export
/// and indexing its diff tar advance.
enum CheckpointLoader {
    /// The checkpoint at `path`, opened, and its diff tar indexed.
    ///
    /// The caller closes the source, which removes what was decompressed.
    /// - Parameter quiet: `-q`: no progress.
    static func open(_ path: String, quiet: Bool) throws -> (CheckpointSource, Restore) {
        let reading = ProgressLine("reading \(ProgressLine.shortName(path))", bytes: 0,
                                   quiet: quiet)
        let source: CheckpointSource
        do {
            defer { reading.finish() }
            source = try CheckpointSource.open(path: path) { reading.update($0, total: $1) }
        }
        let label = ProgressLine.shortName(source.diffTar?.displayName ?? path)
        let indexing = ProgressLine("indexing \(label)", bytes: 0, quiet: quiet)
        defer { indexing.finish() }
        do {
            return (source, try Restore(source: source) { indexing.update($0, total: $1) })
        } catch {
            source.close()
            throw error
        }
    }
}
