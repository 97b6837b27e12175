/// The Molecule Host release this code is (recorded in conformance reports and shown by `--version`).
public enum MoleculeHostVersion {
    public static let current = "0.3.0"
}
