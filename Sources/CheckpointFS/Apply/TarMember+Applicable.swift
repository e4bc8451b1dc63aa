extension TarMember {
    /// The kernel's limits on what a member asks for (limits.h, xattr(7), symlink(2)).
    private static let maximumSymlinkTarget = 4095
    private static let maximumXattrName = 255
    private static let maximumXattrValue = 65536
    private static let xattrNamespaces = ["user.", "trusted.", "security.", "system."]
        .map { Array($0.utf8) }

    /// The member as the apply carries it out: `security.selinux` and empty xattr values
    /// are dropped, as the reference drops them.
    ///
    /// Everything the kernel would refuse while a commit writes is refused here instead,
    /// while the checkpoint is validated, so that a commit never stops halfway on it and the
    /// view never shows what no commit can write.
    /// - Throws: the `Refusal` naming the rule the member breaks.
    func applicable() throws(Refusal) -> TarMember {
        if case .symlink(let target) = kind {
            if target.isEmpty { throw .emptySymlinkTarget }
            if target.count > Self.maximumSymlinkTarget { throw .symlinkTargetTooLong }
        }
        var applied = self
        applied.xattrs = xattrs.filter {
            $0.name != Array("security.selinux".utf8) && !$0.value.isEmpty
        }
        for (name, value) in applied.xattrs {
            try Self.checkXattr(name, value, on: kind)
        }
        return applied
    }

    private static func checkXattr(_ name: PathBytes, _ value: [UInt8], on kind: Kind)
        throws(Refusal)
    {
        let shown = name.displayPath
        guard xattrNamespaces.contains(where: { name.starts(with: $0) }) else {
            throw .xattrNotAllowed(name: shown, reason: "no such xattr namespace")
        }
        if name.count > maximumXattrName {
            throw .xattrNotAllowed(name: shown, reason: "name longer than 255 bytes")
        }
        if value.count > maximumXattrValue {
            throw .xattrNotAllowed(name: shown, reason: "value larger than 64 KiB")
        }
        switch kind {
        case .regular, .directory:
            return
        default:
            if name.starts(with: Array("user.".utf8)) {
                throw .xattrNotAllowed(
                    name: shown, reason: "user xattrs exist only on regular files and directories")
            }
        }
    }
}
