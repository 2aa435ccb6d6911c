import Crypto
import Foundation
import SwitchboardCore

/// A time-based one-time password generator and checker (RFC 6238 over RFC 4226's HOTP, HMAC-SHA1), as
/// authenticator apps and pyotp compute it.
///
/// Checking returns the time step a code matched, so that the caller can refuse that step (and every earlier
/// one) next time: a code seen once, on the wire or over a shoulder, is worth nothing afterwards.
struct TOTP: Sendable {
    let secret: [UInt8]
    /// Digits per code: 6 to 8.
    let digits: Int
    /// Seconds per time step.
    let interval: Int

    static let digitRange = 6...8
    static let minimumInterval = 5
    /// 160 bits, the HMAC-SHA1 block RFC 4226 recommends; 32 base32 characters, as pyotp.random_base32 makes.
    static let secretBytes = 20

    init(secret: [UInt8], digits: Int = 6, interval: Int = 30) {
        self.secret = secret
        self.digits = digits
        self.interval = interval
    }

    /// The time step `time` (seconds since the epoch) falls in.
    func counter(at time: Int64) -> Int64 { time / Int64(max(interval, 1)) }

    /// The code of time step `counter`.
    func code(counter: Int64) -> String {
        var message = [UInt8](repeating: 0, count: 8)
        for index in 0..<8 { message[index] = UInt8(truncatingIfNeeded: UInt64(bitPattern: counter) >> UInt64(56 - index * 8)) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        // Dynamic truncation: four bytes at the offset the last nibble names, without the sign bit.
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let binary = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let value = String(binary % modulus)
        return String(repeating: "0", count: max(0, digits - value.count)) + value
    }

    /// The time step `code` belongs to, looking `window` steps either side of now (clock drift, a code typed as
    /// it changed); nil when it matches none. Every candidate is compared in full, in constant time.
    func match(_ given: String, at time: Int64, window: Int) -> Int64? {
        let trimmed = given.filter { !$0.isWhitespace }
        guard trimmed.count == digits, trimmed.allSatisfy(\.isASCII), trimmed.allSatisfy(\.isNumber) else { return nil }
        let now = counter(at: time)
        var found: Int64?
        for step in Int64(-window)...Int64(window) where code(counter: now + step).constantTimeEquals(trimmed) {
            if found == nil { found = now + step }
        }
        return found
    }

    /// A new random secret.
    static func randomSecret() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<secretBytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// The `otpauth://` URI an authenticator app scans (Google's Key Uri Format): `issuer:account`, the secret,
    /// and the digits and period when they are not the apps' defaults.
    func provisioningURI(account: String, issuer: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: ":/?#&=+")
        let label = (issuer.addingPercentEncoding(withAllowedCharacters: allowed) ?? issuer) + ":"
            + (account.addingPercentEncoding(withAllowedCharacters: allowed) ?? account)
        var query = "secret=\(Base32.encode(secret))&issuer=\(issuer.addingPercentEncoding(withAllowedCharacters: allowed) ?? issuer)"
        if digits != 6 { query += "&digits=\(digits)" }
        if interval != 30 { query += "&period=\(interval)" }
        return "otpauth://totp/\(label)?\(query)"
    }
}
