import Glibc

extension TarIndex {
    /// Checks that a member's data lies where the tar stores it: after its header and
    /// before the next member's headers (or the end of the file), with a sparse map whose
    /// stretches are in order, do not overlap, and stay inside the file's size.
    ///
    /// libarchive reports the size a header claims, which is not always what it stores: a
    /// GNU header's `realsize` field, for one, can claim more than its data. Reading such a
    /// member would serve the next header's bytes, or fail halfway through a commit.
    ///
    /// - Parameters:
    ///   - limit: where the member's data must end: the next member's header (one block
    ///     before its data), or the end of the file for the last member.
    ///   - limitIsNextMember: whether `limit` is the next member's header, for the message.
    /// - Returns: where the member's stored data ends, before its padding.
    /// - Throws: `CheckpointError.malformedArchive` naming the member.
    @discardableResult
    static func checkExtent(
        of member: TarMember,
        before limit: Int64,
        limitIsNextMember: Bool,
        displayName: String
    ) throws(CheckpointError) -> Int64 {
        let refuse = { (reason: String) in
            CheckpointError.malformedArchive(
                file: displayName, member: member.name.displayPath, reason: reason)
        }
        let stored = try storedLength(of: member, refuse: refuse)
        let (end, overflow) = member.dataOffset.addingReportingOverflow(stored)
        if overflow || end > limit {
            throw refuse("its header claims \(stored) bytes of data, but only "
                         + "\(max(0, limit - member.dataOffset)) are stored before "
                         + (limitIsNextMember ? "the next member" : "the end"))
        }
        return end
    }

    /// The bytes of data the tar stores for `member`, with its sparse map checked.
    private static func storedLength(
        of member: TarMember,
        refuse: (String) -> CheckpointError
    ) throws(CheckpointError) -> Int64 {
        guard let map = member.sparseMap else { return member.kind == .regular ? member.size : 0 }
        var stored: Int64 = 0
        var covered: Int64 = 0
        for segment in map {
            let (end, overflow) = segment.offset.addingReportingOverflow(segment.length)
            guard segment.offset >= covered, segment.length >= 0, !overflow,
                  end <= member.size
            else {
                throw refuse("its sparse map has a stretch of \(segment.length) bytes at "
                             + "\(segment.offset) that overlaps another or lies outside its "
                             + "size \(member.size)")
            }
            covered = end
            stored += segment.length
        }
        return stored
    }
}
