//! KMIP TTLV codec.
#![deny(unsafe_code)]
#![allow(dead_code)]
mod tables;
