import Foundation
import Glibc

/// What a checkpoint's `config.dump` (podman's container configuration, JSON) says about the
/// container it was made from: the OCI runtime a restore must use, and what `inspect` shows.
///
/// Only these fields are decoded; everything else in the file is ignored.
public struct ConfigDump: Sendable, Equatable {
    /// The OCI runtime the checkpoint was made with (`runtime`), such as `runc`.
    public var runtime: String?
    public var containerName: String?
    public var containerID: String?
    /// The image the container's root came from (`rootfsImageName`).
    public var imageName: String?
    public var imageID: String?
    /// When the container was created (`createdTime`).
    public var created: Timestamp?
    /// When it was checkpointed (`checkpointedTime`; podman 4.3 does not write it).
    public var checkpointed: Timestamp?

    public init(
        runtime: String? = nil,
        containerName: String? = nil,
        containerID: String? = nil,
        imageName: String? = nil,
        imageID: String? = nil,
        created: Timestamp? = nil,
        checkpointed: Timestamp? = nil
    ) {
        self.runtime = runtime
        self.containerName = containerName
        self.containerID = containerID
        self.imageName = imageName
        self.imageID = imageID
        self.created = created
        self.checkpointed = checkpointed
    }

    /// The name of the file in a checkpoint.
    public static let fileName = "config.dump"
    /// The largest `config.dump` read (podman's are tens of kilobytes).
    public static let sizeLimit = 64 << 20

    /// Reads `config.dump` from a checkpoint directory or straight from an exported archive
    /// of any compression, extracting nothing else.
    ///
    /// - Throws: `CheckpointError.notACheckpoint` naming the checkpoint when it has no
    ///   `config.dump` or the file is not the JSON object podman writes; the errors of
    ///   `CheckpointSource.readFile`.
    public static func load(checkpoint path: String) throws -> ConfigDump {
        guard let file = try CheckpointSource.readFile(fileName, checkpoint: path,
                                                       limit: sizeLimit)
        else {
            throw CheckpointError.notACheckpoint(path: path, reason: "it has no \(fileName)")
        }
        return try parse(file.bytes, checkpoint: path)
    }

    /// The OCI runtime a checkpoint was made with, as podman's restore looks it up.
    ///
    /// - Throws: `CheckpointError.notACheckpoint` when `config.dump` names none, and the
    ///   errors of `load(checkpoint:)`.
    public static func runtime(ofCheckpoint path: String) throws -> String {
        guard let runtime = try load(checkpoint: path).runtime, !runtime.isEmpty else {
            throw CheckpointError.notACheckpoint(
                path: path, reason: "\(fileName) names no OCI runtime")
        }
        return runtime
    }

    /// Decodes the bytes of a `config.dump`.
    ///
    /// - Parameter checkpoint: the checkpoint's path, for messages.
    /// - Throws: `CheckpointError.notACheckpoint` when the bytes are not a JSON object or a
    ///   field has the wrong type.
    public static func parse(_ bytes: [UInt8], checkpoint: String) throws(CheckpointError)
        -> ConfigDump
    {
        let fields: Fields
        do {
            fields = try JSONDecoder().decode(Fields.self, from: Data(bytes))
        } catch {
            throw .notACheckpoint(path: checkpoint, reason: "\(fileName): \(describe(error))")
        }
        var dump = ConfigDump(runtime: fields.runtime, containerName: fields.name,
                              containerID: fields.id, imageName: fields.rootfsImageName,
                              imageID: fields.rootfsImageID)
        for (key, text) in [("createdTime", fields.createdTime),
                            ("checkpointedTime", fields.checkpointedTime)] {
            guard let text else { continue }
            guard let time = RFC3339Time.parse(text) else {
                throw .notACheckpoint(
                    path: checkpoint,
                    reason: "\(fileName): '\(key)' is not an RFC 3339 time: '\(text)'")
            }
            // Go writes its zero time for a time that was never set.
            let isUnset = time.seconds == RFC3339Time.goZeroSeconds && time.nanoseconds == 0
            if key == "createdTime" { dump.created = isUnset ? nil : time }
            if key == "checkpointedTime" { dump.checkpointed = isUnset ? nil : time }
        }
        return dump
    }

    /// The fields of config.dump we read, under podman's JSON names.
    private struct Fields: Decodable {
        var runtime: String?
        var name: String?
        var id: String?
        var rootfsImageName: String?
        var rootfsImageID: String?
        var createdTime: String?
        var checkpointedTime: String?
    }

    private static func describe(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "invalid JSON: \(error)" }
        switch decoding {
        case .dataCorrupted(let context):
            let underlying = (context.underlyingError as? NSError)?
                .userInfo[NSDebugDescriptionErrorKey] as? String
            return "invalid JSON: " + (underlying ?? context.debugDescription)
        case .typeMismatch(_, let context), .valueNotFound(_, let context),
             .keyNotFound(_, let context):
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            return key.isEmpty
                ? "not a JSON object: \(context.debugDescription)"
                : "'\(key)': \(context.debugDescription)"
        @unknown default:
            return "invalid: \(decoding)"
        }
    }
}

/// Times as Go's encoding/json writes them: RFC 3339 with up to nine fraction digits.
enum RFC3339Time {
    /// `0001-01-01T00:00:00Z`, Go's zero `time.Time`, in seconds since the epoch.
    static let goZeroSeconds: Int64 = -62_135_596_800

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `nil` for anything else.
    static func parse(_ text: String) -> Timestamp? {
        let bytes = Array(text.utf8)
        var position = 0

        func number(_ digits: Int) -> Int64? {
            guard position + digits <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[position..<position + digits] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            position += digits
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard position < bytes.count, characters.utf8.contains(bytes[position]) else {
                return false
            }
            position += 1
            return true
        }

        guard let year = number(4), expect("-"), let month = number(2), expect("-"),
              let day = number(2), expect("Tt"), let hour = number(2), expect(":"),
              let minute = number(2), expect(":"), let second = number(2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
              second < 61
        else { return nil }

        var nanoseconds: Int64 = 0
        if expect(".") {
            var digits = 0
            while position < bytes.count, (0x30...0x39).contains(bytes[position]) {
                if digits < 9 { nanoseconds = nanoseconds * 10 + Int64(bytes[position] - 0x30) }
                digits += 1
                position += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 9) { nanoseconds *= 10 }
        }

        var offset: Int64 = 0
        if expect("Zz") {
            offset = 0
        } else {
            let sign: Int64 = position < bytes.count && bytes[position] == 0x2d ? -1 : 1
            guard expect("+-"), let hours = number(2), expect(":"), let minutes = number(2)
            else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        }
        guard position == bytes.count else { return nil }

        // timegm(3) counts the calendar; glibc handles years before 1970 and before 1900.
        var fields = tm()
        fields.tm_year = Int32(year - 1900)
        fields.tm_mon = Int32(month - 1)
        fields.tm_mday = Int32(day)
        fields.tm_hour = Int32(hour)
        fields.tm_min = Int32(minute)
        fields.tm_sec = Int32(second)
        let seconds = Int64(timegm(&fields)) - offset
        return Timestamp(seconds: seconds, nanoseconds: Int32(nanoseconds))
    }
}
