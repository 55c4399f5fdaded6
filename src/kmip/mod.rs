//! Typed KMIP messages (1.0–1.4, 2.0–2.1) over the TTLV tree of [`crate::ttlv`].
