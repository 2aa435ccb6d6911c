extension ECMARegex {
    /// The Unicode properties `\p{...}` and `\P{...}` name: every General_Category value (short and long
    /// names, alone or as `gc=`/`General_Category=`) and the binary properties a pattern author reaches for.
    /// Scripts (`\p{Script=Greek}`) are refused: Swift's standard library has no script data, and a
    /// pattern silently matching nothing would be worse than a clear refusal.
    struct UnicodeProperty: Sendable {
        enum Test: Sendable {
            case categories(Set<Unicode.GeneralCategory>)
            case alphabetic, whiteSpace, uppercase, lowercase, ascii, asciiHexDigit, any, assigned
        }

        var test: Test
        /// `\P{...}`.
        var negated: Bool

        func matches(_ scalar: Unicode.Scalar) -> Bool {
            let properties = scalar.properties
            let found: Bool
            switch test {
            case .categories(let categories): found = categories.contains(properties.generalCategory)
            case .alphabetic: found = properties.isAlphabetic
            case .whiteSpace: found = properties.isWhitespace
            case .uppercase: found = properties.isUppercase
            case .lowercase: found = properties.isLowercase
            case .ascii: found = scalar.isASCII
            case .asciiHexDigit: found = properties.isASCIIHexDigit
            case .any: found = true
            case .assigned: found = properties.generalCategory != .unassigned
            }
            return found != negated
        }

        /// The property a `\p{...}` body names, or the reason it is refused.
        static func named(_ body: String, negated: Bool) -> Result<UnicodeProperty, Refusal> {
            var name = body
            if let equals = body.firstIndex(of: "=") {
                let key = body[..<equals]
                name = String(body[body.index(after: equals)...])
                guard key == "gc" || key == "General_Category" else {
                    return .failure(Refusal("\\p{\(body)}: only General_Category values and binary properties are supported"))
                }
                guard let categories = categories[name] else {
                    return .failure(Refusal("\\p{\(body)}: unknown General_Category value"))
                }
                return .success(UnicodeProperty(test: .categories(categories), negated: negated))
            }
            if let categories = categories[name] { return .success(UnicodeProperty(test: .categories(categories), negated: negated)) }
            if let test = binary[name] { return .success(UnicodeProperty(test: test, negated: negated)) }
            return .failure(Refusal("\\p{\(body)}: unknown or unsupported Unicode property"))
        }

        static let binary: [String: Test] = [
            "Alphabetic": .alphabetic, "Alpha": .alphabetic, "White_Space": .whiteSpace, "space": .whiteSpace,
            "Uppercase": .uppercase, "Upper": .uppercase, "Lowercase": .lowercase, "Lower": .lowercase,
            "ASCII": .ascii, "ASCII_Hex_Digit": .asciiHexDigit, "AHex": .asciiHexDigit, "Any": .any, "Assigned": .assigned,
        ]

        static let categories: [String: Set<Unicode.GeneralCategory>] = {
            let single: [(String, String, Unicode.GeneralCategory)] = [
                ("Lu", "Uppercase_Letter", .uppercaseLetter), ("Ll", "Lowercase_Letter", .lowercaseLetter),
                ("Lt", "Titlecase_Letter", .titlecaseLetter), ("Lm", "Modifier_Letter", .modifierLetter),
                ("Lo", "Other_Letter", .otherLetter), ("Mn", "Nonspacing_Mark", .nonspacingMark),
                ("Mc", "Spacing_Mark", .spacingMark), ("Me", "Enclosing_Mark", .enclosingMark),
                ("Nd", "Decimal_Number", .decimalNumber), ("Nl", "Letter_Number", .letterNumber),
                ("No", "Other_Number", .otherNumber), ("Pc", "Connector_Punctuation", .connectorPunctuation),
                ("Pd", "Dash_Punctuation", .dashPunctuation), ("Ps", "Open_Punctuation", .openPunctuation),
                ("Pe", "Close_Punctuation", .closePunctuation), ("Pi", "Initial_Punctuation", .initialPunctuation),
                ("Pf", "Final_Punctuation", .finalPunctuation), ("Po", "Other_Punctuation", .otherPunctuation),
                ("Sm", "Math_Symbol", .mathSymbol), ("Sc", "Currency_Symbol", .currencySymbol),
                ("Sk", "Modifier_Symbol", .modifierSymbol), ("So", "Other_Symbol", .otherSymbol),
                ("Zs", "Space_Separator", .spaceSeparator), ("Zl", "Line_Separator", .lineSeparator),
                ("Zp", "Paragraph_Separator", .paragraphSeparator), ("Cc", "Control", .control),
                ("Cf", "Format", .format), ("Cs", "Surrogate", .surrogate), ("Co", "Private_Use", .privateUse),
                ("Cn", "Unassigned", .unassigned),
            ]
            var table: [String: Set<Unicode.GeneralCategory>] = [:]
            for (short, long, category) in single {
                table[short] = [category]
                table[long] = [category]
            }
            // The groups: a one-letter name is every category that starts with it.
            let groups: [(String, String)] = [("L", "Letter"), ("M", "Mark"), ("N", "Number"), ("P", "Punctuation"),
                                              ("S", "Symbol"), ("Z", "Separator"), ("C", "Other")]
            for (letter, long) in groups {
                let members = Set(single.filter { $0.0.hasPrefix(letter) }.map(\.2))
                table[letter] = members
                table[long] = members
            }
            table["LC"] = [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter]
            table["Cased_Letter"] = table["LC"]
            table["Combining_Mark"] = table["M"]
            table["digit"] = table["Nd"]
            table["punct"] = table["P"]
            table["cntrl"] = table["Cc"]
            return table
        }()
    }
}
