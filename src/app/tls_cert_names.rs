//! Does the server's certificate name the host the client asked for (SNI)? Zeek's answer,
//! ssl.log `sni_matches_cert`: `base/protocols/ssl/files.zeek` sets it when the connection
//! has a server name and the server's first certificate parsed, from the built-in function
//! `x509_check_cert_hostname` (Zeek's `file_analysis/analyzer/x509/functions.bif`), which
//! this file follows:
//!
//! - a certificate with a subjectAltName extension is checked against that extension's
//!   dNSNames only (RFC 2818 §3.1, RFC 5280 §4.2.1.6: the subject is then ignored); one
//!   whose extension does not parse matches nothing;
//! - without it, against the subject's last common name, as OpenSSL's `ASN1_STRING_print`
//!   writes it (bytes outside printable ASCII but CR and LF become `.`) and `BIO_gets` reads
//!   it back (up to the first LF, at most 2047 bytes);
//! - each name with [`zeek_hostname_matches`]: equal bytes (case matters, as in Zeek), or a
//!   wildcard as Zeek reads RFC 6125.
//!
//! The certificate is read with rusticata's `x509-parser`.

use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::OID_X509_EXT_SUBJECT_ALT_NAME;

/// The names a certificate is for, as `x509_check_cert_hostname` reads them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertHostNames {
    /// The certificate has a subjectAltName extension: its dNSNames, in order (none when
    /// the extension does not parse). At most as many as fit in one certificate, which is
    /// at most [`super::MAX_HANDSHAKE`] bytes.
    SubjectAltName(Vec<Vec<u8>>),
    /// No subjectAltName: the subject's last common name, as OpenSSL prints it.
    CommonName(Option<Vec<u8>>),
}

/// What `BIO_gets` reads back into Zeek's 2048-byte buffer.
const CN_BUFFER: usize = 2047;

