/// A syslog facility (RFC 5424 section 6.2.1), named as syslog.conf names it.
public enum SyslogFacility: Int, Sendable, CaseIterable {
    case kern = 0, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp
    case local0 = 16, local1, local2, local3, local4, local5, local6, local7

    public var name: String { "\(self)" }

    static func parse(_ name: String) throws -> SyslogFacility {
        guard let facility = allCases.first(where: { $0.name == name }) else {
            throw ConfigurationError(path: "dispatcher.syslog-facility",
                                     reason: "must be one of \(allCases.map(\.name).joined(separator: ", ")), not '\(name)'")
        }
        return facility
    }
}
