import CSystem
import Foundation
import Glibc

/// The deleted list of a checkpoint (`deleted.files`): a JSON array of absolute paths that a
/// restore removes after the diff tar is applied.
///
/// `null` and a missing file both mean that nothing is deleted. Anything else that is not an
/// array of strings refuses the whole checkpoint, as podman does.
public enum DeletedList {
    /// The largest deleted list read (podman's are a few kilobytes).
    public static let sizeLimit = 256 << 20

    /// Reads and parses the deleted list of a checkpoint source.
    ///
    /// - Returns: the paths in file order; empty when `file` is `nil` or missing.
    /// - Throws: `CheckpointError.malformedDeletedList` naming `file.displayName`, or
    ///   `SystemError` when the file exists but cannot be read.
    public static func load(_ file: CheckpointFile?) throws -> [String] {
        guard let file else { return [] }
        let opened = Result { () throws(SystemError) in try FileDescriptor.open(atPath: file.path) }
        if case .failure(let error) = opened, error.errno == ENOENT { return [] }
        let descriptor = try opened.get()
        guard let bytes = try descriptor.readToEnd(limit: sizeLimit) else {
            throw CheckpointError.malformedDeletedList(
                file: file.displayName, reason: "larger than \(sizeLimit) bytes")
        }
        return try parse(bytes, file: file.displayName)
    }

    /// Parses the bytes of a deleted list.
    ///
    /// - Parameter file: the name used in errors.
    /// - Returns: the paths in file order; empty for `null`.
    /// - Throws: `CheckpointError.malformedDeletedList` naming `file` and, for an element that
    ///   is not a string, its index.
    public static func parse(_ bytes: [UInt8], file: String) throws(CheckpointError) -> [String] {
        // JSON is UTF-8 here; Foundation would also guess UTF-16 and UTF-32 from the bytes.
        if let offset = firstInvalidUTF8(in: bytes) {
            throw .malformedDeletedList(file: file, reason: "not UTF-8 at byte \(offset)")
        }
        do {
            let paths = try JSONDecoder().decode([String]?.self, from: Data(bytes)) ?? []
            if let syntax = syntaxError(in: bytes) {
                throw CheckpointError.malformedDeletedList(
                    file: file, reason: "invalid JSON: \(syntax)")
            }
            return paths
        } catch let error as CheckpointError {
            throw error
        } catch let error as DecodingError {
            throw .malformedDeletedList(file: file, reason: reason(for: error))
        } catch {
            throw .malformedDeletedList(file: file, reason: "invalid JSON: \(error)")
        }
    }

    private static func reason(for error: DecodingError) -> String {
        let context: DecodingError.Context
        switch error {
        case .typeMismatch(_, let found), .valueNotFound(_, let found):
            context = found
        case .dataCorrupted(let found):
            let underlying = (found.underlyingError as? NSError)?
                .userInfo[NSDebugDescriptionErrorKey] as? String
            return "invalid JSON: " + (underlying ?? found.debugDescription)
        default:
            return "not a JSON array of strings"
        }
        guard let index = context.codingPath.last?.intValue else {
            return "not a JSON array of strings: \(context.debugDescription)"
        }
        return "element \(index) is not a string: \(context.debugDescription)"
    }

    /// The offset of the first byte that does not belong to valid UTF-8, or `nil`.
    static func firstInvalidUTF8(in bytes: [UInt8]) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}
