extension StringProtocol {
    /// Plain substring replacement without Foundation.
    public func replacingOccurrences(_ target: String, with replacement: String) -> String {
        let source = String(self)
        guard !target.isEmpty, source.contains(target) else { return source }
        var result = ""
        var rest = Substring(source)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
