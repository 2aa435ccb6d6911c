import Dispatch
import HummingbirdBcrypt

/// bcrypt, run on a Dispatch thread: a hash takes tens of milliseconds of CPU, which must not stall the
/// cooperative pool that serves every other call.
enum PasswordHasher {
    static func hash(_ password: String, cost: UInt8) async -> String {
        await offload { Bcrypt.hash(password, cost: cost) }
    }

    static func verify(_ password: String, hash: String) async -> Bool {
        await offload { Bcrypt.verify(password, hash: hash) }
    }

    private static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }
}
