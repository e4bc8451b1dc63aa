import CheckpointFS

/// The exit statuses of every subcommand; documented in the man page and README.
enum ExitStatus {
    /// Done.
    static let success: Int32 = 0
    /// The system failed us: I/O error, no space, permission, a missing ROOT, a commit
    /// journal that is damaged or belongs to an unfinished commit of another checkpoint,
    /// another commit running into the same root.
    static let failure: Int32 = 1
    /// The command line is wrong.
    static let usage: Int32 = 2
    /// The checkpoint was refused: malformed, not a checkpoint at all, or it names something
    /// outside the root. Nothing was written.
    static let refused: Int32 = 3
    /// A probe answered no (`runtime-check`).
    static let unsupported: Int32 = 4

    /// The status that reports `error`.
    static func of(_ error: any Error) -> Int32 {
        switch error {
        case is UsageError: return usage
        case is CheckpointError: return refused
        default: return failure
        }
    }
}
