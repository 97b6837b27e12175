import Foundation
import ProviderHTTP
import ProviderKit
import ProviderWire

/// The EC2 Query API (version 2016-11-15) over HTTPS, signed with SigV4 by libcurl (`CURLOPT_AWS_SIGV4`).
///
/// Throttling (`RequestLimitExceeded`, …) and 5xx answers are retried with exponential backoff, bounded in attempts and
/// by the call's deadline, then answered UNAVAILABLE. Any other EC2 error keeps its code and message. A non-2xx answer
/// is never success.
struct EC2Client: Sendable {
    static let apiVersion = "2016-11-15"

    let endpoint: String
    let instanceConnectEndpoint: String
    let region: String
    let credentials: AWSCredentials
    let retry: RetryPolicy

    /// One Query API parameter list, in order (`Filter.1.Name`, …).
    typealias Parameters = [(String, String)]

    /// Actions whose repetition can create a second resource or fail on the first one's effect: after a 5xx or a
    /// transport failure (the request may have been executed) they are not resent; throttling (refused before
    /// execution) is retried for every action. RunInstances and CreateVolume carry a ClientToken and are safe.
    static let nonIdempotentActions: Set<String> = ["CreateImage", "AttachVolume", "CreateSnapshot"]

    /// Calls `action` and answers the parsed XML document of a 2xx answer; any failure is its ABI error.
    @discardableResult
    func call(_ action: String, _ parameters: Parameters = [], context: CallContext) throws(ProviderError) -> XMLNode {
        do throws(EC2Error) {
            return try attempt(action, parameters, context: context)
        } catch {
            throw error.providerError
        }
    }

    /// ``call(_:_:context:)`` for a caller that decides on EC2's answer: a failure keeps its parsed `<Code>`
    /// (``EC2Failure/reason``).
    @discardableResult
    func attempt(_ action: String, _ parameters: Parameters = [], context: CallContext) throws(EC2Error) -> XMLNode {
        var form = "Action=\(action.queryEscaped)&Version=\(Self.apiVersion)"
        for (key, value) in parameters { form += "&\(key.queryEscaped)=\(value.queryEscaped)" }
        let request = CurlRequest(
            method: "POST", url: endpoint, headers: ["Content-Type: application/x-www-form-urlencoded; charset=utf-8"] + credentials.tokenHeaders,
            body: Array(form.utf8), awsSigV4: (parameter: "aws:amz:\(region):ec2", userPassword: credentials.userPassword), timeoutMs: 30_000
        )
        let response = try send(request, what: action, idempotent: !Self.nonIdempotentActions.contains(action), context: context)
        do throws(ProviderError) {
            return try XMLNode.parse(response.body, what: action)
        } catch {
            throw EC2Error(
                failure: EC2Failure(code: "MalformedAnswer", message: error.message, httpStatus: response.status), action: action, attempts: 1,
                passing: error)
        }
    }

    /// Calls a paginated `Describe*` action, following `NextToken` for at most `maxPages` pages.
    func callPaged(_ action: String, _ parameters: Parameters = [], maxPages: Int = 100, context: CallContext) throws(ProviderError) -> [XMLNode] {
        var pages: [XMLNode] = []
        var nextToken: String?
        repeat {
            let page = try call(action, parameters + (nextToken.map { [("NextToken", $0)] } ?? []), context: context)
            pages.append(page)
            nextToken = page.value("nextToken")
        } while nextToken != nil && pages.count < maxPages
        return pages
    }

    /// Calls an AWS JSON 1.1 API (`X-Amz-Target`), e.g. EC2 Instance Connect's `SendSSHPublicKey`.
    func callJSON(service: String, target: String, _ body: JSONValue, context: CallContext) throws(ProviderError) -> JSONValue? {
        let payload: [UInt8]
        do { payload = try WireCoding.encode(body) } catch { throw .internal("cannot encode the \(target) request: \(error)") }
        let request = CurlRequest(
            method: "POST", url: instanceConnectEndpoint,
            headers: ["Content-Type: application/x-amz-json-1.1", "X-Amz-Target: \(target)"] + credentials.tokenHeaders,
            body: payload, awsSigV4: (parameter: "aws:amz:\(region):\(service)", userPassword: credentials.userPassword),
            timeoutMs: 30_000
        )
        do throws(EC2Error) {
            let response = try send(request, what: target, idempotent: true, context: context)
            return try? WireCoding.decode(JSONValue.self, from: response.body)
        } catch {
            throw error.providerError
        }
    }

