/// The methods the daemon's own code names (the dialects, REST, the audit stage, the control socket's CLI and
/// dump): one table, read by the code that registers each method and by the code that calls or classifies it,
/// so the two cannot disagree (a renamed method breaks the build, not a dialect at run time). Methods only
/// clients name are not here.
public enum MethodName {
    public static let ping = "core.ping"
    public static let setOptions = "core.set_options"
    public static let subscribe = "core.subscribe"
    public static let unsubscribe = "core.unsubscribe"

    /// OpenRPC's reserved name for the service description.
    public static let rpcDiscover = "rpc.discover"

    public static let pluginQuery = "plugin.query"
    public static let pluginReload = "plugin.reload"
    public static let pluginReloadAll = "plugin.reload_all"

    public static let login = "auth.login"
    public static let loginEx = "auth.login_ex"
    public static let loginExContinue = "auth.login_ex_continue"
    public static let loginWithToken = "auth.login_with_token"
    public static let loginWithAPIKey = "auth.login_with_api_key"
    public static let logout = "auth.logout"
    public static let generateToken = "auth.generate_token"
    public static let me = "auth.me"
    public static let sessions = "auth.sessions"

    public static let getJobs = "core.get_jobs"
    public static let jobAbort = "core.job_abort"
    public static let jobLog = "core.job_log"
    public static let download = "core.download"
    public static let emitEvent = "core.emit_event"

    public static let workerQuery = "worker.query"
    public static let workerStart = "worker.start"
    public static let workerStop = "worker.stop"
    public static let workerRestart = "worker.restart"

    public static let roomJoin = "room.join"
    public static let roomLeave = "room.leave"
    public static let roomMembers = "room.members"
    public static let roomQuery = "room.query"

    public static let controlStatus = "control.status"
    public static let controlDump = "control.dump"
    public static let controlReload = "control.reload"
    public static let controlLogLevel = "control.log_level"
    public static let controlStop = "control.stop"

    public static let dispatcherRun = "dispatcher.run"
    public static let dispatcherList = "dispatcher.list"
    public static let dispatcherKill = "dispatcher.kill"

    /// FreeNAS 10's feature negotiation: a client that calls it speaks FreeNAS 10's envelope.
    public static let enableFeatures = "management.enable_features"

    /// Every way a session logs in: the audit trail records them as `AUTHENTICATION`.
    public static let logins: Set<String> = [login, loginEx, loginExContinue, loginWithToken, loginWithAPIKey]
}
