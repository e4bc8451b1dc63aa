import CSystem
import Glibc

/// Hard links: which non-directories keep their base inode, which get a full member, and
/// which a hard-link member.
///
/// The names of one changed inode form a group. A group may keep a base inode when one of its
/// names sits where that inode's name was in the base and the two are equal; the names of the
/// group that are already that inode's names stay untouched, and every other name becomes a
/// hard-link member naming the kept one (a base path the tar never touches). Each base inode
/// is kept by one group at most, so its base names outside that group all get members of
/// their own and no longer share it. A group that keeps nothing is written as one full member
/// at its first name, in tar order, and hard-link members naming it.
extension DiffPlanner {
    func resolveHardLinks() {
        var groups: [[Int]] = []
        var groupOfInode: [LowerIdentity: Int] = [:]
        for (index, candidate) in linkCandidates.enumerated() {
            guard candidate.status.linkCount > 1 else {
                groups.append([index])
                continue
            }
            if let group = groupOfInode[candidate.status.inode] {
                groups[group].append(index)
            } else {
                groupOfInode[candidate.status.inode] = groups.count
                groups.append([index])
            }
        }

        var claimed: Set<LowerIdentity> = []
        for group in groups {
            let anchor = group.first { index in
                linkCandidates[index].keepable.map { !claimed.contains($0) } ?? false
            }
            if let anchor, let kept = linkCandidates[anchor].keepable {
                claimed.insert(kept)
                let linked = group.filter { linkCandidates[$0].keepable != kept }
                link(linked, to: linkCandidates[anchor].path)
                continue
            }
            let first = linkCandidates[group[0]]
            if first.status.kind == .socket {
                for index in group {
                    inexpressible.append(.init(path: Self.absolute(linkCandidates[index].path),
                                               reason: .socket))
                }
                continue
            }
            slots[first.slot] = fullMember(first)
            link(Array(group.dropFirst()), to: first.path)
        }
    }

    /// Makes each candidate a hard-link member naming `target`.
    private func link(_ indices: [Int], to target: PathBytes) {
        guard let some = indices.first else { return }
        let inode = linkCandidates[some]
        if Self.chownClearsPrivileges(inode.status, inode.xattrs) {
            inexpressible.append(.init(path: Self.absolute(target),
                                       reason: .hardLinkClearsPrivileges))
        }
        for index in indices {
            let candidate = linkCandidates[index]
            // The restore applies only the owner of a hard-link member (to the shared inode);
            // mode and mtime are written as the inode has them, and xattrs stay with it.
            var member = Self.member(candidate.path, kind: .hardLink(target: target),
                                     candidate.status, xattrs: [])
            member.source = nil
            slots[candidate.slot] = member
        }
    }

    private func fullMember(_ candidate: LinkCandidate) -> PlannedMember {
        let status = candidate.status
        let kind: TarMember.Kind
        switch status.kind {
        case .regular: kind = .regular
        case .symlink: kind = .symlink(target: candidate.symlinkTarget)
        case .fifo: kind = .fifo
        case .characterDevice:
            kind = .characterDevice(major: ckpt_major(dev_t(status.rdev)),
                                    minor: ckpt_minor(dev_t(status.rdev)))
        case .blockDevice:
            kind = .blockDevice(major: ckpt_major(dev_t(status.rdev)),
                                minor: ckpt_minor(dev_t(status.rdev)))
        case .directory, .socket:
            preconditionFailure("directories and sockets never become file members")
        }
        return Self.member(candidate.path, kind: kind, status, xattrs: candidate.xattrs)
    }

    /// chown(2) of a non-directory clears setuid (04000), setgid (02000) when group-executable,
    /// and `security.capability`, even when root gives the same owner back (chown(2), NOTES).
    static func chownClearsPrivileges(
        _ status: EntryStatus,
        _ xattrs: [(name: PathBytes, value: [UInt8])]
    ) -> Bool {
        if status.kind == .symlink { return false }
        if status.permissions & 0o4000 != 0 { return true }
        if status.permissions & 0o2000 != 0 && status.permissions & 0o010 != 0 {
            return true
        }
        return xattrs.contains { $0.name == PathBytes(path: "security.capability") }
    }
}
