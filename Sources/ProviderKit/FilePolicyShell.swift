import ProviderWire

extension FilePolicy {
    /// The exit statuses a gated shell script uses to report an observation the policy refuses (60…65). A gated
    /// script prints `DEPTH SIZE` on stdout before such an exit; ``observation(exitStatus:output:)`` reads them back.
    public enum ShellExit: Int, Sendable, CaseIterable {
        case absent = 60
        case blocked = 61
        case link = 62
        case file = 63
        case directory = 64
        case other = 65

        var kind: String {
            switch self {
            case .absent: "absent"
            case .blocked: "blocked"
            case .link: "link"
            case .file: "file"
            case .directory: "directory"
            case .other: "other"
            }
        }
    }

    /// POSIX sh functions for a provider whose files are behind a shell (EC2 over SSH): the same observation as
    /// ``observe(_:stat:)``, and the gate that applies ``check(_:_:path:)`` before a script acts.
    ///
    /// `molecule_walk ROOT COMPONENT...` sets `MW_PATH` (ROOT and the components walked), `MW_KIND` (`absent`,
    /// `blocked`, `link`, `file`, `directory`, `other`), `MW_DEPTH` and `MW_SIZE`, never following a link (`test -L`
    /// comes first at every component). A missing ROOT is `absent`. ``shellGate(_:path:)`` ends the script unless the
    /// operation is permitted.
    public static let shellFunctions = #"""
        molecule_walk() {
          MW_PATH=$1; shift; MW_KIND=directory; MW_DEPTH=0; MW_SIZE=0
          [ -d "$MW_PATH" ] || { MW_KIND=absent; return 0; }
          while [ $# -gt 0 ]; do
            MW_PATH=$MW_PATH/$1; shift; MW_DEPTH=$((MW_DEPTH + 1))
            if [ -L "$MW_PATH" ]; then MW_KIND=link; return 0; fi
            if [ ! -e "$MW_PATH" ]; then MW_KIND=absent; return 0; fi
            if [ -d "$MW_PATH" ]; then MW_KIND=directory; elif [ -f "$MW_PATH" ]; then MW_KIND=file; else MW_KIND=other; fi
            if [ $# -gt 0 ] && [ "$MW_KIND" != directory ]; then MW_KIND=blocked; return 0; fi
          done
          if [ "$MW_KIND" = file ]; then MW_SIZE=$(wc -c < "$MW_PATH" | tr -d ' '); fi
          return 0
        }
        molecule_refuse() { printf '%s %s' "$MW_DEPTH" "$MW_SIZE"; exit "$1"; }

        """#

    /// A shell line that walks `path` below `root` (a shell expression, e.g. `"$ROOT"`) and exits with a ``ShellExit``
    /// unless `operation` is permitted on what it finds. `quote` makes one shell word of a path component.
    public static func shellGate(_ operation: Operation, path: RelativePath, root: String, quote: (String) -> String) -> String {
        let refused = ShellExit.allCases.filter { exit in
            let sample: Observation =
                switch exit {
                case .absent: .absent
                case .blocked: .blocked(depth: 1)
                case .link: .link(depth: 1)
                case .file: .file(size: 0)
                case .directory: .directory
                case .other: .other
                }
            do throws(Violation) {
                try check(operation, sample, path: path)
                return false
            } catch {
                return true
            }
        }
        let arms = refused.map { "\($0.kind)) molecule_refuse \($0.rawValue);;" }.joined(separator: " ")
        let walk = (["molecule_walk", root] + path.components.map(quote)).joined(separator: " ")
        return "\(walk); case \"$MW_KIND\" in \(arms) *) ;; esac"
    }

    /// What a gated script observed, from its exit status and stdout; `nil` when the status is not a ``ShellExit``.
    public static func observation(exitStatus: Int, output: [UInt8]) -> Observation? {
        guard let exit = ShellExit(rawValue: exitStatus) else { return nil }
        let fields = String(decoding: output.prefix(64), as: UTF8.self).split(separator: " ")
        let depth = fields.first.flatMap { Int($0) } ?? 0
        let size = fields.count > 1 ? Int64(fields[1]) ?? 0 : 0
        switch exit {
        case .absent: return .absent
        case .blocked: return .blocked(depth: depth)
        case .link: return .link(depth: depth)
        case .file: return .file(size: size)
        case .directory: return .directory
        case .other: return .other
        }
    }
}
