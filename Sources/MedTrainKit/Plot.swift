import Foundation
import MedImaging

/// An RGB raster with anti-aliased lines and text (PlotFont), written as PNG by MedImaging's PNGWriter.
struct Canvas {
    typealias Color = (r: UInt8, g: UInt8, b: UInt8)
    let width: Int
    let height: Int
    private(set) var pixels: [UInt8]

    init(width: Int, height: Int, background: Color = (255, 255, 255)) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) { pixels[3 * i] = background.r; pixels[3 * i + 1] = background.g; pixels[3 * i + 2] = background.b }
    }

    /// Mixes `color` into a pixel with coverage `alpha` (0...1).
    mutating func blend(_ x: Int, _ y: Int, _ color: Color, _ alpha: Double) {
        guard x >= 0, y >= 0, x < width, y < height, alpha > 0 else { return }
        let a = min(alpha, 1), i = 3 * (y * width + x)
        for (k, c) in [color.r, color.g, color.b].enumerated() {
            pixels[i + k] = UInt8((Double(pixels[i + k]) * (1 - a) + Double(c) * a).rounded())
        }
    }

    mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ color: Color) {
        for row in max(0, y)..<min(height, y + h) { for col in max(0, x)..<min(width, x + w) { blend(col, row, color, 1) } }
    }

    /// A segment `thickness` pixels wide with round ends; coverage falls off over the last pixel of its edge.
    mutating func line(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ color: Color, thickness: Double = 2) {
        let half = thickness / 2
        let dx = x1 - x0, dy = y1 - y0, length2 = dx * dx + dy * dy
        let left = Int((min(x0, x1) - half - 1).rounded(.down)), right = Int((max(x0, x1) + half + 1).rounded(.up))
        let top = Int((min(y0, y1) - half - 1).rounded(.down)), bottom = Int((max(y0, y1) + half + 1).rounded(.up))
        for y in max(0, top)...min(height - 1, max(0, bottom)) {
            for x in max(0, left)...min(width - 1, max(0, right)) {
                let px = Double(x) + 0.5, py = Double(y) + 0.5
                let t = length2 > 0 ? max(0, min(1, ((px - x0) * dx + (py - y0) * dy) / length2)) : 0
                let ex = px - (x0 + t * dx), ey = py - (y0 + t * dy)
                blend(x, y, color, half + 0.5 - (ex * ex + ey * ey).squareRoot())
            }
        }
    }

    mutating func dot(_ cx: Double, _ cy: Double, radius: Double, _ color: Color) { line(cx, cy, cx, cy, color, thickness: 2 * radius) }

    enum Anchor { case left, center, right }

    /// Draws printable ASCII with its top at `y`; `vertical` turns it a quarter anticlockwise (reading upwards),
    /// centred on (x, y).
    mutating func text(_ string: String, x: Int, y: Int, _ color: Color = (0, 0, 0), anchor: Anchor = .left, vertical: Bool = false) {
        let glyphs = Array(string.unicodeScalars).map { $0.value >= 32 && $0.value < 127 ? Int($0.value) - 32 : Int(UInt8(ascii: "?")) - 32 }
        let span = glyphs.count * PlotFont.width
        let start = anchor == .left ? 0 : anchor == .center ? -span / 2 : -span
        for (n, glyph) in glyphs.enumerated() {
            let base = glyph * PlotFont.width * PlotFont.height
            for gy in 0..<PlotFont.height {
                for gx in 0..<PlotFont.width {
                    let coverage = PlotFont.cells[base + gy * PlotFont.width + gx]
                    guard coverage > 0 else { continue }
                    let along = start + n * PlotFont.width + gx
                    let (px, py) = vertical ? (x + gy - PlotFont.height / 2, y - along) : (x + along, y + gy)
                    blend(px, py, color, Double(coverage) / 255)
                }
            }
        }
    }

    func png() throws -> Data { try PNGWriter.encode(RasterImage(width: width, height: height, channels: 3, pixels: pixels)) }
}

/// A line chart in one panel of a canvas.
struct Chart {
    struct Series {
        var name: String
        var points: [(x: Double, y: Double)]
        var color: Canvas.Color
        /// Draw as a staircase (a precision-recall curve), horizontal first.
        var steps = false
        var marker: (x: Double, y: Double)?
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var xRange: ClosedRange<Double>
    var yRange: ClosedRange<Double>
    var series: [Series]
    var diagonal = false
    /// Where the legend goes when two corners hide as little (bottom right first, else top right first).
    var legendAtBottom = true
    /// Whole-number x ticks (epochs).
    var integerX = false