    /// Sends with bounded retries of retryable answers; maps every failure onto the taxonomy.
    private func send(_ request: CurlRequest, what: String, idempotent: Bool, context: CallContext) throws(EC2Error) -> CurlResponse {
        var attempt = 0
        while true {
            attempt += 1
            let failure: EC2Failure
            do throws(ProviderError) {
                let response = try CurlTransport.perform(request, backend: "EC2 endpoint \(request.url) (\(what))", context: context)
                if (200..<300).contains(response.status) { return response }
                failure = EC2Failure(response: response)
            } catch let error where error.status == .unavailable {
                failure = EC2Failure(code: "TransportError", message: error.message, httpStatus: 0)
            } catch {
                throw EC2Error(
                    failure: EC2Failure(code: "Transport", message: error.message, httpStatus: 0), action: what, attempts: attempt, passing: error)
            }
            let delay = retry.delayMs(afterAttempt: attempt)
            let retryable = failure.isThrottling || (idempotent && failure.isRetryable)
            guard retryable, attempt < retry.maxAttempts, delay < context.remainingMilliseconds else {
                throw EC2Error(failure: failure, action: what, attempts: attempt)
            }
            context.log(.warning, "\(what): \(failure.code) (attempt \(attempt) of \(retry.maxAttempts)); retrying in \(delay) ms")
            usleep(useconds_t(delay * 1000))
        }
    }
}

/// Where the provider's AWS credentials come from: its configuration, else the standard environment variables.
struct AWSCredentials: Sendable {
    var accessKeyId: String
    var secretAccessKey: String
    var sessionToken: String?

    var userPassword: String { "\(accessKeyId):\(secretAccessKey)" }
    var tokenHeaders: [String] { sessionToken.map { ["X-Amz-Security-Token: \($0)"] } ?? [] }
}

/// Exponential backoff: `baseDelayMs · 2^(attempt-1)`, capped, with up to 20 % jitter.
struct RetryPolicy: Sendable, Decodable {
    var maxAttempts: Int = 4
    var baseDelayMs: Int = 200
    var maxDelayMs: Int = 3000

    enum CodingKeys: String, CodingKey {
        case maxAttempts = "max_attempts"
        case baseDelayMs = "base_delay_ms"
        case maxDelayMs = "max_delay_ms"
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxAttempts = max(1, min(try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? 4, 10))
        baseDelayMs = min(60_000, max(1, try c.decodeIfPresent(Int.self, forKey: .baseDelayMs) ?? 200))
        maxDelayMs = min(60_000, max(baseDelayMs, try c.decodeIfPresent(Int.self, forKey: .maxDelayMs) ?? 3000))
    }

    func delayMs(afterAttempt attempt: Int) -> Int {
        let exponential = min(maxDelayMs, baseDelayMs << min(attempt - 1, 16))
        return exponential + Int.random(in: 0...(exponential / 5))
    }
}

/// An EC2 error answer (`<Response><Errors><Error><Code>…`) or a transport failure.
struct EC2Failure: Sendable {
    var code: String
    var message: String
    var httpStatus: Int

