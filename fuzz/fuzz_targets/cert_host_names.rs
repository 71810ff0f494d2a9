//! A server certificate's host names and Zeek's hostname match (ssl.log
//! `sni_matches_cert`): input `[host_len][host…][der…]`. The DER goes through
//! `app::CertHostNames::from_der` (x509-parser, then the subjectAltName / last-CN choice and
//! OpenSSL's printing of the CN) and is matched against the host; the host is also matched
//! against the DER's bytes as one name with `app::zeek_hostname_matches`. Asserts a name
//! always matches itself and that a match by the names means one of them matches.
#![no_main]

use layerscope::app::{zeek_hostname_matches, CertHostNames};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let (host, der) = rest.split_at(usize::from(n).min(rest.len()));
    assert!(zeek_hostname_matches(host, host));
    let _ = zeek_hostname_matches(host, der);
    if let Some(names) = CertHostNames::from_der(der) {
        let matched = names.matches(host);
        let any = match &names {
            CertHostNames::SubjectAltName(list) => list.iter().any(|m| zeek_hostname_matches(host, m)),
            CertHostNames::CommonName(cn) => {
                if let Some(cn) = cn {
                    assert!(cn.len() <= 2047);
                    assert!(cn.iter().all(|&b| (b' '..=b'~').contains(&b) || b == b'\n' || b == b'\r'));
                }
                cn.as_deref().is_some_and(|c| zeek_hostname_matches(host, c))
            }
        };
        assert_eq!(matched, any);
    }
});
