import ProviderWire

extension FilePolicy {
    /// Why ``FilePolicy`` refuses a files verb, each reason with its one ABI status (``providerError``).
    public enum Violation: Error, Sendable, Hashable, ProviderErrorConvertible {
        /// A component of `path` (the prefix `link`) is a symbolic link.
        case link(path: String, link: String)
        /// `path` is a directory where a regular file is needed.
        case isDirectory(path: String)
        /// `path` is a fifo, socket or device where a regular file is needed.
        case notRegularFile(path: String)
        /// `path` is not a directory where one is needed.
        case notDirectory(path: String)
        /// `path` would be created under `file`, which is not a directory.
        case underFile(path: String, file: String)
        /// Nothing is at `path`.
        case notFound(path: String)

        public var providerError: ProviderError {
            switch self {
            case .link(let path, let link):
                .invalidArgument(
                    "\(path) passes through the symbolic link \(link); links in the files root are never followed (use the path the link points to)")
            case .isDirectory(let path): .invalidArgument("\(path) is a directory; read_file and write_file need a regular file")
            case .notRegularFile(let path): .invalidArgument("\(path) is not a regular file (a fifo, socket or device)")
            case .notDirectory(let path): .invalidArgument("\(path) is not a directory")
            case .underFile(let path, let file): .invalidArgument("\(path) cannot be created: \(file) is a file, not a directory")
            case .notFound(let path): .notFound("\(path.isEmpty ? "the files root" : path) not found")
            }
        }
    }
}
