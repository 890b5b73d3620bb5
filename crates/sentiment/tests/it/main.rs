//! Integration tests of `lia-sentiment`: the VADER port against Python reference scores.

mod vader_reference;
