import Glibc

/// A private directory of the fuzzing process under `/dev/shm`, where each input is written
/// as a file before the library reads it by path, as it reads a checkpoint.
///
/// The directory lives as long as the process; libFuzzer ends the process without running
/// destructors, so the directory name carries the process id and the script removes it.
enum FuzzScratch {
    static let directory: String = {
        let path = "/dev/shm/checkpointfs-fuzz-\(getpid())"
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            fuzzFailure("cannot make \(path): errno \(errno)")
        }
        return path
    }()

    /// Writes `bytes` to the file `name` of the scratch directory, replacing its contents.
    /// - Returns: the file's path.
    static func write<Bytes: Collection>(_ bytes: Bytes, to name: String) -> String
    where Bytes.Element == UInt8 {
        let path = directory + "/" + name
        let file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        if file < 0 { fuzzFailure("cannot open \(path): errno \(errno)") }
        defer { close(file) }
        let contents = Array(bytes)
        var done = 0
        while done < contents.count {
            let count = contents[done...].withUnsafeBytes {
                Glibc.write(file, $0.baseAddress, $0.count)
            }
            if count <= 0 { fuzzFailure("cannot write \(path): errno \(errno)") }
            done += count
        }
        return path
    }
}
