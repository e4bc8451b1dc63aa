import Foundation
@testable import CheckpointFS

/// A case's `spec.json`: the lower root to build, and the diff tar and deleted list the
/// case's `checkpoint/` was made from.
///
/// Only the lower part is built by the tests (`LowerBuilder`); the checkpoint is stored
/// ready-made beside the spec, and the `tar` and `deleted` parts are here so that tests can
/// name the members and paths a case is about.
struct CaseSpec: Decodable, Sendable {
    /// The mtime of lower entries that name none (2020-01-01).
    static let lowerMtime: Int64 = 1_577_836_800
    /// The mtime of tar members that name none (2020-09-13).
    static let tarMtime: Int64 = 1_600_000_000

    var description: String
    /// Owners, devices and trusted xattrs need root to build.
    var needsRoot: Bool
    /// The reference was only ever run on it in a sandbox.
    var dangerous: Bool
    var lower: [Entry]
    /// Nil when the case has no `rootfs-diff.tar`.
    var tar: Tar?
    /// The deleted list as a list of paths; nil when the file is absent or written raw.
    var deleted: [String]?
    /// The deleted list's exact text, for cases that store something other than a list.
    var deletedRaw: String?

    /// One lower entry or tar member.
    struct Entry: Decodable, Sendable {
        enum Kind: String, Decodable, Sendable {
            case file, dir, symlink, hardlink, fifo, char, block
            /// A tar member with an arbitrary type flag (`typeflag`).
            case raw
        }

        /// The relative path (`path`, or the raw bytes of `path_hex`).
        var path: PathBytes?
        /// A tar member's exact name, which overrides `path` and takes no prefix.
        var name: PathBytes?
        var kind: Kind
        var typeflag: String?
        /// `content_hex`, `content`, or `size` zero bytes.
        var content: [UInt8]
        /// The permission bits; nil for the type's default.
        var mode: UInt32?
        var uid: UInt32
        var gid: UInt32
        var uname: String
        var gname: String
        /// The mtime in nanoseconds since the epoch; nil for the default.
        var mtimeNanoseconds: Int64?
        /// A symlink's target, or a hard link's target path.
        var target: PathBytes?
        /// A hard-link member's target is used as written, without the tar's prefix.
        var targetRaw: Bool
        var major: UInt32
        var minor: UInt32
        /// `xattrs` (text values) merged with `xattrs_hex` (raw values).
        var xattrs: [String: [UInt8]]
        /// Extra PAX records of a tar member.
        var pax: [String: String]

        private enum Key: String, CodingKey {
            case path, name, type, typeflag, content, size, mode, uid, gid, uname, gname
            case mtime, target, major, minor, xattrs, pax
            case pathHex = "path_hex", nameHex = "name_hex", contentHex = "content_hex"
            case targetHex = "target_hex", targetRaw = "target_raw", xattrsHex = "xattrs_hex"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            path = try Self.bytes(container, text: .path, hex: .pathHex)
            name = try Self.bytes(container, text: .name, hex: .nameHex)
            kind = try container.decodeIfPresent(Kind.self, forKey: .type) ?? .file
            typeflag = try container.decodeIfPresent(String.self, forKey: .typeflag)
            if let content = try Self.bytes(container, text: .content, hex: .contentHex) {
                self.content = content
            } else {
                let size = try container.decodeIfPresent(Int.self, forKey: .size) ?? 0
                content = [UInt8](repeating: 0, count: size)
            }
            mode = try Self.mode(container)
            uid = try container.decodeIfPresent(UInt32.self, forKey: .uid) ?? 0
            gid = try container.decodeIfPresent(UInt32.self, forKey: .gid) ?? 0
            uname = try container.decodeIfPresent(String.self, forKey: .uname) ?? ""
            gname = try container.decodeIfPresent(String.self, forKey: .gname) ?? ""
            mtimeNanoseconds = try Self.nanoseconds(container)
            target = try Self.bytes(container, text: .target, hex: .targetHex)
            targetRaw = try container.decodeIfPresent(Bool.self, forKey: .targetRaw) ?? false
            major = try container.decodeIfPresent(UInt32.self, forKey: .major) ?? 0
            minor = try container.decodeIfPresent(UInt32.self, forKey: .minor) ?? 0
            var xattrs: [String: [UInt8]] = [:]
            let text = try container.decodeIfPresent([String: String].self, forKey: .xattrs)
            for (key, value) in text ?? [:] { xattrs[key] = Array(value.utf8) }
            let raw = try container.decodeIfPresent([String: String].self, forKey: .xattrsHex)
            for (key, value) in raw ?? [:] {
                xattrs[key] = try Self.hexBytes(value, key: .xattrsHex)
            }
            self.xattrs = xattrs
            pax = try container.decodeIfPresent([String: String].self, forKey: .pax) ?? [:]
        }