    init(code: String, message: String, httpStatus: Int) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
    }

    init(response: CurlResponse) {
        httpStatus = response.status
        if let document = try? XMLNode.parse(response.body, what: "error"), let error = document.at("Errors", "Error") {
            code = error.value("Code") ?? "HTTP\(response.status)"
            message = error.value("Message") ?? ""
        } else if let json = try? WireCoding.decode(JSONValue.self, from: response.body) {
            code = (json["__type"]?.stringValue ?? "HTTP\(response.status)").components(separatedBy: "#").last ?? "HTTP\(response.status)"
            message = json["message"]?.stringValue ?? json["Message"]?.stringValue ?? ""
        } else {
            code = "HTTP\(response.status)"
            message = String(response.text.prefix(300))
        }
    }

    static let throttlingCodes: Set<String> = [
        "RequestLimitExceeded", "Throttling", "ThrottlingException", "RequestThrottled", "RequestThrottledException",
        "TooManyRequestsException", "EC2ThrottledException",
    ]
    static let unavailableCodes: Set<String> = ["InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable", "TransportError"]
    static let authenticationCodes: Set<String> = [
        "AuthFailure", "UnauthorizedOperation", "InvalidClientTokenId", "SignatureDoesNotMatch", "OptInRequired", "Blocked",
        "AccessDeniedException", "AccessDenied", "ExpiredToken",
    ]
    static let quotaCodes: Set<String> = [
        "InsufficientInstanceCapacity", "InstanceLimitExceeded", "VcpuLimitExceeded", "VolumeLimitExceeded", "MaxSpotInstanceCountExceeded",
        "InsufficientAddressCapacity", "ResourceLimitExceeded",
    ]
    static let stateCodes: Set<String> = [
        "IncorrectInstanceState", "IncorrectState", "VolumeInUse", "InvalidVolume.ZoneMismatch", "UnsupportedHibernationConfiguration",
    ]

    /// What an EC2 answer means, from its `<Code>` (and HTTP status): the provider decides on this, never on text.
    enum Reason: Sendable, Hashable {
        /// Refused before execution (throttling): safe to resend any action.
        case throttled
        /// EC2 or the connection failed (5xx, an internal error, a transport failure).
        case unavailable
        case notFound
        case unauthenticated
        case quotaExceeded
        /// The resource is in the wrong state for the action (IncorrectInstanceState, VolumeInUse, …).
        case incorrectState
        /// A ClientToken was used before with other parameters (`IdempotentParameterMismatch`).
        case idempotentParameterMismatch
        case invalidParameter
        /// A code this provider does not know.
        case unrecognised
    }

    var reason: Reason {
        if Self.throttlingCodes.contains(code) { return .throttled }
        if Self.unavailableCodes.contains(code) || httpStatus >= 500 { return .unavailable }
        if code.hasSuffix(".NotFound") || (code.hasPrefix("InvalidAMIID") && code.hasSuffix(".Malformed")) { return .notFound }
        if Self.authenticationCodes.contains(code) { return .unauthenticated }
        if Self.quotaCodes.contains(code) { return .quotaExceeded }
        if Self.stateCodes.contains(code) { return .incorrectState }
        if code == "IdempotentParameterMismatch" { return .idempotentParameterMismatch }
        if code.hasPrefix("InvalidParameter") || code.hasPrefix("MissingParameter") || code.hasSuffix(".Malformed") || code == "ValidationError"
            || code == "InvalidArgsException"
        {
            return .invalidParameter
        }
        return .unrecognised
    }

    /// Refused before execution: safe to resend any action.
    var isThrottling: Bool { reason == .throttled }

    var isRetryable: Bool { reason == .throttled || reason == .unavailable }

    /// The ABI error: the EC2 code and message, with the HTTP status as the native code.
    func providerError(action: String, attempts: Int) -> ProviderError {
        let text = "\(action): EC2 answered \(code)\(httpStatus > 0 ? " (HTTP \(httpStatus))" : "")\(message.isEmpty ? "" : ": \(message)")"
        let native = Int32(httpStatus)
        switch reason {
        case .throttled, .unavailable:
            return .unavailable(attempts > 1 ? "\(text) — gave up after \(attempts) attempts" : text, nativeCode: native)
        case .notFound: return .notFound(text, nativeCode: native)
        case .unauthenticated: return .unauthenticated(text, nativeCode: native)
        case .quotaExceeded: return .quotaExceeded(text, nativeCode: native)
        case .incorrectState, .idempotentParameterMismatch: return .conflict(text, nativeCode: native)
        case .invalidParameter: return .invalidArgument(text)
        case .unrecognised: return .internal(text, nativeCode: native)
        }
    }
}

/// A failed EC2 call: the answer (its ``EC2Failure/reason``), the action and how often it was tried. Its ABI error is
/// ``EC2Failure/providerError(action:attempts:)``, or the transport's own error when the call never got an answer.
struct EC2Error: Error, Sendable, ProviderErrorConvertible {
    var failure: EC2Failure
    var action: String
    var attempts: Int
    /// An error to pass on as it is (a deadline that ran out while calling).
    var passing: ProviderError?

    init(failure: EC2Failure, action: String, attempts: Int, passing: ProviderError? = nil) {
        self.failure = failure
        self.action = action
        self.attempts = attempts
        self.passing = passing
    }

    var providerError: ProviderError { passing ?? failure.providerError(action: action, attempts: attempts) }
}
