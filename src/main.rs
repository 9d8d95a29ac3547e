//! The `kaohe` binary.
fn main() {}
