/// One step of an apply, in the order `ApplyProcedure` takes them: every member, then the
/// directory times, then every deleted path.
public enum ApplyStep: Sendable, Equatable, Comparable {
    /// The member at this index of the diff tar.
    case member(Int)
    /// Setting the header times of the directory members.
    case directoryTimes
    /// Removing the deleted path at this position of the deleted list.
    case deletedPath(Int)
}

/// Told of each step of an apply before it is taken, and of each directory the step makes
/// implicitly, so that an apply that was stopped part-way can be taken up where it stopped.
///
/// An error thrown here stops the apply before the step changes anything.
protocol ApplyRecorder: AnyObject {
    /// The step last begun.
    var currentStep: ApplyStep? { get }
    func willTake(_ step: ApplyStep) throws
    /// `path` is the directory's place below the root, with no symlink on it.
    func willMakeImplicitDirectory(_ path: [PathBytes]) throws
}

/// Remembers the step an apply is taking, so that an error can name it.
final class StepTracker: ApplyRecorder {
    private(set) var currentStep: ApplyStep?

    func willTake(_ step: ApplyStep) {
        currentStep = step
    }

    func willMakeImplicitDirectory(_ path: [PathBytes]) {}
}
