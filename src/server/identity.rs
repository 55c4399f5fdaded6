//! The client identity from its (already verified) certificate, as `[tls] identity` says: the
//! subject CN, the whole subject DN (RFC 4514 string), the first DNS SAN or the first e-mail
//! SAN. A certificate without the chosen name is refused: no anonymous clients.

use x509_parser::extensions::GeneralName;

use crate::config::IdentitySource;
use crate::service::Identity;

/// Why no identity could be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("the client presented no certificate")]
    NoCertificate,
    #[error("the client certificate cannot be parsed")]
    Unparsable,
    #[error(
        "the client certificate has no {0} (set [tls] identity to a name its certificates carry)"
    )]
    Missing(&'static str),
}

/// Reads the identity from the leaf certificate's DER.
pub fn identity(der: &[u8], source: IdentitySource) -> Result<Identity, IdentityError> {
    let (_, cert) =
        x509_parser::parse_x509_certificate(der).map_err(|_| IdentityError::Unparsable)?;
    let san = |want_dns: bool| -> Option<String> {
        let ext = cert.subject_alternative_name().ok().flatten()?;
        ext.value
            .general_names
            .iter()
            .find_map(|n| match (n, want_dns) {
                (GeneralName::DNSName(d), true) | (GeneralName::RFC822Name(d), false) => {
                    Some((*d).to_owned())
                }
                _ => None,
            })
    };
    let name = match source {
        IdentitySource::Cn => cert
            .subject()
            .iter_common_name()
            .find_map(|cn| cn.as_str().ok().map(str::to_owned))
            .ok_or(IdentityError::Missing("subject CN"))?,
        IdentitySource::Dn => {
            let dn = cert.subject().to_string();
            if dn.is_empty() {
                return Err(IdentityError::Missing("subject DN"));
            }
            dn
        }
        IdentitySource::SanDns => {
            san(true).ok_or(IdentityError::Missing("DNS subject alternative name"))?
        }
        IdentitySource::SanEmail => {
            san(false).ok_or(IdentityError::Missing("e-mail subject alternative name"))?
        }
    };
    if name.is_empty() {
        return Err(IdentityError::Missing("non-empty name"));
    }
    Ok(Identity::new(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SanType};

    fn cert(cn: Option<&str>, sans: Vec<SanType>) -> Vec<u8> {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "Example");
        if let Some(cn) = cn {
            dn.push(DnType::CommonName, cn);
        }
        p.distinguished_name = dn;
        p.subject_alt_names = sans;
        let key = KeyPair::generate().unwrap();
        p.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn reads_each_identity_source() {
        let der = cert(
            Some("alice"),
            vec![
                SanType::DnsName("host.example".try_into().unwrap()),
                SanType::Rfc822Name("alice@example.org".try_into().unwrap()),
            ],
        );
        assert_eq!(
            identity(&der, IdentitySource::Cn).unwrap().as_str(),
            "alice"
        );
        assert_eq!(
            identity(&der, IdentitySource::SanDns).unwrap().as_str(),
            "host.example"
        );
        assert_eq!(
            identity(&der, IdentitySource::SanEmail).unwrap().as_str(),
            "alice@example.org"
        );
        let dn = identity(&der, IdentitySource::Dn).unwrap();
        assert!(
            dn.as_str().contains("CN=alice") && dn.as_str().contains("O=Example"),
            "{dn}"
        );
    }

    #[test]
    fn rejects_certificates_without_the_chosen_name() {
        let der = cert(None, vec![]);
        assert_eq!(
            identity(&der, IdentitySource::Cn),
            Err(IdentityError::Missing("subject CN"))
        );
        assert!(identity(&der, IdentitySource::SanDns).is_err());
        assert_eq!(
            identity(b"junk", IdentitySource::Cn),
            Err(IdentityError::Unparsable)
        );
    }
}
