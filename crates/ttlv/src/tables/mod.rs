//! Tag, enumeration and mask tables of KMIP 1.0–2.1.
mod generated;
pub(crate) struct VersionTable {
    pub major: u8,
    pub minor: u8,
    pub tags: &'static [(&'static str, u32)],
    pub enums: &'static [(&'static str, &'static [(&'static str, u32)])],
    pub masks: &'static [(&'static str, &'static [(&'static str, u32)])],
}
