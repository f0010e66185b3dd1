//! Which IP addresses Leash may call on a caller's behalf: public unicast only. Every
//! range of the IANA IPv4 and IPv6 special-purpose address registries is refused, and an
//! IPv6 address that carries an IPv4 one (IPv4-mapped, IPv4-compatible, NAT64
//! `64:ff9b::/96`, 6to4 `2002::/16`) is judged by the IPv4 address inside. Teredo
//! (`2001::/32`) lies in `2001::/23`, and IPv4-translated (`::ffff:0:0/96`) outside
//! `2000::/3`: both are refused as a whole.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Whether a URL's host may be called: a public address, or a name other than
/// `localhost` (a name is judged again, by what it resolves to, on every connection).
pub fn host_is_public(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name != "localhost" && !name.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => is_public(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => is_public(IpAddr::V6(ip)),
        None => false,
    }
}

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

/// IPv4 special-purpose ranges (IANA registry), as (network, prefix length).
const SPECIAL_V4: [([u8; 4], u32); 19] = [
    ([0, 0, 0, 0], 8),          // "this network"
    ([10, 0, 0, 0], 8),         // private
    ([100, 64, 0, 0], 10),      // shared address space (CGNAT)
    ([127, 0, 0, 0], 8),        // loopback
    ([169, 254, 0, 0], 16),     // link-local
    ([172, 16, 0, 0], 12),      // private
    ([192, 0, 0, 0], 24),       // IETF protocol assignments
    ([192, 0, 2, 0], 24),       // documentation
    ([192, 31, 196, 0], 24),    // AS112
    ([192, 52, 193, 0], 24),    // AMT
    ([192, 88, 99, 0], 24),     // deprecated 6to4 relay anycast
    ([192, 168, 0, 0], 16),     // private
    ([192, 175, 48, 0], 24),    // direct delegation AS112
    ([198, 18, 0, 0], 15),      // benchmarking
    ([198, 51, 100, 0], 24),    // documentation
    ([203, 0, 113, 0], 24),     // documentation
    ([224, 0, 0, 0], 4),        // multicast
    ([240, 0, 0, 0], 4),        // reserved
    ([255, 255, 255, 255], 32), // limited broadcast
];

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let address = u32::from(ip);
    !SPECIAL_V4.iter().any(|(network, prefix)| {
        let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
        address & mask == u32::from_be_bytes(*network) & mask
    })
}

/// IPv6 special-purpose ranges inside global unicast `2000::/3` (IANA registry), as
/// (network, prefix length); everything outside `2000::/3` is refused anyway.
const SPECIAL_V6: [(u128, u32); 4] = [
    (0x2001_0000_0000_0000_0000_0000_0000_0000, 23), // IETF protocol assignments, Teredo
    (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32), // documentation
    (0x2620_004f_8000_0000_0000_0000_0000_0000, 48), // direct delegation AS112
    (0x3fff_0000_0000_0000_0000_0000_0000_0000, 20), // documentation
];

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let address = u128::from(ip);
    let in_range = |network: u128, prefix: u32| {
        let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
        address & mask == network & mask
    };
    in_range(0x2000 << 112, 3) && !SPECIAL_V6.iter().any(|&(n, p)| in_range(n, p))
}

/// The IPv4 address an IPv6 one carries, for the forms that carry one.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let high_zero = s[..5].iter().all(|&x| x == 0);
    match (s[0], s[1], s[5], s[6]) {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible; :: and ::1 are not).
        _ if high_zero && (s[5] == 0xffff || (s[5] == 0 && s[6] != 0)) => Some(low),
        // 64:ff9b::a.b.c.d (NAT64 well-known prefix).
        (0x64, 0xff9b, _, _) if s[2..6].iter().all(|&x| x == 0) => Some(low),
        // 2002:aabb:ccdd::/48 (6to4).
        (0x2002, _, _, _) => Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(raw: &str) -> bool {
        is_public(raw.parse().unwrap())
    }

    #[test]
    fn special_purpose_addresses_are_refused() {
        for raw in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "192.88.99.1",
            "::",
            "::1",
            "fc00::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "100::1",
            "2001:db8::1",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "3fff::1",
            "5f00::1",
            "64:ff9b:1::1",
            "::ffff:127.0.0.1",
            "::ffff:198.51.100.7",
            "::127.0.0.1",
            "::ffff:0:7f00:1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
            "2002:a00:1::1",
            "2002:c633:6407::1",
            // Only the well-known NAT64 prefix carries an IPv4 address; other forms of
            // `::/8` and `64:ff9b:1::/48` are refused whatever they end in.
            "64:ff9b:1::808:808",
            "::1:808:808",
        ] {
            assert!(!public(raw), "{raw} was judged public");
        }
    }

    #[test]
    fn public_addresses_pass_and_embedded_ones_are_judged_inside() {
        for raw in [
            "93.184.216.34",
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700::1111",
            "2a00:1450:4001::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "::8.8.8.8",
            // Ends like an IPv4-compatible address, but is a global IPv6 one.
            "2606:4700::a00:1",
        ] {
            assert!(public(raw), "{raw} was refused");
        }
    }
}
