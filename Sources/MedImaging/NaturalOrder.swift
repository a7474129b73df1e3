/// Orders file names as people number them: runs of digits compare by value, so "B2" sorts before "B10".
enum NaturalOrder {
    static func areInIncreasingOrder(_ a: String, _ b: String) -> Bool {
        let left = chunks(a), right = chunks(b)
        for (x, y) in zip(left, right) where x != y {
            switch (x, y) {
            case let (.number(m, mText), .number(n, nText)): return m != n ? m < n : mText < nText
            case let (.text(s), .text(t)): return s < t
            case (.number, .text): return true
            case (.text, .number): return false
            }
        }
        return left.count != right.count ? left.count < right.count : a < b
    }

    /// The name with its digit runs removed: files of one series share it ("B1.tif", "B12.tif" -> "B.tif").
    static func stem(_ name: String) -> String {
        String(name.filter { !$0.isASCII || !$0.isNumber })
    }

    private enum Chunk: Equatable {
        case text(String)
        case number(Double, String)  // Double: digit runs longer than Int can hold still compare
    }

    private static func chunks(_ name: String) -> [Chunk] {
        var result: [Chunk] = []
        var current = "", inDigits = false
        func flush() {
            guard !current.isEmpty else { return }
            result.append(inDigits ? .number(Double(current) ?? 0, current) : .text(current.lowercased()))
            current = ""
        }
        for character in name {
            let isDigit = character.isASCII && character.isNumber
            if isDigit != inDigits { flush(); inDigits = isDigit }
            current.append(character)
        }
        flush()
        return result
    }
}
