/// How a log line is written (`dispatcher.log-format`, `--log-format`): text for people, one JSON object per line
/// for log shippers. Syslog always gets RFC 5424 with the text form as its message.
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}
