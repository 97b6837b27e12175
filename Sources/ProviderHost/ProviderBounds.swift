/// The sizes the Host accepts from a provider, checked before anything is read.
///
/// A provider that answers more than these is answered with a clear error (INTERNAL for a result, a refusal at load),
/// never trusted: a `body_len` or `struct_size` is only a number the provider wrote.
public enum ProviderBounds {
    /// The largest response body (`mp_result.body_len`), bytes.
    public static let maxBodyBytes = 64 << 20
    /// The longest error message read from `mp_result.message`; a longer one is cut here and says so.
    public static let maxMessageBytes = 64 << 10
    /// The largest event accepted by `emit_event`; a larger one is dropped with a warning.
    public static let maxEventBytes = 1 << 20
    /// The longest log line accepted by `log`; a longer one is cut.
    public static let maxLogLineBytes = 64 << 10
    /// The largest manifest (`manifest_json`), bytes.
    public static let maxManifestBytes = 256 << 10
    /// The largest function table a provider may declare (`mp_vtable.struct_size`): room for hundreds of appended
    /// verbs, far below anything that would make the Host read unmapped memory.
    public static let maxTableBytes = 4096
    /// The largest frame between the Host and a runner process: a body plus its envelope.
    public static let maxFrameBytes = maxBodyBytes + maxMessageBytes + 4096
}
