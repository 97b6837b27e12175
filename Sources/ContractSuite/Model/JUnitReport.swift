import Foundation

/// Renders a contract report as JUnit XML (one `testsuite`, one `testcase` per case).
public enum JUnitReport {
    public static func render(_ report: ContractReport) -> String {
        let name = "molecule-contract.\(report.provenance.providerName)"
        let failures = report.cases.filter { $0.outcome == .failed }.count
        let skipped = report.cases.filter { $0.outcome == .notApplicable || $0.outcome == .notRun }.count
        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        xml +=
            #"<testsuites name="\#(escape(name))" tests="\#(report.cases.count)" failures="\#(failures)" skipped="\#(skipped)" time="\#(seconds(report.durationMs))">"#
            + "\n"
        xml +=
            #"  <testsuite name="\#(escape(name))" tests="\#(report.cases.count)" failures="\#(failures)" errors="0" skipped="\#(skipped)" time="\#(seconds(report.durationMs))" timestamp="\#(escape(report.startedAt))">"#
            + "\n"
        xml += "    <properties>\n"
        let properties = [
            ("provider.version", report.provenance.providerVersion), ("provider.sha256", report.provenance.librarySHA256),
            ("abi.negotiated", "\(report.provenance.abiNegotiated)"), ("suite.version", report.provenance.suiteVersion),
        ]
        for (key, value) in properties { xml += #"      <property name="\#(key)" value="\#(escape(value))"/>"# + "\n" }
        xml += "    </properties>\n"
        for result in report.cases {
            let open = #"    <testcase classname="\#(escape(name))" name="\#(escape(result.id))" time="\#(seconds(result.durationMs))""#
            switch result.outcome {
            case .passed:
                xml += open + "/>\n"
            case .failed:
                xml += open + ">\n" + #"      <failure message="\#(escape(result.message ?? "failed"))"/>"# + "\n    </testcase>\n"
            case .notApplicable, .notRun:
                xml +=
                    open + ">\n" + #"      <skipped message="\#(escape("\(result.outcome.rawValue): \(result.message ?? "")"))"/>"#
                    + "\n    </testcase>\n"
            }
        }
        xml += "  </testsuite>\n</testsuites>\n"
        return xml
    }

    static func seconds(_ milliseconds: Int) -> String { String(format: "%.3f", Double(milliseconds) / 1000) }

    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            default:
                // XML 1.0 forbids most control characters even when escaped.
                if scalar.value < 0x20 && scalar != "\t" { out += "?" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
