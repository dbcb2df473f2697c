import Foundation

/// What a file that is not a regular file is, for messages: uploads (media, subtitles) are
/// regular files only, since a FIFO, a device or a socket can block or never end.
public enum FileKind {
    /// "a folder", "a FIFO", "a character device", …; nil for a regular file.
    public static func nonRegular(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a folder"
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "a special file"
        }
    }
}
