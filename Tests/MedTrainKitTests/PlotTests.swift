import Foundation
import MedImaging
import Testing
@testable import MedTrainKit

@Suite struct PlotTests {
    static func pixel(_ canvas: Canvas, _ x: Int, _ y: Int) -> [UInt8] {
        let i = 3 * (y * canvas.width + x)
        return Array(canvas.pixels[i..<(i + 3)])
    }

    @Test func linesAreDrawnWhereTheyGoAndNowhereElse() {
        var canvas = Canvas(width: 40, height: 20)
        canvas.line(5, 10, 35, 10, (200, 0, 0), thickness: 2)
        #expect(Self.pixel(canvas, 20, 9) == [200, 0, 0] && Self.pixel(canvas, 20, 10) == [200, 0, 0])
        #expect(Self.pixel(canvas, 20, 5) == [255, 255, 255] && Self.pixel(canvas, 2, 10) == [255, 255, 255])
        // The edge pixels are blended, not jagged: partly covered pixels lie between the colours.
        var diagonal = Canvas(width: 40, height: 40)
        diagonal.line(0, 0, 40, 30, (0, 0, 0), thickness: 1.5)
        #expect(diagonal.pixels.contains { $0 > 0 && $0 < 255 })
    }

    @Test func textCoversItsBoxInBothDirections() {
        var canvas = Canvas(width: 120, height: 120)
        canvas.text("AUROC", x: 10, y: 10)
        let inside = (10..<(10 + 5 * PlotFont.width)).flatMap { x in (10..<(10 + PlotFont.height)).map { Self.pixel(canvas, x, $0) } }
        #expect(inside.contains { $0 != [255, 255, 255] })
        #expect(Self.pixel(canvas, 100, 100) == [255, 255, 255])
        var vertical = Canvas(width: 120, height: 120)
        vertical.text("AUROC", x: 60, y: 60, anchor: .center, vertical: true)
        // Turned a quarter: taller than wide.
        var xs = Set<Int>(), ys = Set<Int>()
        for y in 0..<120 { for x in 0..<120 where Self.pixel(vertical, x, y) != [255, 255, 255] { xs.insert(x); ys.insert(y) } }
        #expect((ys.max()! - ys.min()!) > 2 * (xs.max()! - xs.min()!))
    }

    @Test func aChartMapsItsDataIntoThePanel() throws {
        var canvas = Canvas(width: 450, height: 430)
        let chart = Chart(title: "ROC", xLabel: "1 - specificity", yLabel: "sensitivity", xRange: 0...1, yRange: 0...1,
                          series: [.init(name: "curve", points: [(0, 0), (0, 1), (1, 1)], color: (0, 0, 255))])
        chart.draw(into: &canvas, x: 0, y: 0, width: 450, height: 430)
        // The panel's data area: left 62, right 434, top 30, bottom 386; the curve runs up the left edge and
        // along the top.
        #expect(Self.pixel(canvas, 62, 200) == [0, 0, 255] && Self.pixel(canvas, 250, 30) == [0, 0, 255])
        #expect(Self.pixel(canvas, 250, 200) == [255, 255, 255])
        let png = try canvas.png()
        #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        let url = try TrainFixtures.scratch().appendingPathComponent("chart.png")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        try png.write(to: url)
        let read = try #require(ScanReader.read(url).volumes.first)
        #expect(read.shape.rows == 430 && read.shape.cols == 450 && read.shape.channels == 3)
    }

    @Test func ticksAreRound() {
        #expect(Chart.ticks(0...1) == [0, 0.2, 0.4, 0.6, 0.8, 1.0])
        #expect(Chart.ticks(1...30, integer: true) == [10, 20, 30])
        #expect(Chart.ticks(1...3, integer: true) == [1, 2, 3])
        #expect(Chart.ticks(0.45...1) == [0.6, 0.8, 1])
        #expect(Chart.label(0.25) == "0.25" && Chart.label(10) == "10" && Chart.label(0.6) == "0.6" && Chart.label(-0.0) == "0")
    }
}

@Suite struct ProgressLineTests {
    @Test func barAndEpochLines() {
        let line = ProgressLine.batch(epoch: 3, epochs: 20, batch: 60, batches: 240, loss: 0.34125, imagesPerSecond: 412.4, remaining: 245)
        #expect(line == "epoch 3/20 [#####...............] 60/240 loss 0.3412  412 img/s  ETA 4:05")
        let record = EpochRecord(epoch: 3, trainLoss: 0.34, validationLoss: 0.29, validationMAP: 0.951, validationMeanAUROC: nil,
                                 score: 0.951, learningRate: 1e-3, seconds: 12.34, imagesPerSecond: 315)
        #expect(ProgressLine.epoch(record, epochs: 20, best: true)
                == "epoch 3/20: train loss 0.3400, val loss 0.2900, val mAP 0.951, mean AUROC -, lr 1.0e-03 (12.3 s, 315 img/s) best")
        #expect(ProgressLine.duration(42) == "42s" && ProgressLine.duration(3723) == "1:02:03" && ProgressLine.duration(.nan) == "?")
    }
}
