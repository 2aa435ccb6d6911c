/// RFC 4648 base32, the alphabet TOTP secrets are written in (authenticator apps, `otpauth://` URIs, pyotp).
///
/// Decoding takes what people type: either case, no padding, spaces and dashes between groups. Anything else
/// (a digit 0, 1, 8 or 9, a stray character, a length no encoder makes) is refused rather than guessed at.
enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes of `text`, or nil when it is not base32.
    static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        var padding = 0
        for scalar in text.utf8 {
            switch scalar {
            case UInt8(ascii: " "), UInt8(ascii: "-"): continue
            case UInt8(ascii: "="):
                padding += 1
                continue
            default: break
            }
            // Data after padding is not base32.
            guard padding == 0 else { return nil }
            switch scalar {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(scalar - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(scalar - UInt8(ascii: "a"))
            case UInt8(ascii: "2")...UInt8(ascii: "7"): values.append(scalar - UInt8(ascii: "2") + 26)
            default: return nil
            }
        }
        // 8 characters carry 5 bytes; a group can only end after 2, 4, 5 or 7 characters.
        guard [0, 2, 4, 5, 7].contains(values.count % 8) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 5 / 8)
        var buffer: UInt32 = 0
        var bits = 0
        for value in values {
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                bytes.append(UInt8((buffer >> UInt32(bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return bytes
    }
}