    static let palette: [Canvas.Color] = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14)]

    /// Draws into the rectangle (x, y, width, height) of `canvas`.
    func draw(into canvas: inout Canvas, x: Int, y: Int, width: Int, height: Int) {
        let left = x + 62, right = x + width - 16, top = y + 30, bottom = y + height - 44
        func px(_ v: Double) -> Double { Double(left) + (v - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * Double(right - left) }
        func py(_ v: Double) -> Double { Double(bottom) - (v - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * Double(bottom - top) }
        let grey: Canvas.Color = (200, 200, 200), axis: Canvas.Color = (60, 60, 60)
        canvas.text(title, x: (left + right) / 2, y: y + 6, anchor: .center)
        for tick in Self.ticks(xRange, integer: integerX) {
            canvas.line(px(tick), Double(top), px(tick), Double(bottom), grey, thickness: 1)
            canvas.text(Self.label(tick), x: Int(px(tick)), y: bottom + 4, (60, 60, 60), anchor: .center)
        }
        for tick in Self.ticks(yRange) {
            canvas.line(Double(left), py(tick), Double(right), py(tick), grey, thickness: 1)
            canvas.text(Self.label(tick), x: left - 5, y: Int(py(tick)) - PlotFont.height / 2, (60, 60, 60), anchor: .right)
        }
        canvas.text(xLabel, x: (left + right) / 2, y: bottom + 22, anchor: .center)
        canvas.text(yLabel, x: x + 12, y: (top + bottom) / 2, anchor: .center, vertical: true)
        canvas.line(Double(left), Double(bottom), Double(right), Double(bottom), axis, thickness: 1)
        canvas.line(Double(left), Double(top), Double(left), Double(bottom), axis, thickness: 1)
        if diagonal { canvas.line(px(xRange.lowerBound), py(yRange.lowerBound), px(xRange.upperBound), py(yRange.upperBound), (150, 150, 150), thickness: 1) }
        for s in series {
            var previous: (x: Double, y: Double)?
            for p in s.points {
                if let q = previous {
                    if s.steps {
                        canvas.line(px(q.x), py(q.y), px(p.x), py(q.y), s.color)
                        canvas.line(px(p.x), py(q.y), px(p.x), py(p.y), s.color)
                    } else {
                        canvas.line(px(q.x), py(q.y), px(p.x), py(p.y), s.color)
                    }
                } else if s.points.count == 1 {
                    canvas.dot(px(p.x), py(p.y), radius: 2.5, s.color)
                }
                previous = p
            }
            if let m = s.marker {
                canvas.dot(px(m.x), py(m.y), radius: 5, s.color)
                canvas.dot(px(m.x), py(m.y), radius: 2.5, (255, 255, 255))
            }
        }
        drawLegend(into: &canvas, left: left, right: right, top: top, bottom: bottom, px: px, py: py)
    }

    /// One row per series, inside the panel, in the corner its curves cross least.
    private func drawLegend(into canvas: inout Canvas, left: Int, right: Int, top: Int, bottom: Int,
                            px: (Double) -> Double, py: (Double) -> Double) {
        let rowHeight = PlotFont.height + 2
        let width = (series.map(\.name.count).max() ?? 0) * PlotFont.width + 30, height = series.count * rowHeight
        // Points along every curve, a few pixels apart, to count what a legend box would hide.
        var samples: [(Double, Double)] = []
        for s in series {
            for (a, b) in zip(s.points, s.points.dropFirst()) {
                let (x0, y0, x1, y1) = (px(a.x), py(a.y), px(b.x), py(s.steps ? a.y : b.y))
                let n = max(1, Int(max(abs(x1 - x0), abs(y1 - y0)) / 3))
                for k in 0...n { samples.append((x0 + (x1 - x0) * Double(k) / Double(n), y0 + (y1 - y0) * Double(k) / Double(n))) }
                if s.steps { samples.append((x1, py(b.y))) }
            }
        }
        let corners = [(right - 8 - width, bottom - 8 - height), (right - 8 - width, top + 6), (left + 8, bottom - 8 - height), (left + 8, top + 6)]
        let ordered = legendAtBottom ? corners : [corners[1], corners[0], corners[3], corners[2]]
        func hidden(_ corner: (Int, Int)) -> Int {
            samples.filter { Double(corner.0) <= $0.0 && $0.0 <= Double(corner.0 + width) && Double(corner.1) <= $0.1 && $0.1 <= Double(corner.1 + height) }.count
        }
        let (x, y) = ordered.min { hidden($0) < hidden($1) }!
        canvas.fill(x: x - 4, y: y - 1, width: width + 4, height: height + 2, (255, 255, 255))
        for (i, s) in series.enumerated() {
            let rowY = y + i * rowHeight
            canvas.line(Double(x), Double(rowY + PlotFont.height / 2), Double(x + 16), Double(rowY + PlotFont.height / 2), s.color, thickness: 3)
            canvas.text(s.name, x: x + 22, y: rowY)
        }
    }

    /// About five round ticks over the range.
    static func ticks(_ range: ClosedRange<Double>, integer: Bool = false) -> [Double] {
        let span = range.upperBound - range.lowerBound
        guard span > 0 else { return [range.lowerBound] }
        let raw = span / 5, magnitude = pow(10, (log10(raw)).rounded(.down))
        var step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        if integer { step = max(1, step.rounded(.up)) }
        // Multiples of the step, rounded to 9 decimals so that 3 x 0.2 is 0.6.
        let first = Int((range.lowerBound / step - 1e-9).rounded(.up)), last = Int((range.upperBound / step + 1e-9).rounded(.down))
        return first <= last ? (first...last).map { (Double($0) * step * 1e9).rounded() / 1e9 } : []
    }

    /// The shortest of up to three decimals: 0.2, 0.25, 1, 10.
    static func label(_ value: Double) -> String {
        var text = String(format: "%.3f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }
}
