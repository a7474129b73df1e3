import Foundation
import Testing
@testable import MedTrainKit

@Suite struct LabelTableTests {
    @Test func nihFindingLabelsBecomeFourteenColumns() throws {
        let table = try LabelTable.read(TrainFixtures.url("nih/Data_Entry_2017_v2020.csv"), spec: .nihChestXray14)
        #expect(table.entries.count == 20)
        #expect(table.labelNames == LabelTableSpec.nihFindings)
        let first = table.entries[0]  // 00000442_000.png: Cardiomegaly|Edema|Infiltration|Nodule, patient 442
        #expect(first.image == "00000442_000.png" && first.patient == "442" && first.row == 2)
        let positives = table.labelNames.enumerated().filter { first.labels[$0.offset] == 1 }.map(\.element)
        #expect(positives == ["Cardiomegaly", "Edema", "Infiltration", "Nodule"])
        let noFinding = try #require(table.entries.first { $0.image == "00001368_000.png" })
        #expect(noFinding.labels.allSatisfy { $0 == 0 } && noFinding.mask.allSatisfy { $0 == 1 })
        // `grep -c Atelectasis` on the fixture table: 6 rows.
        let atelectasis = table.entries.filter { $0.labels[0] == 1 }.count
        #expect(atelectasis == 6)
    }

    @Test func discoveredNamesAreSortedAndExcludeNoFinding() throws {
        let spec = LabelTableSpec(imageColumn: "Image Index", patientColumn: "Patient ID",
                                  labels: .delimited(column: "Finding Labels", separator: "|", labels: nil, noFinding: "No Finding"))
        let table = try LabelTable.read(TrainFixtures.url("nih/Data_Entry_2017_v2020.csv"), spec: spec)
        #expect(table.labelNames == table.labelNames.sorted())
        #expect(!table.labelNames.contains("No Finding"))
        #expect(Set(table.labelNames).isSubset(of: LabelTableSpec.nihFindings))
    }

    @Test func odirRowsAreImagesAndLabelsArePerPatient() throws {
        let table = try LabelTable.read(TrainFixtures.url("odir/full_df.csv"), spec: .odir5k)
        #expect(table.entries.count == 10)
        #expect(Set(table.entries.map(\.patient)) == ["1", "130", "178", "180", "225"])
        #expect(table.entries[0].image == "1_right.jpg")
        #expect(table.entries[0].labels == [1, 0, 0, 0, 0, 0, 0, 0])
        // 130: D and O, the same on both eyes' rows.
        let rows130 = table.entries.filter { $0.patient == "130" }
        #expect(rows130.count == 2 && rows130.allSatisfy { $0.labels == [0, 1, 0, 0, 0, 0, 0, 1] })
        #expect(Set(rows130.map(\.image)) == ["130_left.jpg", "130_right.jpg"])
    }

    @Test(arguments: UncertainLabelPolicy.allCases)
    func uncertainValuesFollowThePolicy(policy: UncertainLabelPolicy) throws {
        let csv = "image,patient,A,B\nx.png,p1,1,\ny.png,p1,-1,0\nz.png,p2,0.0,1.0\n"
        let spec = LabelTableSpec(imageColumn: "image", patientColumn: "patient", labels: .columns(names: ["A", "B"]), uncertain: policy)
        let table = try LabelTable.parse(csv: csv, spec: spec)
        let fill: Float = policy == .ones ? 1 : 0, kept: Float = policy == .mask ? 0 : 1
        #expect(table.entries.map(\.labels) == [[1, fill], [fill, 0], [0, 1]])
        #expect(table.entries.map(\.mask) == [[1, kept], [kept, 1], [1, 1]])
    }

    @Test func blankFindingCellIsUncertainForEveryLabel() throws {
        let csv = "Image Index,Finding Labels,Patient ID\na.png,,7\n"
        let table = try LabelTable.parse(csv: csv, spec: .nihChestXray14)
        #expect(table.entries[0].mask == [Float](repeating: 0, count: 14))
    }

    @Test func errorsNameTheRowAndColumn() {
        let spec = LabelTableSpec(imageColumn: "image", patientColumn: nil, labels: .columns(names: ["A"]))
        #expect(throws: LabelTableError.missingColumn("image", available: ["file", "A"])) {
            try LabelTable.parse(csv: "file,A\nx,1\n", spec: spec)
        }
        #expect(throws: LabelTableError.unknownValue(row: 3, column: "A", value: "yes")) {
            try LabelTable.parse(csv: "image,A\nx,1\ny,yes\n", spec: spec)
        }
        #expect(throws: LabelTableError.duplicateImage(row: 4, image: "x", firstRow: 2)) {
            try LabelTable.parse(csv: "image,A\nx,1\ny,0\nx,0\n", spec: spec)
        }
        #expect(throws: LabelTableError.unknownValue(row: 2, column: "Finding Labels", value: "Fracture")) {
            try LabelTable.parse(csv: "Image Index,Finding Labels,Patient ID\na.png,Mass|Fracture,1\n", spec: .nihChestXray14)
        }
        let message = LabelTableError.unknownValue(row: 3, column: "A", value: "yes").description
        #expect(message == "row 3, column \"A\": unknown value \"yes\"")
    }

    @Test func specRoundTripsThroughAConfigFile() throws {
        let json = """
        {"imageColumn": "Image Index", "patientColumn": "Patient ID", "uncertain": "ones",
         "labels": {"delimited": {"column": "Finding Labels", "separator": "|", "noFinding": "No Finding"}}}
        """
        let spec = try JSONDecoder().decode(LabelTableSpec.self, from: Data(json.utf8))
        #expect(spec.uncertain == .ones)
        #expect(spec.labels == .delimited(column: "Finding Labels", separator: "|", labels: nil, noFinding: "No Finding"))
        let odir = #"{"imageColumn": "filename", "patientColumn": "ID", "uncertain": "mask", "labels": {"columns": {"names": ["N", "D"]}}}"#
        #expect(try JSONDecoder().decode(LabelTableSpec.self, from: Data(odir.utf8)).labels == .columns(names: ["N", "D"]))
        let again = try JSONDecoder().decode(LabelTableSpec.self, from: JSONEncoder().encode(LabelTableSpec.odir5k))
        #expect(again == .odir5k)
    }
}
