/// Every case of the suite, in the order they run. Cases are added, never silently changed: bump ``suiteVersion``
/// when one is. Each case checks a sentence of docs/provider-abi.md; its id is stable and its profile says which
/// conformance claim it is part of.
public enum ContractCatalogue {
    /// The version recorded in every result; bump it whenever a case is added or its expectations change.
    public static let suiteVersion = "2.0.0"

    /// The cases in the order they run (the long durability cycles last).
    public static let cases: [ContractCase] = lifecycle + deadlines + files + logs + storage + plugins + pause + snapshots + diagnose + durability
}
