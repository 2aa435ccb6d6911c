/// Publishing to some of a name's subscribers only, and delivering unasked: what rooms and targeted pushes need
/// beside the plain publish, which reaches every subscriber the event's roles admit.
extension EventBus {
    /// Delivers `events` (all of one name) to the sessions subscribed to that name that `audience` picks and the
    /// event's type admits. Handlers are not run: call `handle` for that, outside any lock the caller holds.
    func deliver(_ events: [Event], audience: (Session) -> Bool) {
        guard let name = events.first?.name else { return }
        let route = state.withLock { $0.route(name) }
        let chosen = route.deliveries.filter { audience($0.session) }
        guard !chosen.isEmpty else { return }
        let frames = events.map { _ in EncodedFrames() }
        for delivery in chosen {
            for (event, encoded) in zip(events, frames) where delivery.session.admits(event, type: route.type) {
                delivery.outbox.deliver(event, frames: encoded)
            }
        }
        for encoded in frames { encoded.wakes.flush() }
    }

    /// Runs this node's server-side handlers of the event's name, and nothing else.
    func handle(_ event: Event) {
        let handlers = state.withLock { $0.route(event.name).handlers }
        for handler in handlers { handler(event) }
    }

    /// Pushes `event` to `sessions` whether or not they subscribed (a targeted push): each one whose roles admit
    /// the event's type, in its dialect. Returns how many it reached.
    func push(_ event: Event, to sessions: [Session]) -> Int {
        let type = type(event.name)
        let frames = EncodedFrames()
        var reached = 0
        for session in sessions {
            guard let outbox = session.outbox, session.admits(event, type: type) else { continue }
            outbox.push(event, frames: frames)
            reached += 1
        }
        frames.wakes.flush()
        return reached
    }
}
