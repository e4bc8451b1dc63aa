import Foundation

/// Where the test data lives: the `Fixtures` folder that SwiftPM copies into the test bundle,
/// or, when the bundle holds no copy, the folder beside this source file.
enum Fixtures {
    /// The fixtures folder.
    static let directory: URL = {
        if let resources = Bundle.module.resourceURL {
            let copied = resources.appendingPathComponent("Fixtures", isDirectory: true)
            if FileManager.default.fileExists(atPath: copied.path) { return copied }
        }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("Fixtures", isDirectory: true)
    }()

    /// The URL of a file or folder inside the fixtures, e.g. `"podman/base/base-rootfs.tar"`.
    static func url(_ relative: String) -> URL {
        directory.appendingPathComponent(relative)
    }

    /// The path of a file or folder inside the fixtures.
    static func path(_ relative: String) -> String {
        url(relative).path
    }

    /// The bytes of a fixture file.
    static func bytes(_ relative: String) throws -> [UInt8] {
        try TestFile.bytes(atPath: path(relative))
    }

    /// The text of a fixture file.
    static func text(_ relative: String) throws -> String {
        String(decoding: try bytes(relative), as: UTF8.self)
    }

    /// Whether a fixture file or folder exists (case 10 has no `checkpoint/`, for instance).
    static func exists(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: path(relative))
    }
}
