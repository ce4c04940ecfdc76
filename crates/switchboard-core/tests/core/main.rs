//! The core rules' tests, one binary: the phone test vectors and the settings' rules.

mod phone_vectors;
mod rules;
