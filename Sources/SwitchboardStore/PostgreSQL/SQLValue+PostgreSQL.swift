import PostgresNIO

extension SQLValue {
    /// Appends the value with PostgreSQL's own type for it (int8, float8, text, bool).
    func bind(into bindings: inout PostgresBindings) {
        switch self {
        case .integer(let i): bindings.append(i)
        case .real(let d): bindings.append(d)
        case .text(let s): bindings.append(s)
        case .boolean(let b): bindings.append(b)
        }
    }
}
