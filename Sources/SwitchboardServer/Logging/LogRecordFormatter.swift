import Foundation
import Logging

/// Turns one log event into the bytes of its line: text (as swift-log's stream handler writes it, so existing
/// log readers keep working), JSON (one object per line), or an RFC 5424 syslog message.
///
/// JSON lines carry `time` (UTC, microseconds), `level`, `label`, `source` and `message`, then each metadata key
/// at the top level (a key that is one of those five is dropped: the fixed members win).
enum LogRecordFormatter {
    static func text(_ event: LogEvent, label: String, metadata: Logger.Metadata) -> [UInt8] {
        var line = localTimestamp()
        line += " \(event.level) \(label):"
        if !metadata.isEmpty {
            line += " " + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\(render($0.value))" }.joined(separator: " ")
        }
        line += " [\(event.source)] \(event.message)\n"
        return Array(line.utf8)
    }

    static func json(_ event: LogEvent, label: String, metadata: Logger.Metadata) -> [UInt8] {
        var object: [String: Any] = [:]
        for (key, value) in metadata { object[key] = jsonValue(value) }
        object["time"] = utcTimestamp()
        object["level"] = "\(event.level)"
        object["label"] = label
        object["source"] = event.source
        object["message"] = "\(event.message)"
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return Array("{\"level\":\"error\",\"message\":\"a log line could not be encoded\"}\n".utf8)
        }
        data.append(0x0A)
        return Array(data)
    }

    /// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID - - MSG`: no MSGID or structured data; the message is the text
    /// form's metadata, source and message. At most `limit` bytes (cut at a character boundary).
    static func syslog(_ event: LogEvent, label: String, metadata: Logger.Metadata, facility: SyslogFacility, hostname: String,
                       limit: Int = 8_192) -> [UInt8] {
        let priority = facility.rawValue * 8 + severity(event.level)
        var message = ""
        if !metadata.isEmpty {
            message += metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\(render($0.value))" }.joined(separator: " ") + " "
        }
        message += "[\(event.source)] \(event.message)"
        var bytes = Array("<\(priority)>1 \(utcTimestamp()) \(hostname) \(label.isEmpty ? "-" : printable(label)) \(getpid()) - - ".utf8)
        bytes += message.utf8
        if bytes.count > limit {
            var end = limit
            // Never cut a UTF-8 sequence in two: back off over continuation bytes.
            while end > 0 && bytes[end] & 0xC0 == 0x80 { end -= 1 }
            bytes.removeSubrange(end...)
        }
        return bytes
    }

    /// RFC 5424 severities: emergency 0 … debug 7.
    static func severity(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// APP-NAME is 1 to 48 printable US-ASCII characters.
    private static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value > 32 && $0.value < 127 }.prefix(48)))
    }

    static func render(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): "[" + values.map(render).joined(separator: ", ") + "]"
        case .dictionary(let values): "[" + values.sorted { $0.key < $1.key }.map { "\($0.key): \(render($0.value))" }.joined(separator: ", ") + "]"
        }
    }

    private static func jsonValue(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(jsonValue)
        case .dictionary(let values): values.mapValues(jsonValue)
        }
    }

    /// Local time to the second with its offset, as swift-log's stream handler writes it.
    private static func localTimestamp() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        return format(&parts, "%Y-%m-%dT%H:%M:%S%z")
    }

    /// UTC to the microsecond: `2026-12-04T18:16:43.123456Z`.
    static func utcTimestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let micros = String(now.tv_nsec / 1_000)
        return format(&parts, "%Y-%m-%dT%H:%M:%S") + "." + String(repeating: "0", count: max(0, 6 - micros.count)) + micros + "Z"
    }

    private static func format(_ parts: inout tm, _ pattern: String) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, pattern, &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
