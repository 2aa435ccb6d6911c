import OrderedCollections

/// Per-caller quotas of the audit trail: each caller that is not FULL_ADMIN (a user, or for a failed login the
/// client address) has `limit` records per `interval` written one by one; beyond that its records are counted
/// by kind and written as one `AUDIT_SUMMARY` record per caller and interval.
///
/// 105,000 refused calls in 5 s once pushed every earlier record out of the trail; the same flood now costs
/// `limit` records and a summary, and says exactly what was tried, how often, and when. Memory: one entry per
/// caller active in the interval (bounded by `maxTracked`, beyond which the oldest are summarised and forgotten)
/// with at most `maxKinds` kinds each.
struct AuditSummaries {
    struct Caller {
        var start: Int64
        var end: Int64
        var count = 0
        var suppressed = 0
        var username: String?
        var address: String
        var kinds: OrderedDictionary<String, Int> = [:]
    }

    let limit: Int
    let intervalMillis: Int64
    var maxTracked = 100_000
    static let maxKinds = 50
    private(set) var callers: [String: Caller] = [:]

    init(limit: Int, intervalMillis: Int64) {
        self.limit = limit
        self.intervalMillis = intervalMillis
    }

    /// Whether `record` is written on its own; summaries of intervals that have ended go to `out`.
    mutating func admit(_ record: AuditRecord, into out: inout [AuditRecord]) -> Bool {
        if record.privileged { return true }
        let now = record.timeMillis
        let address = Self.host(record.address)
        let key = record.caller.map { "user " + $0 } ?? "address " + address
        var caller = callers[key] ?? Caller(start: now, end: now, username: record.caller, address: address)
        if now - caller.start >= intervalMillis {
            if let summary = Self.summary(caller) { out.append(summary) }
            caller = Caller(start: now, end: now, username: record.caller, address: address)
        }
        caller.count += 1
        caller.end = max(caller.end, now)
        let admitted = caller.count <= limit
        if !admitted {
            caller.suppressed += 1
            let kind = "\(record.event) \(record.method) \(record.success ? "ok" : "failed")".replacingOccurrences(of: "  ", with: " ")
            if caller.kinds[kind] != nil || caller.kinds.count < Self.maxKinds {
                caller.kinds[kind, default: 0] += 1
            } else {
                caller.kinds["other", default: 0] += 1
            }
        }
        callers[key] = caller
        if callers.count > maxTracked {
            out += drain(now: now)
            // Still too many callers within one interval (a flood from many addresses): summarise them all now.
            if callers.count > maxTracked {
                out += callers.values.compactMap(Self.summary)
                callers.removeAll()
            }
        }
        return admitted
    }

    /// Summaries of the callers whose interval has ended (forgotten), and with `force` of every caller with
    /// suppressed records (whose counting goes on, without its summarised part).
    mutating func drain(now: Int64, force: Bool = false) -> [AuditRecord] {
        var out: [AuditRecord] = []
        for (key, var caller) in callers {
            let ended = now - caller.start >= intervalMillis
            guard ended || force else { continue }
            if let summary = Self.summary(caller) { out.append(summary) }
            if ended {
                callers.removeValue(forKey: key)
            } else {
                caller.suppressed = 0
                caller.kinds = [:]
                callers[key] = caller
            }
        }
        return out.sorted { $0.timeMillis < $1.timeMillis }
    }

    static func summary(_ caller: Caller) -> AuditRecord? {
        guard caller.suppressed > 0 else { return nil }
        let failed = caller.kinds.keys.contains { $0.hasSuffix("failed") }
        let kinds = JSONObject(uniqueKeysWithValues: caller.kinds.map { ($0.key, JSON.int(Int64($0.value))) })
        var record = AuditRecord(
            event: "AUDIT_SUMMARY", timeMillis: caller.end, session: "", username: caller.username, address: caller.address,
            dialect: "", method: "",
            arguments: ["suppressed": .int(Int64(caller.suppressed)), "from_ms": .int(caller.start), "to_ms": .int(caller.end),
                        "kinds": .object(kinds)],
            success: !failed,
            error: "\(caller.suppressed) more records of this caller between from_ms and to_ms are counted here by kind (audit.max-records-per-caller)")
        record.privileged = false
        return record
    }

    /// `127.0.0.1` of `127.0.0.1:51234`, `[::1]` of `[::1]:5`; a local peer's description as it is.
    static func host(_ address: String) -> String {
        if address.hasPrefix("["), let end = address.firstIndex(of: "]") { return String(address[...end]) }
        if address.filter({ $0 == ":" }).count == 1, let colon = address.firstIndex(of: ":"), !address.hasPrefix("unix") {
            return String(address[..<colon])
        }
        return address
    }
}
