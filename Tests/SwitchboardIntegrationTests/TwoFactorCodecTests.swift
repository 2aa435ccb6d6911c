import Crypto
import Foundation
import Testing
@testable import SwitchboardPlugins

/// The pieces of two-factor login on their own: base32 (RFC 4648 §10's vectors), TOTP (RFC 6238 Appendix B,
/// SHA-1) and the sealing of secrets under the key file.
struct TwoFactorCodecTests {
    @Test(arguments: [("", ""), ("f", "MY"), ("fo", "MZXQ"), ("foo", "MZXW6"), ("foob", "MZXW6YQ"), ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI")])
    func base32MatchesRFC4648(plain: String, encoded: String) {
        #expect(Base32.encode(Array(plain.utf8)) == encoded)
        #expect(Base32.decode(encoded) == Array(plain.utf8))
        // Padded, lowercase and grouped as people type them.
        let padded = encoded + String(repeating: "=", count: (8 - encoded.count % 8) % 8)
        #expect(Base32.decode(padded) == Array(plain.utf8))
        #expect(Base32.decode(encoded.lowercased()) == Array(plain.utf8))
    }

    @Test func base32RefusesWhatNoEncoderMakes() {
        #expect(Base32.decode("MZXW 6YTB-OI") == Array("foobar".utf8))
        for bad in ["MZXW1", "MZ0W", "MZXW6YTBOI=A", "M", "MZX", "MZXW6Y", "MZ!W", "é"] {
            #expect(Base32.decode(bad) == nil, "\(bad)")
        }
        var generator = SystemRandomNumberGenerator()
        for length in 0..<64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(Base32.decode(Base32.encode(bytes)) == bytes)
        }
    }

    /// RFC 6238 Appendix B, the SHA-1 column: the 20-byte ASCII key "12345678901234567890", 8 digits, 30 s.
    @Test(arguments: [
        (Int64(59), "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"), (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
    ])
    func totpMatchesRFC6238(time: Int64, expected: String) {
        let totp = TOTP(secret: Array("12345678901234567890".utf8), digits: 8, interval: 30)
        #expect(totp.code(counter: totp.counter(at: time)) == expected)
        #expect(totp.match(expected, at: time, window: 0) == totp.counter(at: time))
    }

    @Test func totpMatchesOnlyWithinTheWindow() {
        let totp = TOTP(secret: Array("12345678901234567890".utf8))
        let now: Int64 = 1_700_000_000
        let step = totp.counter(at: now)
        #expect(totp.code(counter: step).count == 6)
        #expect(totp.match(totp.code(counter: step - 1), at: now, window: 1) == step - 1)
        #expect(totp.match(totp.code(counter: step + 1), at: now, window: 1) == step + 1)
        #expect(totp.match(totp.code(counter: step - 1), at: now, window: 0) == nil)
        #expect(totp.match(totp.code(counter: step - 2), at: now, window: 1) == nil)
        // Spaces people type are ignored; other lengths, signs and non-ASCII digits are not codes.
        let code = totp.code(counter: step)
        #expect(totp.match(String(code.prefix(3)) + " " + String(code.dropFirst(3)), at: now, window: 0) == step)
        for bad in ["", "12345", "1234567", "+12345", "١٢٣٤٥٦", String(code.dropLast()) + "x"] {
            #expect(totp.match(bad, at: now, window: 1) == nil, "\(bad)")
        }
    }

    @Test func provisioningURINamesTheDigitsAndPeriodOnlyWhenNotDefault() {
        let secret = Array("12345678901234567890".utf8)
        #expect(TOTP(secret: secret).provisioningURI(account: "alice@nas", issuer: "Switchboard")
            == "otpauth://totp/Switchboard:alice@nas?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Switchboard")
        #expect(TOTP(secret: secret, digits: 8, interval: 60).provisioningURI(account: "a b", issuer: "Switchboard")
            == "otpauth://totp/Switchboard:a%20b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Switchboard&digits=8&period=60")
    }

    @Test func sealedSecretsOpenOnlyUnderTheirKey() throws {
        let dir = TestDaemon.makeStateDir()
        let path = dir + "/secret.key"
        let sealer = try SecretSealer.load(path: path)
        // Made once, readable by the daemon's user only, and the same key on every load.
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let sealed = try sealer.seal("JBSWY3DPEHPK3PXP")
        #expect(sealed.hasPrefix("aes256gcm:"))
        #expect(!sealed.contains("JBSWY3DPEHPK3PXP"))
        #expect(try SecretSealer.load(path: path).unseal(sealed) == "JBSWY3DPEHPK3PXP")
        // Two seals of one secret differ (a fresh nonce each time).
        #expect(try sealer.seal("JBSWY3DPEHPK3PXP") != sealed)

        let other = try SecretSealer.load(path: dir + "/other.key")
        #expect(throws: (any Error).self) { try other.unseal(sealed) }
        var altered = Array(sealed.utf8)
        altered[altered.count - 3] = altered[altered.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: (any Error).self) { try sealer.unseal(String(decoding: altered, as: UTF8.self)) }
        #expect(throws: (any Error).self) { try sealer.unseal("JBSWY3DPEHPK3PXP") }

        try "not a key\n".write(toFile: dir + "/bad.key", atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try SecretSealer.load(path: dir + "/bad.key") }
        #expect(throws: (any Error).self) { try SecretSealer.load(path: dir + "/missing-folder/secret.key") }
    }
}
