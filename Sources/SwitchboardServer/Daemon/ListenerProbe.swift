import NIOCore
import NIOPosix

/// Why a listener cannot be opened, in an operator's words: the address, the port and what to do.
public struct ListenError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Binds the TCP address once before any listener starts, so that a port in use stops the start with one clear
/// sentence, instead of the system call's name and the noise of the other listeners being cancelled. (If another
/// process takes the port between the probe and the listener, the listener's error is worded the same way.)
enum ListenerProbe {
    static func check(host: String, port: Int) async throws {
        guard port != 0 else { return }
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port).get()
            try await channel.close()
        } catch {
            throw explain(error, host: host, port: port) ?? error
        }
    }

    /// The sentence for a bind failure, or nil when the error is not one.
    static func explain(_ error: any Error, host: String, port: Int) -> ListenError? {
        let address = "\(host):\(port)"
        if let error = error as? IOError {
            switch error.errnoCode {
            case EADDRINUSE:
                return ListenError(description: "cannot listen on \(address): the port is in use by another program (is a daemon "
                    + "already running?); choose another with --port or dispatcher.websocket-port")
            case EADDRNOTAVAIL:
                return ListenError(description: "cannot listen on \(address): \(host) is not an address of this machine (dispatcher.listen)")
            case EACCES:
                return ListenError(description: "cannot listen on \(address): permission denied (ports below 1024 need root)")
            default:
                return ListenError(description: "cannot listen on \(address): \(String(cString: strerror(error.errnoCode)))")
            }
        }
        if error is SocketAddressError || error is SocketAddressError.UnknownHost {
            return ListenError(description: "cannot listen on \(address): \(host) is not an address or a name this machine resolves (dispatcher.listen)")
        }
        return nil
    }
}
