//! An IP address or a CIDR block, as a security system names where sessions came from.
//!
//! Both families compare as 16-byte keys, an IPv4 address as its IPv4-mapped IPv6 form
//! (`::ffff:a.b.c.d`), so `10.0.0.1` and `::ffff:10.0.0.1` are one address and any block
//! is one contiguous range of keys: what the store indexes and compares.

use core::fmt;
use core::net::IpAddr;
use core::str::FromStr;

use ipnet::IpNet;

/// A sortable 16-byte form of an address.
pub type IpKey = [u8; 16];

/// The key of `ip`.
pub fn ip_key(ip: IpAddr) -> IpKey {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// One address, or every address of a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpRange {
    net: IpNet,
}

/// Why a text is not an address or a block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpRangeRefused {
    #[error("not an IP address or a CIDR block (such as 203.0.113.7, 10.0.0.0/8 or 2001:db8::/32)")]
    Malformed,
    #[error("the block has host bits set: did you mean {0}?")]
    HostBitsSet(String),
}

impl IpRange {
    pub fn parse(raw: &str) -> Result<Self, IpRangeRefused> {
        let raw = raw.trim();
        if let Ok(ip) = IpAddr::from_str(raw) {
            return Ok(Self::from(ip));
        }
        let net = IpNet::from_str(raw).map_err(|_| IpRangeRefused::Malformed)?;
        if net.trunc() != net {
            return Err(IpRangeRefused::HostBitsSet(net.trunc().to_string()));
        }
        Ok(Self { net })
    }

    /// The lowest and the highest key in the range.
    pub fn keys(&self) -> (IpKey, IpKey) {
        (ip_key(self.net.network()), ip_key(self.net.broadcast()))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let (first, last) = self.keys();
        (first..=last).contains(&ip_key(ip))
    }

    /// Whether the range holds one address only.
    pub fn is_single_address(&self) -> bool {
        self.net.prefix_len() == self.net.max_prefix_len()
    }
}

impl From<IpAddr> for IpRange {
    fn from(ip: IpAddr) -> Self {
        Self {
            net: IpNet::from(ip),
        }
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_single_address() {
            write!(f, "{}", self.net.addr())
        } else {
            write!(f, "{}", self.net)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    #[test]
    fn a_block_holds_its_addresses_and_no_others() {
        let block = IpRange::parse("10.1.0.0/16").unwrap();
        assert!(block.contains(ip("10.1.0.0")));
        assert!(block.contains(ip("10.1.255.255")));
        assert!(!block.contains(ip("10.2.0.0")));
        assert!(!block.contains(ip("10.0.255.255")));
        let v6 = IpRange::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::")));
        assert!(!v6.contains(ip("10.1.0.1")));
    }

    #[test]
    fn an_ipv4_address_and_its_mapped_ipv6_form_are_one_address() {
        let block = IpRange::parse("192.0.2.0/24").unwrap();
        assert!(block.contains(ip("::ffff:192.0.2.9")));
        assert_eq!(ip_key(ip("192.0.2.9")), ip_key(ip("::ffff:192.0.2.9")));
    }

    #[test]
    fn a_bare_address_is_a_range_of_one() {
        let one = IpRange::parse(" 203.0.113.7 ").unwrap();
        assert!(one.is_single_address());
        assert!(one.contains(ip("203.0.113.7")));
        assert!(!one.contains(ip("203.0.113.8")));
        assert_eq!(one.to_string(), "203.0.113.7");
        assert_eq!(
            IpRange::parse("2001:db8::1").unwrap().to_string(),
            "2001:db8::1"
        );
    }

    #[test]
    fn malformed_blocks_and_host_bits_are_refused() {
        for raw in [
            "",
            "10.0.0",
            "10.0.0.0/33",
            "2001:db8::/129",
            "bob",
            "10.0.0.0/",
        ] {
            assert_eq!(IpRange::parse(raw), Err(IpRangeRefused::Malformed), "{raw}");
        }
        assert_eq!(
            IpRange::parse("10.1.2.3/8"),
            Err(IpRangeRefused::HostBitsSet("10.0.0.0/8".to_owned()))
        );
    }

    #[test]
    fn keys_sort_as_addresses_do() {
        let addresses = [
            "0.0.0.0",
            "10.0.0.1",
            "10.0.0.2",
            "192.0.2.1",
            "255.255.255.255",
        ];
        let keys: Vec<IpKey> = addresses.iter().map(|a| ip_key(ip(a))).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(
            IpRange::parse("0.0.0.0/0").unwrap().keys(),
            (ip_key(ip("0.0.0.0")), ip_key(ip("255.255.255.255")))
        );
    }

    proptest::proptest! {
        #[test]
        fn a_v4_block_holds_exactly_the_addresses_sharing_its_prefix(
            network: u32, prefix in 0u8..=32, candidate: u32,
        ) {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            let block = format!("{}/{prefix}", core::net::Ipv4Addr::from(network & mask));
            let block = IpRange::parse(&block).unwrap();
            let candidate = core::net::Ipv4Addr::from(candidate);
            proptest::prop_assert_eq!(
                block.contains(IpAddr::V4(candidate)),
                u32::from(candidate) & mask == network & mask
            );
            proptest::prop_assert_eq!(
                block.contains(IpAddr::V6(candidate.to_ipv6_mapped())),
                u32::from(candidate) & mask == network & mask
            );
        }
    }
}
