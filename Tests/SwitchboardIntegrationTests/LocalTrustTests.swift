import Foundation
import Testing
import SwitchboardCore
@testable import SwitchboardServer

/// The local socket trusts root and the daemon's own user without a password, and nobody else (issue 16).
@Suite struct LocalTrustTests {
    @Test func onlyRootAndTheDaemonsUserAreTrusted() {
        let root = PeerCredentials.trustedCredentials(for: .unix(uid: 0, gid: 0, pid: 1))
        #expect(root?.username == "root" && root?.isFullAdmin == true && root?.mechanism == .unixSocket)
        let own = getuid()
        #expect(PeerCredentials.trustedCredentials(for: .unix(uid: own, gid: 0, pid: 1))?.isFullAdmin == true)
        for uid: UInt32 in [1, 1000, 65534] where uid != own {
            #expect(PeerCredentials.trustedCredentials(for: .unix(uid: uid, gid: uid, pid: 1)) == nil, "uid \(uid)")
        }
        #expect(PeerCredentials.trustedCredentials(for: .tcp(address: "127.0.0.1", port: 1)) == nil)
    }

    /// Through the real socket: the CLI run as `nobody` connects, and is not logged in.
    @Test func anotherLocalUserMustLogIn() async throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), let binary = Binary.path else {
            Issue.record("needs root and setpriv to run a client as another user (uid \(getuid()))")
            return
        }
        let daemon = try await TestDaemon.start()
        // The state folder must let `nobody` reach the socket (it is 0666 itself).
        chmod(daemon.stateDir, 0o755)
        let asNobody = try await Binary.run(executable: "/usr/bin/setpriv",
                                            ["--reuid=65534", "--regid=65534", "--clear-groups", binary, "call", "-u", daemon.socketPath, "user.query"])
        #expect(asNobody.status != 0)
        #expect(asNobody.stderr.contains("ENOTAUTHENTICATED") || asNobody.stderr.contains("Not authenticated"), "\(asNobody.stderr)")
        let asRoot = try await Binary.run(["call", "-u", daemon.socketPath, "user.query"])
        #expect(asRoot.status == 0, "\(asRoot.stderr)")
        await daemon.stop()
    }
}
