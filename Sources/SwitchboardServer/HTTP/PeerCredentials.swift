import NIOCore
import SwitchboardCore
#if canImport(Glibc)
import Glibc
#endif

/// Linux's `struct ucred` (pid, uid, gid), which Swift's Glibc module does not export without _GNU_SOURCE.
struct KernelPeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// Finds who is at the other end of a connection.
enum PeerCredentials {
    /// A TCP peer's address, or a local socket peer's uid, gid and pid from SO_PEERCRED.
    static func origin(of channel: any Channel) async -> SessionOrigin {
        if case .unixDomainSocket = channel.localAddress {
            #if canImport(Glibc)
            if let provider = channel as? any SocketOptionProvider {
                let credentials: KernelPeerCredentials? = try? await provider.unsafeGetSocketOption(
                    level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED)
                ).get()
                if let credentials {
                    return .unix(uid: credentials.uid, gid: credentials.gid, pid: credentials.pid)
                }
            }
            #endif
            // Unknown peer on the local socket: an unprivileged identity, never root.
            return .unix(uid: UInt32.max, gid: UInt32.max, pid: -1)
        }
        let address = channel.remoteAddress
        return .tcp(address: address?.ipAddress ?? "unknown", port: address?.port ?? 0)
    }

    /// A session for a new connection (or REST request) on `channel`: its peer, and the local-socket trust.
    /// `encryptedTCP`: the TCP listener speaks TLS only, so every TCP peer of it is encrypted.
    static func session(on channel: (any Channel)?, id: String = Session.makeID(), dialect: String, limits: CallLimiter.Limits,
                        encryptedTCP: Bool, outbox: (any EventOutbox)? = nil) async -> Session {
        var origin = SessionOrigin.tcp(address: "unknown", port: 0)
        if let channel { origin = await Self.origin(of: channel) }
        let encrypted: Bool
        if case .tcp = origin { encrypted = encryptedTCP } else { encrypted = false }
        return Session(id: id, dialect: dialect, origin: origin, encrypted: encrypted, limits: limits,
                       credentials: trustedCredentials(for: origin), outbox: outbox)
    }

    /// Root, and the daemon's own user, are trusted on the local socket without a password: that is how the
    /// first user is created on a fresh machine, and no default password exists anywhere.
    static func trustedCredentials(for origin: SessionOrigin) -> Credentials? {
        guard case .unix(let uid, _, _) = origin else { return nil }
        #if canImport(Glibc)
        let own = getuid()
        #else
        let own: UInt32 = 0
        #endif
        guard uid == 0 || uid == own else { return nil }
        return Credentials(username: uid == 0 ? "root" : "uid:\(uid)", userID: nil, roles: [Role.fullAdmin], mechanism: .unixSocket)
    }
}
