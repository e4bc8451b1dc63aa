import CSELinux
import CSystem
import Glibc

/// Files created with an SELinux label, as a restore needs for CRIU's log files.
public enum SELinuxLabel {
    /// Creates the file `name` in `directory` (mode 0600; an existing file is kept as it is,
    /// never truncated) and sets its SELinux label with fsetfilecon(3).
    ///
    /// Without SELinux in the kernel (is_selinux_enabled(3) returns 0) the label is stored
    /// verbatim in the `security.selinux` xattr, which the file system must support. The name
    /// is never followed: an existing symlink there is refused. A file this call created is
    /// removed again when it cannot be labelled.
    ///
    /// - Throws: `SELinuxLabelError.invalidName` for a name that is not one path component;
    ///   `SystemError` when the directory cannot be opened or the file created;
    ///   `SELinuxLabelError.refused` saying why the label could not be set.
    public static func createFile(named name: String, in directory: String, label: String)
        throws
    {
        let component = PathBytes(path: name)
        guard !component.isEmpty, name != ".", name != "..", !component.contains(0),
              !component.contains(UInt8(ascii: "/"))
        else { throw SELinuxLabelError.invalidName(name) }

        let parent = try FileDescriptor.openDirectory(atPath: directory)
        let fresh = Result { () throws(SystemError) in
            try parent.openChild(component, flags: O_RDONLY | O_CREAT | O_EXCL, mode: 0o600)
        }
        let created: Bool
        let file: FileDescriptor
        switch fresh {
        case .success(let descriptor):
            (created, file) = (true, descriptor)
        case .failure(let error) where error.errno == EEXIST:
            (created, file) = (false, try parent.openChild(component, flags: O_RDONLY))
        case .failure(let error):
            throw error
        }

        guard fsetfilecon(file.raw, label) == 0 else {
            let code = ckpt_errno()
            if created { _ = component.withCPath { unlinkat(parent.raw, $0, 0) } }
            throw SELinuxLabelError.refused(
                path: file.path, label: label, errno: code,
                selinuxEnabled: is_selinux_enabled() > 0)
        }
    }
}

/// Why a file could not be created with a label.
public enum SELinuxLabelError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The name is empty, `.`, `..`, or holds a `/` or NUL byte.
    case invalidName(String)
    /// fsetfilecon(3) failed with `errno`.
    case refused(path: String, label: String, errno: Int32, selinuxEnabled: Bool)

    public var description: String {
        switch self {
        case .invalidName(let name):
            return "'\(name)' is not a file name (one path component)"
        case .refused(let path, let label, let code, let enabled):
            return "cannot label \(path) '\(label)': " + Self.reason(code, enabled)
        }
    }

    private static func reason(_ code: Int32, _ selinuxEnabled: Bool) -> String {
        let detail = String(cString: strerror(code))
        switch code {
        case EOPNOTSUPP:
            return "the file system does not store security.selinux xattrs (\(detail))"
        case EROFS:
            return "the file system is mounted read-only (\(detail))"
        case EINVAL where selinuxEnabled:
            return "the loaded SELinux policy does not accept this label (\(detail))"
        case EPERM, EACCES:
            return "not allowed to set security xattrs here (\(detail))"
        default:
            return detail
        }
    }
}
