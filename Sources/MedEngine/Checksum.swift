import Crypto
import Foundation

/// SHA-256 in lower-case hex: how packages, caches and experiment logs name the bytes they depend on.
public enum Checksum {
    public static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
