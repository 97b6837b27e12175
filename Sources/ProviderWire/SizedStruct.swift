/// Reads and writes fields of size-prefixed ABI structs only when they lie within the peer's declared size,
/// so that a struct allocated by an older peer is never written past its end.
public enum SizedStruct {
    /// Writes `value` into `base[keyPath]` if the field fits within `declaredSize` bytes.
    @inlinable
    public static func write<Root, Value>(
        _ base: UnsafeMutablePointer<Root>,
        declaredSize: UInt32,
        _ keyPath: WritableKeyPath<Root, Value>,
        _ value: Value
    ) {
        guard let offset = MemoryLayout<Root>.offset(of: keyPath),
            offset + MemoryLayout<Value>.size <= Int(declaredSize)
        else { return }
        (UnsafeMutableRawPointer(base) + offset).assumingMemoryBound(to: Value.self).pointee = value
    }

    /// Reads `base[keyPath]` if the field lies within `declaredSize` bytes, else `nil` (the peer predates the field).
    @inlinable
    public static func read<Root, Value>(
        _ base: UnsafePointer<Root>,
        declaredSize: UInt32,
        _ keyPath: KeyPath<Root, Value>
    ) -> Value? {
        guard let offset = MemoryLayout<Root>.offset(of: keyPath),
            offset + MemoryLayout<Value>.size <= Int(declaredSize)
        else { return nil }
        return (UnsafeRawPointer(base) + offset).assumingMemoryBound(to: Value.self).pointee
    }
}