        /// The text form of a key as UTF-8 bytes, or its `_hex` form decoded.
        private static func bytes(
            _ container: KeyedDecodingContainer<Key>,
            text: Key,
            hex: Key
        ) throws -> [UInt8]? {
            if let encoded = try container.decodeIfPresent(String.self, forKey: hex) {
                return try hexBytes(encoded, key: hex)
            }
            return try container.decodeIfPresent(String.self, forKey: text).map { Array($0.utf8) }
        }

        /// `"0755"` as an octal string, or a plain JSON number.
        private static func mode(_ container: KeyedDecodingContainer<Key>) throws -> UInt32? {
            if let number = try? container.decodeIfPresent(UInt32.self, forKey: .mode) {
                return number
            }
            guard let text = try container.decodeIfPresent(String.self, forKey: .mode) else {
                return nil
            }
            guard let value = UInt32(text, radix: 8) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .mode, in: container, debugDescription: "not an octal mode: \(text)")
            }
            return value
        }

        /// Whole seconds exactly; fractional seconds rounded half to even, as the spec's
        /// builder does (`round(mtime * 10**9)`).
        private static func nanoseconds(_ container: KeyedDecodingContainer<Key>) throws -> Int64? {
            if let seconds = try? container.decodeIfPresent(Int64.self, forKey: .mtime) {
                return seconds * 1_000_000_000
            }
            guard let seconds = try container.decodeIfPresent(Double.self, forKey: .mtime) else {
                return nil
            }
            return Int64((seconds * 1e9).rounded(.toNearestOrEven))
        }

        private static func hexBytes(_ text: String, key: Key) throws -> [UInt8] {
            let digits = Array(text.utf8)
            var bytes: [UInt8] = []
            var index = 0
            while index + 1 < digits.count {
                guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1])
                else { break }
                bytes.append(high << 4 | low)
                index += 2
            }
            guard index == digits.count else {
                throw DecodingError.dataCorrupted(DecodingError.Context(
                    codingPath: [key], debugDescription: "not hex: \(text)"))
            }
            return bytes
        }

        private static func hexValue(_ digit: UInt8) -> UInt8? {
            switch digit {
            case 0x30...0x39: digit - 0x30
            case 0x61...0x66: digit - 0x61 + 10
            case 0x41...0x46: digit - 0x41 + 10
            default: nil
            }
        }
    }

    /// The `tar` part: how `rootfs-diff.tar` was written.
    struct Tar: Decodable, Sendable {
        /// `true` when the case has no tar despite the part being present.
        var absent: Bool
        /// `ustar`, `gnu` or `pax`.
        var format: String
        /// Prepended to every member's `path` (`""` or `"./"`).
        var prefix: String
        /// `"gzip"` or nil.
        var compress: String?
        /// When set, the archive's exact bytes (as hex) instead of `entries`.
        var rawBytesHex: String?
        /// The archive was cut to this many bytes.
        var truncate: Int?
        var entries: [Entry]

        private enum Key: String, CodingKey {
            case absent, format, prefix, compress, truncate, entries
            case rawBytesHex = "raw_bytes_hex"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            absent = try container.decodeIfPresent(Bool.self, forKey: .absent) ?? false
            format = try container.decodeIfPresent(String.self, forKey: .format) ?? "gnu"
            prefix = try container.decodeIfPresent(String.self, forKey: .prefix) ?? ""
            compress = try container.decodeIfPresent(String.self, forKey: .compress)
            rawBytesHex = try container.decodeIfPresent(String.self, forKey: .rawBytesHex)
            truncate = try container.decodeIfPresent(Int.self, forKey: .truncate)
            entries = try container.decodeIfPresent([Entry].self, forKey: .entries) ?? []
        }

        /// The member name written for an entry: its exact `name`, or prefix + `path`, and a
        /// directory's name ends in `/` (Python's tarfile, which wrote the cases, adds it).
        func memberName(_ entry: Entry) -> PathBytes {
            let name = entry.name ?? Array(prefix.utf8) + (entry.path ?? [])
            return entry.kind == .dir && name.last != 0x2f ? name + [0x2f] : name
        }
    }

    private enum Key: String, CodingKey {
        case description, lower, tar, deleted
        case needsRoot = "needs_root", dangerous, deletedRaw = "deleted_raw"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        description = try container.decodeIfPresent(String.self, forKey: .description) ?? ""
        needsRoot = try container.decodeIfPresent(Bool.self, forKey: .needsRoot) ?? false
        dangerous = try container.decodeIfPresent(Bool.self, forKey: .dangerous) ?? false
        lower = try container.decodeIfPresent([Entry].self, forKey: .lower) ?? []
        tar = try container.decodeIfPresent(Tar.self, forKey: .tar)
        deleted = try container.decodeIfPresent([String].self, forKey: .deleted)
        deletedRaw = try container.decodeIfPresent(String.self, forKey: .deletedRaw)
    }

    /// Reads and decodes a spec file.
    init(contentsOf path: String) throws {
        self = try JSONDecoder().decode(CaseSpec.self, from: Data(TestFile.bytes(atPath: path)))
    }
}
