import Foundation

/// One archive of `Fixtures/tar-corpus/ratarmount/` and what the reference did with it as
/// the diff tar over an empty root (`tar-corpus/reference/NAME/`).
struct TarCorpusArchive: Sendable, CustomStringConvertible {
    /// The file name without `.tar`, e.g. `"sparse.pax.sparse-1.0"`.
    var name: String

    var description: String { name }

    var archivePath: String { Fixtures.path("tar-corpus/ratarmount/\(name).tar") }

    /// The reference's run with this archive as the diff tar over an empty root.
    var reference: ReferenceRecord { ReferenceRecord(folder: "tar-corpus/reference/\(name)") }
}

/// The real-world tar corpus, in name order.
enum TarCorpus {
    static let all: [TarCorpusArchive] = {
        let folder = Fixtures.path("tar-corpus/ratarmount")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return files.filter { $0.hasSuffix(".tar") }.map { String($0.dropLast(4)) }.sorted()
            .map { TarCorpusArchive(name: $0) }
    }()
}
