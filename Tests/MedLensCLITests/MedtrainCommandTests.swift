import Foundation
import Testing

/// Drives the real `medtrain` binary: train, kill and resume, evaluate, publish, rollback, list.
@Suite(.serialized) struct MedtrainCommandTests {
    typealias CLI = MedlensCommandTests

    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("medtrain-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A training config for the balanced PneumoniaMNIST fixture (128 train, 64 val, 32 test images).
    static func writeConfig(in folder: URL, epochs: Int = 6, version: String = "1") throws -> URL {
        let npz = CLI.fixture("train/medmnist/pneumoniamnist_balanced.npz")
        let json = """
        {"name": "chest-pneumonia", "version": "\(version)", "architecture": "small_cnn", "width": 8,
         "data": {"source": {"medMNIST": {"npz": "\(npz)", "split": "train", "labelNames": ["pneumonia"]}}},
         "input": {"size": [28, 28], "channels": 1, "channelPolicy": "keep", "interpolation": "area",
                   "intensity": {"steps": [{"op": "min_max"}]}},
         "epochs": \(epochs), "batchSize": 16, "learningRate": 0.003, "earlyStopping": null, "bootstrapResamples": 100, "seed": 5,
         "augmentation": {"rotationDegrees": 5, "minScale": 1, "maxScale": 1, "translation": 0.03, "brightness": 0.05,
                          "contrast": 0, "horizontalFlip": false}}
        """
        let url = folder.appendingPathComponent("train-\(version).json")
        try Data(json.utf8).write(to: url)
        return url
    }

    static func train(_ config: URL, out: URL, resume: Bool = false) throws -> (status: Int32, stdout: Data, stderr: String) {
        try CLI.run(["train", "--config", config.path, "--out", out.path, "--no-cache"] + (resume ? ["--resume"] : []), tool: "medtrain")
    }

    static func weightsSHA(_ run: URL) throws -> String {
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("model/model.json"))) as? [String: Any])
        return try #require(manifest["weightsSHA256"] as? String)
    }

    /// Starts a training run, waits for its first checkpoint, then sends `signal`; returns the exit status.
    static func interrupt(_ config: URL, out: URL, with signal: Int32) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = CLI.binary("medtrain")
        process.arguments = ["train", "--config", config.path, "--out", out.path, "--no-cache"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        let checkpoint = out.appendingPathComponent("checkpoint.safetensors")
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: checkpoint.path) && process.isRunning && Date() < deadline { usleep(5_000) }
        #expect(process.isRunning, "the run ended before it could be interrupted")
        kill(process.processIdentifier, signal)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stderr)
    }

    /// A run killed (SIGKILL) after its first checkpoint, and one stopped by SIGTERM, both resumed with
    /// --resume, end with the weights of an uninterrupted run with the same seed.
    @Test func killedAndStoppedRunsResumeToTheSameWeights() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = try Self.writeConfig(in: folder, epochs: 8)
        let reference = folder.appendingPathComponent("reference")
        let uninterrupted = try Self.train(config, out: reference)
        #expect(uninterrupted.status == 0, "\(uninterrupted.stderr)")
        #expect(uninterrupted.stderr.contains("epoch 8/8") && uninterrupted.stderr.contains("validation: mAP"))

        let killed = folder.appendingPathComponent("killed")
        let k = try Self.interrupt(config, out: killed, with: SIGKILL)
        #expect(k.status == SIGKILL)
        #expect(!FileManager.default.fileExists(atPath: killed.appendingPathComponent("model").path))
        let refused = try Self.train(config, out: killed)
        #expect(refused.status != 0 && refused.stderr.contains("--resume"))
        let resumed = try Self.train(config, out: killed, resume: true)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming at epoch"))
        #expect(try Self.weightsSHA(killed) == (try Self.weightsSHA(reference)))

        let stopped = folder.appendingPathComponent("stopped")
        let s = try Self.interrupt(config, out: stopped, with: SIGTERM)
        #expect(s.status == 128 + SIGTERM, "\(s.stderr)")
        #expect(s.stderr.contains("interrupted at epoch") && s.stderr.contains("--resume"))
        #expect(try Self.train(config, out: stopped, resume: true).status == 0)
        #expect(try Self.weightsSHA(stopped) == (try Self.weightsSHA(reference)))

        // The experiment log of the killed run: start, epochs, resume, more epochs, finished, in one run id.
        let events = try String(contentsOf: killed.appendingPathComponent("experiment.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(events.first?["event"] as? String == "start" && events.last?["event"] as? String == "finished")
        #expect(events.contains { $0["event"] as? String == "resume" })
        #expect(Set(events.compactMap { $0["run"] as? String }).count == 1)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"), "needs systemd-analyze"))
    func theRetrainingUnitsVerify() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        for unit in ["medtrain.service", "medtrain.timer"] {
            try FileManager.default.copyItem(at: CLI.repository.appendingPathComponent("systemd/\(unit)"), to: folder.appendingPathComponent(unit))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-analyze")
        process.arguments = ["verify", "--man=no", folder.appendingPathComponent("medtrain.timer").path, folder.appendingPathComponent("medtrain.service").path]
        let err = Pipe()
        process.standardError = err
        try process.run()
        let messages = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0 && messages.isEmpty, "\(messages)")
    }

    @Test func evaluateScoresAPackageWithItsThresholds() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = folder.appendingPathComponent("run")
        #expect(try Self.train(Self.writeConfig(in: folder, epochs: 3), out: run).status == 0)
        let report = folder.appendingPathComponent("eval/val.json")
        let evaluated = try CLI.run(["evaluate", "--model", run.appendingPathComponent("model").path,
                                     "--data", CLI.fixture("train/medmnist/pneumoniamnist_balanced.npz"),
                                     "--split", "val", "--report", report.path, "--bootstrap", "100", "--seed", "5", "--no-cache"], tool: "medtrain")
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as? [String: Any])
        let result = try #require(json["result"] as? [String: Any])
        let labels = try #require((result["evaluation"] as? [String: Any])?["labels"] as? [[String: Any]])
        // The same model, data and thresholds as the training report's validation section.
        let training = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("report.json"))) as? [String: Any])
        let trainingLabels = try #require(((training["validation"] as? [String: Any])?["evaluation"] as? [String: Any])?["labels"] as? [[String: Any]])
        for key in ["auroc", "averagePrecision", "threshold", "sensitivity", "specificity", "brier"] {
            #expect((labels[0][key] as? Double) == (trainingLabels[0][key] as? Double), "\(key)")
        }
        #expect(result["samples"] as? Int == 64)
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("eval/val.md").path))
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("eval/val-plots/validation-pneumonia.png").path))
        // Without --data: the package's own training data (its provenance); the test part too.
        let test = try CLI.run(["evaluate", "--model", run.appendingPathComponent("model").path, "--split", "test",
                                "--report", folder.appendingPathComponent("eval/test.json").path, "--no-cache"], tool: "medtrain")
        #expect(test.status == 0, "\(test.stderr)")
        #expect(String(decoding: test.stdout, as: UTF8.self).contains("on 32 test samples"))
        // Labels that do not match the model are refused with both lists.
        let wrong = try CLI.run(["evaluate", "--model", run.appendingPathComponent("model").path, "--data", CLI.fixture("train/kermany/val"),
                                 "--split", "train", "--report", folder.appendingPathComponent("eval/wrong.json").path, "--no-cache"], tool: "medtrain")
        #expect(wrong.status != 0 && wrong.stderr.contains("the data has labels"))
    }

    @Test func publishRefusesAWorseModelAcceptsABetterOneAndRollsBack() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = folder.appendingPathComponent("models").path
        // v1: one epoch; v2: eight epochs (better); v4 below: a learning rate of 1e-9 (worse: practically untrained).
        for (version, epochs) in [("1", 1), ("2", 8)] {
            #expect(try Self.train(Self.writeConfig(in: folder, epochs: epochs, version: version), out: folder.appendingPathComponent("v\(version)")).status == 0)
        }
        let data = ["--data", CLI.fixture("train/medmnist/pneumoniamnist_balanced.npz"), "--no-cache"]
        func publish(_ package: String, _ extra: [String] = []) throws -> (status: Int32, decision: [String: Any], stderr: String) {
            let r = try CLI.run(["publish", package, "--store", store] + data + extra, tool: "medtrain")
            return (r.status, (try? JSONSerialization.jsonObject(with: r.stdout) as? [String: Any]) ?? [:], r.stderr)
        }
        let first = try publish(folder.appendingPathComponent("v1/model").path)
        #expect(first.status == 0 && first.decision["outcome"] as? String == "published", "\(first.stderr)")
        let better = try publish(folder.appendingPathComponent("v2/model").path)
        #expect(better.status == 0 && better.decision["outcome"] as? String == "published", "\(better.stderr)")
        #expect((better.decision["candidateScore"] as? Double ?? 0) >= (better.decision["championScore"] as? Double ?? 1) - 0.01)

        // The flags override the configuration: the v1 recipe as version 4 with a learning rate of 1e-9.
        let fresh = folder.appendingPathComponent("untrained")
        let untrained = try CLI.run(["train", "--config", folder.appendingPathComponent("train-1.json").path, "--version", "4", "--lr", "1e-9",
                                     "--out", fresh.path, "--no-cache"], tool: "medtrain")
        #expect(untrained.status == 0, "\(untrained.stderr)")
        let refused = try publish(fresh.appendingPathComponent("model").path)
        #expect(refused.status == 3 && refused.decision["outcome"] as? String == "refused", "\(refused.stderr)")
        #expect(refused.stderr.contains("regression"))

        let listed = try CLI.run(["list", "--store", store, "--json"], tool: "medtrain")
        let rows = try #require(try JSONSerialization.jsonObject(with: listed.stdout) as? [[String: Any]])
        #expect(rows.first?["current"] as? String == "2" && rows.first?["versions"] as? [String] == ["1", "2"])

        let rolled = try CLI.run(["rollback", "chest-pneumonia", "--store", store], tool: "medtrain")
        #expect(rolled.status == 0 && String(decoding: rolled.stdout, as: UTF8.self).contains("current is 1 (was 2)"))
        let plain = try CLI.run(["list", "--store", store], tool: "medtrain")
        #expect(String(decoding: plain.stdout, as: UTF8.self).contains("chest-pneumonia  current 1  versions 1, 2"))
        let forced = try publish(fresh.appendingPathComponent("model").path, ["--force"])
        #expect(forced.status == 0 && forced.decision["outcome"] as? String == "published")
    }
}
