/// How to mount a view: the command-line switches and the `-o` options for libfuse.
public struct MountOptions: Sendable, Equatable {
    /// Stay in the foreground instead of returning once the mount is ready.
    public var foreground = false
    /// Trace every FUSE request on standard error (libfuse's `debug`); implies foreground.
    public var debug = false
    /// The `-o` options in the order given, unescaped.
    public private(set) var fuseOptions: [String] = []
    /// Seconds the kernel may cache names and attributes. The view is immutable, so long.
    public var cacheTimeout: Double = 3600
    /// KiB the kernel reads ahead of a sequential reader (`read_ahead_kb=N`); the kernel's
    /// own default, 128, is set against a FUSE round trip per request. Not a libfuse option:
    /// the daemon sets it in sysfs once mounted (see `ReadAhead`).
    public private(set) var readAheadKibibytes: UInt32 = ReadAhead.defaultKibibytes

    public init() {}

    /// Adds the options of one `-o` argument: comma-separated, a backslash escaping a comma.
    /// - Throws: `MountError.invalidOption` for `rw` (the view is read-only), for `suid` and
    ///   `dev` (a checkpoint is input from elsewhere: its setuid files and device nodes must
    ///   not take effect through the view), an empty option, a `max_read` that is not a
    ///   positive number, or a `read_ahead_kb` that is not a number.
    public mutating func add(_ list: String) throws(MountError) {
        for option in Self.split(list) {
            switch option {
            case "":
                throw .invalidOption(option: list, reason: "empty option")
            case "rw":
                throw .invalidOption(option: option, reason: "the view is read-only")
            case "suid", "dev":
                throw .invalidOption(
                    option: option,
                    reason: "the view is always nosuid and nodev: a checkpoint's setuid files "
                        + "and devices must not take effect")
            case "debug":
                debug = true
            default:
                if option.hasPrefix("read_ahead_kb=") {
                    guard let value = UInt32(option.dropFirst("read_ahead_kb=".count)) else {
                        throw .invalidOption(option: option, reason: "not a number of KiB")
                    }
                    readAheadKibibytes = value
                    continue
                }
                if option.hasPrefix("max_read=") {
                    guard let value = UInt32(option.dropFirst("max_read=".count)), value > 0
                    else {
                        throw .invalidOption(option: option, reason: "not a positive number")
                    }
                }
            }
            fuseOptions.append(option)
        }
    }

    /// The `max_read` the kernel will enforce, which INIT must announce as well.
    var maxRead: UInt32? {
        fuseOptions.last { $0.hasPrefix("max_read=") }
            .flatMap { UInt32($0.dropFirst("max_read=".count)) }
    }

    /// The arguments for fuse_session_new(3): read-only, nosuid and nodev, permissions
    /// checked by the kernel from the modes the view shows (so `allow_other` exposes no more
    /// than the committed root would), the checkpoint as the source, `fuse.checkpointfs` as
    /// the type, then the caller's options.
    func sessionArguments(source: String) -> [String] {
        let fixed = [
            "ro", "nosuid", "nodev", "default_permissions", "fsname=" + source,
            "subtype=checkpointfs",
        ]
        let all = (fixed + fuseOptions).map(Self.escape).joined(separator: ",")
        return ["checkpointfs", "-o", all] + (debug ? ["-d"] : [])
    }

    /// libfuse's option parser splits at commas; a backslash keeps one in a value.
    private static func escape(_ option: String) -> String {
        var out = ""
        for character in option {
            if character == "," || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out
    }

    private static func split(_ list: String) -> [String] {
        var options: [String] = []
        var current = ""
        var escaped = false
        for character in list {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "," {
                options.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        options.append(current)
        return options
    }
}
