import Crypto
import Foundation
import SwitchboardCore

/// Seals secrets the daemon must read back (TOTP secrets) before they reach the datastore, with AES-256-GCM
/// under a key kept in a file outside it (`security.secret-key-file`): a copy of the database, a backup or a
/// PostgreSQL replica alone does not give the secrets away.
///
/// The key file holds 32 random bytes in base64 and is made, mode 0600, the first time it is needed; every
/// node of a cluster must be given the same file. A sealed value reads `aes256gcm:<base64 nonce|text|tag>`.
struct SecretSealer: Sendable {
    private let key: SymmetricKey
    static let prefix = "aes256gcm:"

    init(key: SymmetricKey) { self.key = key }

    /// The sealer for the key in `path`, which is created (atomically, so that two plugins starting at once
    /// agree on one key) when it does not exist.
    static func load(path: String) throws -> SecretSealer {
        if let text = try? String(contentsOfFile: path, encoding: .utf8) { return try SecretSealer(keyText: text, path: path) }
        let text = Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }).base64EncodedString() + "\n"
        let temporary = path + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw CallError(Errno.EIO, "Cannot create the secret key file \(temporary): \(String(cString: strerror(errno)))") }
        let written = text.utf8.withContiguousStorageIfAvailable { write(fd, $0.baseAddress, $0.count) } ?? -1
        let synced = fsync(fd)
        close(fd)
        defer { unlink(temporary) }
        guard written == text.utf8.count, synced == 0 else {
            throw CallError(Errno.EIO, "Cannot write the secret key file \(path)")
        }
        // link() fails when the file exists: whoever made it first wins and both read the winner's key.
        if link(temporary, path) != 0, errno != EEXIST {
            throw CallError(Errno.EIO, "Cannot create the secret key file \(path): \(String(cString: strerror(errno)))")
        }
        guard let stored = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CallError(Errno.EIO, "Cannot read the secret key file \(path)")
        }
        return try SecretSealer(keyText: stored, path: path)
    }

    private init(keyText: String, path: String) throws {
        guard let bytes = Data(base64Encoded: keyText.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
            throw CallError(Errno.EINVAL, "The secret key file \(path) does not hold 32 bytes in base64")
        }
        self.key = SymmetricKey(data: bytes)
    }

    func seal(_ plain: String) throws -> String {
        let box = try AES.GCM.seal(Data(plain.utf8), using: key)
        guard let combined = box.combined else { throw CallError(Errno.EIO, "Cannot seal a secret") }
        return Self.prefix + combined.base64EncodedString()
    }

    /// The plain text of `sealed`; throws when it was sealed under another key or altered.
    func unseal(_ sealed: String) throws -> String {
        guard sealed.hasPrefix(Self.prefix), let combined = Data(base64Encoded: String(sealed.dropFirst(Self.prefix.count))) else {
            throw CallError(Errno.EINVAL, "A stored secret is not sealed")
        }
        do {
            let plain = try AES.GCM.open(try AES.GCM.SealedBox(combined: combined), using: key)
            return String(decoding: plain, as: UTF8.self)
        } catch {
            throw CallError(Errno.EINVAL, "A stored secret cannot be opened with the key in security.secret-key-file (another key, or altered)")
        }
    }
}
