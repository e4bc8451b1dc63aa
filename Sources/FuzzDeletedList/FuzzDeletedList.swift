import CheckpointFS
import Foundation

/// libFuzzer entry: parses arbitrary bytes as `deleted.files`.
///
/// The parser must refuse with `CheckpointError.malformedDeletedList` naming the file, or
/// return the strings of a JSON array, in order, as an independent JSON reading sees them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDeletedList(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let paths: [String]
    do {
        paths = try DeletedList.parse(bytes, file: "deleted.files")
    } catch {
        guard case .malformedDeletedList(let file, _) = error, file == "deleted.files" else {
            fuzzFailure("unexpected refusal: \(error)")
        }
        return 0
    }

    let independent = try? JSONSerialization.jsonObject(
        with: Data(bytes), options: [.fragmentsAllowed])
    if independent is NSNull { 
        if !paths.isEmpty { fuzzFailure("null read as \(paths.count) paths") }
        return 0
    }
    guard let strings = independent as? [String] else {
        fuzzFailure("accepted \(paths.count) paths where JSONSerialization reads "
                    + "\(String(describing: independent))")
    }
    if strings != paths { fuzzFailure("paths \(paths) differ from \(strings)") }
    return 0
}
