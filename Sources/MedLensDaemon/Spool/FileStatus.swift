import Glibc

/// `lstat` of one directory entry: never follows a link, so a symlink is seen as a symlink.
struct FileStatus: Equatable, Sendable {
    enum Kind: String, Sendable { case regular, directory, symlink, fifo, socket, device }
    var kind: Kind
    var size: Int64
    var modifiedNanos: Int64
    var device: UInt64

    static func of(_ path: String) -> FileStatus? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        let kind: Kind
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        case S_IFIFO: kind = .fifo
        case S_IFSOCK: kind = .socket
        default: kind = .device
        }
        return FileStatus(kind: kind, size: Int64(st.st_size),
                          modifiedNanos: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
                          device: UInt64(st.st_dev))
    }
}
