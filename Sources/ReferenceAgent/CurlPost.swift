import CCurl
import Foundation

/// A blocking JSON POST with libcurl: no proxy, no redirects, 2 s to connect and 10 s in all. It blocks the calling
/// thread, so only the platform link's own thread calls it.
enum CurlPost {
    /// An HTTP answer: its status and (at most 1 MiB of) its body.
    struct Reply: Sendable {
        var status: Int
        var body: String
    }

    /// The request never got an HTTP answer (refused, timed out, reset).
    struct TransportError: Error, CustomStringConvertible {
        let description: String
    }

    /// The response body as libcurl delivers it.
    private final class Sink {
        var bytes: [UInt8] = []
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// POSTs `body` to `url` with `headers` (`Name: value` lines).
    static func send(_ body: Data, to url: String, headers: [String]) throws(TransportError) -> Reply {
        _ = globalInit
        guard let handle = curl_easy_init() else { throw TransportError(description: "curl_easy_init failed") }
        defer { curl_easy_cleanup(handle) }
        ccurl_setopt_string(handle, CURLOPT_URL, url)
        ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        ccurl_setopt_string(handle, CURLOPT_NOPROXY, "*")
        ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, 10_000)
        ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, 2_000)
        let sink = Sink()
        ccurl_setopt_write_function(handle) { data, size, count, context in
            guard let data, let context else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
            // Returning less than was offered makes libcurl fail the transfer: bounds what a peer can make us hold.
            guard sink.bytes.count + size * count <= 1 << 20 else { return 0 }
            sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }
        ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(sink).toOpaque())
        var list: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(list) }
        for header in headers { list = curl_slist_append(list, header) }
        ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        var payload = [UInt8](body)
        let code = payload.withUnsafeMutableBytes { buffer in
            ccurl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, buffer.count)
            ccurl_setopt_pointer(handle, CURLOPT_POSTFIELDS, buffer.baseAddress)
            return curl_easy_perform(handle)
        }
        guard code == CURLE_OK else { throw TransportError(description: String(cString: curl_easy_strerror(code))) }
        var status = 0
        ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return Reply(status: status, body: String(decoding: sink.bytes, as: UTF8.self))
    }
}
