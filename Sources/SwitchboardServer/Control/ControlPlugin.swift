import SwitchboardCore

/// The `control` service: the operator's methods (`ControlMethods`), over the daemon's `DaemonControl`. Built
/// in and always loaded with the daemon; it is what `switchboard ctl` calls.
struct ControlPlugin: Plugin {
    let name = "control"
    let needs: PluginNeeds = [.sessions]
    let control: DaemonControl

    func setUp(_ context: PluginContext) async throws {
        try ControlMethods.register(in: context, control: control)
    }
}