impl CertHostNames {
    /// The names of the DER certificate `der`; `None` when it does not parse as one.
    pub fn from_der(der: &[u8]) -> Option<CertHostNames> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        if let Some(ext) = cert
            .extensions()
            .iter()
            .find(|e| e.oid == OID_X509_EXT_SUBJECT_ALT_NAME)
        {
            let names = match ext.parsed_extension() {
                ParsedExtension::SubjectAlternativeName(san) => san
                    .general_names
                    .iter()
                    .filter_map(|n| match n {
                        GeneralName::DNSName(s) => Some(s.as_bytes().to_vec()),
                        // A dNSName that is not UTF-8: its bytes, as OpenSSL has them.
                        GeneralName::Invalid(tag, data) if tag.0 == 2 => Some(data.to_vec()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            return Some(CertHostNames::SubjectAltName(names));
        }
        let cn = cert
            .subject()
            .iter_common_name()
            .last()
            .map(|atv| openssl_printed(atv.as_slice()));
        Some(CertHostNames::CommonName(cn))
    }

    /// True when `host` (the SNI's bytes) matches one of the names.
    pub fn matches(&self, host: &[u8]) -> bool {
        match self {
            CertHostNames::SubjectAltName(names) => {
                names.iter().any(|n| zeek_hostname_matches(host, n))
            }
            CertHostNames::CommonName(cn) => cn
                .as_deref()
                .is_some_and(|n| zeek_hostname_matches(host, n)),
        }
    }
}

/// A string value as `ASN1_STRING_print` then `BIO_gets` give it back.
fn openssl_printed(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len().min(CN_BUFFER));
    for &b in value {
        if out.len() == CN_BUFFER {
            break;
        }
        let printable = (b' '..=b'~').contains(&b) || b == b'\n' || b == b'\r';
        out.push(if printable { b } else { b'.' });
        if b == b'\n' {
            break;
        }
    }
    out
}

/// Zeek's `check_hostname`: `host` equals `cert_name`, or `cert_name` is a wildcard that
/// covers it — the first `*` is the last character of the leftmost label (`*.a.b` or
/// `ab*.c.d`), the name has at least three labels, `host`'s labels after its first equal
/// `cert_name`'s, and `host` starts with what precedes the `*`. Bytes are compared as they
/// are (no case folding, as in Zeek).
pub fn zeek_hostname_matches(host: &[u8], cert_name: &[u8]) -> bool {
    if host == cert_name {
        return true;
    }
    let Some(wild) = cert_name.iter().position(|&b| b == b'*') else {
        return false;
    };
    let Some(first_dot) = cert_name.iter().position(|&b| b == b'.') else {
        return false;
    };
    if !cert_name[first_dot + 1..].contains(&b'.') || wild + 1 != first_dot {
        return false;
    }
    let Some(host_dot) = host.iter().position(|&b| b == b'.') else {
        return false;
    };
    host[host_dot..] == cert_name[first_dot..] && host.get(..wild) == Some(&cert_name[..wild])
}

#[cfg(test)]
mod tests {
    use super::test_der::certificate;
    use super::*;

    /// The inputs of Zeek's btest `bifs/x509_check_hostname` and a few more, the answers
    /// worked by hand from the rules above.
    #[test]
    fn wildcard_rules_as_zeek() {
        let m = |h: &str, c: &str| zeek_hostname_matches(h.as_bytes(), c.as_bytes());
        assert!(!m("hi", "www.zeek.org"));
        assert!(!m("ww.zeek.org", "www.zeek.org"));
        assert!(m("www.zeek.org", "www.zeek.org"));
        // "*" alone: no dot at all.
        assert!(!m("www.zeek.org", "*"));
        assert!(!m("www.zeek.org", "zeek.org"));
        assert!(m("www.zeek.org", "*.zeek.org"));
        // "a*": the host does not start with "a".
        assert!(!m("www.zeek.org", "a*.zeek.org"));
        assert!(m("www.zeek.org", "ww*.zeek.org"));
        assert!(!m("www.zeek.org", "wa*.zeek.org"));
        assert!(!m("www.zeek.org", "ww*.leek.com"));
        // The first "*" is not just before the first dot.
        assert!(!m("www.zeek.org", "*.*.com"));
        assert!(m("", ""));
        // Two labels only: a wildcard needs three.
        assert!(!m("zeek.org", "*.org"));
        // The wildcard covers one label, not two.
        assert!(!m("a.www.zeek.org", "*.zeek.org"));
        // Not in the middle of the label.
        assert!(!m("www.zeek.org", "w*w.zeek.org"));
        // Case matters, as in Zeek.
        assert!(!m("WWW.zeek.org", "www.zeek.org"));
        assert!(!m("www.Zeek.org", "*.zeek.org"));
        // Zeek lets the prefix take the whole label ("w*" covers "w") and lets a host
        // whose first label is empty match.
        assert!(m("w.zeek.org", "w*.zeek.org"));
        assert!(m(".zeek.org", "*.zeek.org"));
        // A host shorter than the prefix.
        assert!(!m(".x.y", "abc*.x.y"));
    }

    #[test]
    fn subject_alt_name_dns_names_replace_the_common_name() {
        let der = certificate(
            &[b"cn.example.org"],
            Some(&[b"*.example.com", b"example.com"]),
        );
        let names = CertHostNames::from_der(&der).unwrap();
        assert_eq!(
            names,
            CertHostNames::SubjectAltName(vec![b"*.example.com".to_vec(), b"example.com".to_vec()])
        );
        assert!(names.matches(b"www.example.com"));
        assert!(names.matches(b"example.com"));
        assert!(!names.matches(b"a.b.example.com"));
        // The subject's CN is not looked at once there is a subjectAltName.
        assert!(!names.matches(b"cn.example.org"));
        // The iPAddress entry is not a name.
        assert!(!names.matches(b"127.0.0.1"));
    }

    #[test]
    fn last_common_name_without_subject_alt_name() {
        let der = certificate(&[b"first.example.org", b"*.example.net"], None);
        let names = CertHostNames::from_der(&der).unwrap();
        assert_eq!(
            names,
            CertHostNames::CommonName(Some(b"*.example.net".to_vec()))
        );
        assert!(names.matches(b"www.example.net"));
        assert!(!names.matches(b"first.example.org"));
        // No CN at all: nothing matches.
        let none = CertHostNames::from_der(&certificate(&[], None)).unwrap();
        assert_eq!(none, CertHostNames::CommonName(None));
        assert!(!none.matches(b""));
        // A subjectAltName without dNSNames matches nothing, not even the CN.
        let ip_only = CertHostNames::from_der(&certificate(&[b"a.example.org"], Some(&[])));
        assert_eq!(ip_only, Some(CertHostNames::SubjectAltName(Vec::new())));
    }

    #[test]
    fn common_name_as_openssl_prints_it() {
        // A tab and a byte above '~' become '.'; the value ends after its first LF.
        assert_eq!(openssl_printed(b"a\tb\xc3\xa9c"), b"a.b..c".to_vec());
        assert_eq!(openssl_printed(b"a.b\nc.d"), b"a.b\n".to_vec());
        assert_eq!(openssl_printed(&[b'x'; 3000]).len(), 2047);
    }

    #[test]
    fn not_a_certificate() {
        let der = certificate(&[b"a.example.org"], None);
        assert_eq!(CertHostNames::from_der(&der[..der.len() - 3]), None);
        assert_eq!(CertHostNames::from_der(b""), None);
        assert_eq!(CertHostNames::from_der(b"\x30\x03\x02\x01\x01"), None);
    }
}

/// Hand-made DER certificates for tests (here and in `tls.rs`).
#[cfg(test)]
pub(crate) mod test_der {
    /// DER of one TLV (lengths up to 65535).
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        match content.len() {
            n if n < 0x80 => v.push(n as u8),
            n if n < 0x100 => v.extend([0x81, n as u8]),
            n => v.extend([0x82, (n >> 8) as u8, n as u8]),
        }
        v.extend_from_slice(content);
        v
    }

    /// A Name of common names, each in its own RDN (UTF8String).
    fn name(cns: &[&[u8]]) -> Vec<u8> {
        let mut rdns = Vec::new();
        for cn in cns {
            let mut atv = tlv(0x06, &[0x55, 0x04, 0x03]);
            atv.extend(tlv(0x0c, cn));
            rdns.extend(tlv(0x31, &tlv(0x30, &atv)));
        }
        tlv(0x30, &rdns)
    }

    /// A v3 certificate for `subject` with, when given, a subjectAltName extension of
    /// these dNSNames (tag [2]) and an iPAddress (tag [7], ignored by the match).
    pub(crate) fn certificate(subject: &[&[u8]], san: Option<&[&[u8]]>) -> Vec<u8> {
        // sha256WithRSAEncryption, NULL parameters.
        let alg = tlv(
            0x30,
            &[
                0x06, 9, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
            ],
        );
        let mut tbs = tlv(0xa0, &[0x02, 1, 2]);
        tbs.extend([0x02, 1, 1]);
        tbs.extend(&alg);
        tbs.extend(name(&[b"Test CA"]));
        tbs.extend(tlv(0x30, b"\x17\x0d260101000000Z\x17\x0d270101000000Z"));
        tbs.extend(name(subject));
        // SubjectPublicKeyInfo: rsaEncryption, a (meaningless) key.
        let mut spki = tlv(
            0x30,
            &[
                0x06, 9, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
            ],
        );
        spki.extend(tlv(0x03, &[0, 0x30, 6, 0x02, 1, 5, 0x02, 1, 3]));
        tbs.extend(tlv(0x30, &spki));
        if let Some(names) = san {
            let mut gns = Vec::new();
            for n in names {
                gns.extend(tlv(0x82, n));
            }
            gns.extend(tlv(0x87, &[127, 0, 0, 1]));
            let mut ext = tlv(0x06, &[0x55, 0x1d, 0x11]);
            ext.extend(tlv(0x04, &tlv(0x30, &gns)));
            tbs.extend(tlv(0xa3, &tlv(0x30, &tlv(0x30, &ext))));
        }
        let mut cert = tlv(0x30, &tbs);
        cert.extend(alg);
        cert.extend(tlv(0x03, &[0, 1, 2, 3]));
        tlv(0x30, &cert)
    }
}
