import Foundation

/// One fuzz input: the bytes libFuzzer made. Answers 0 (libFuzzer's convention); a bug traps.
public typealias FuzzInput = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: FuzzInput
) -> Int32

/// Hands the command line to libFuzzer's driver with `input`, and exits with its status. SwiftPM gives every
/// executable its own entry point, so libFuzzer's `main` is not the one that runs: each target's main.swift calls this.
public func runFuzzer(_ input: FuzzInput) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(runFuzzerDriver(&argc, &argv, input))
}
