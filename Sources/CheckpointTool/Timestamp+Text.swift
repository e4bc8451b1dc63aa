import CheckpointFS
import Glibc

extension Timestamp {
    /// RFC 3339 in UTC, as Go writes times: `2026-12-03T15:58:29.600703047Z`, the fraction
    /// without trailing zeros and left out when it is zero.
    var rfc3339: String {
        var seconds = time_t(self.seconds)
        var fields = tm()
        gmtime_r(&seconds, &fields)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        var text = "\(fields.tm_year + 1900)-\(two(fields.tm_mon + 1))-\(two(fields.tm_mday))"
            + "T\(two(fields.tm_hour)):\(two(fields.tm_min)):\(two(fields.tm_sec))"
        if nanoseconds > 0 {
            var fraction = String(nanoseconds)
            fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + "Z"
    }
}
