//! Lia server binary (composition root).

fn main() {}
