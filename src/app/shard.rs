//! Sharded `serve`: each of n replicas evaluates the SLOs whose name hashes to
//! its index, so they split the query load. The hash is FNV-1a (64-bit) of the
//! name: stable across versions and platforms, and an SLO's shard depends on its
//! name alone, so adding or removing another SLO moves nothing.

/// Which share of the SLOs this process evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// From `--shard.index` / `--shard.count`; without an index, the ordinal a
    /// StatefulSet gives the pod's host name (`slogate-2` is index 2).
    pub fn new(index: Option<u64>, count: u64, hostname: Option<&str>) -> Result<Self, String> {
        if count == 0 {
            return Err("--shard.count must be at least 1".into());
        }
        let index = match (index, count) {
            (Some(i), _) => i,
            (None, 1) => 0,
            (None, _) => ordinal(hostname).ok_or_else(|| {
                format!(
                    "--shard.count={count} needs --shard.index, or a host name ending in a StatefulSet ordinal (found {:?})",
                    hostname.unwrap_or_default()
                )
            })?,
        };
        if index >= count {
            return Err(format!(
                "--shard.index={index} is not below --shard.count={count}"
            ));
        }
        Ok(Self { index, count })
    }

    /// True when this shard evaluates the SLO called `name`.
    pub fn owns(&self, name: &str) -> bool {
        fnv1a(name.as_bytes()) % self.count == self.index
    }
}

/// The trailing `-N` of a StatefulSet pod's host name (its first DNS label,
/// when the pod's host name is its FQDN).
fn ordinal(hostname: Option<&str>) -> Option<u64> {
    let host = hostname?.trim().split('.').next()?;
    let (_, n) = host.rsplit_once('-')?;
    n.parse().ok()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET, |h, b| (h ^ u64::from(*b)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_fnv1a_and_pinned() {
        // Published FNV-1a test vectors: a change of hash would move SLOs
        // between running replicas, so it must fail here first.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn every_slo_has_exactly_one_shard_and_keeps_it() {
        let names: Vec<String> = (0..200).map(|i| format!("slo-{i}")).collect();
        for count in 1..=5 {
            let shards: Vec<Shard> = (0..count)
                .map(|i| Shard::new(Some(i), count, None).expect("valid"))
                .collect();
            for name in &names {
                let owners = shards.iter().filter(|s| s.owns(name)).count();
                assert_eq!(owners, 1, "{name} with {count} shards");
            }
        }
        let two = |i| Shard::new(Some(i), 2, None).expect("valid");
        let mine: Vec<&String> = names.iter().filter(|n| two(0).owns(n)).collect();
        assert!(
            (80..=120).contains(&mine.len()),
            "{} of 200 on shard 0",
            mine.len()
        );
    }

    #[test]
    fn the_index_comes_from_the_flag_or_the_statefulset_ordinal() {
        assert_eq!(Shard::new(None, 1, None), Ok(Shard { index: 0, count: 1 }));
        assert_eq!(
            Shard::new(None, 3, Some("slogate-2")),
            Ok(Shard { index: 2, count: 3 })
        );
        assert_eq!(
            Shard::new(
                None,
                3,
                Some("slogate-1.slogate.monitoring.svc.cluster.local")
            ),
            Ok(Shard { index: 1, count: 3 })
        );
        assert_eq!(
            Shard::new(Some(1), 3, Some("slogate-2")),
            Ok(Shard { index: 1, count: 3 })
        );
        assert_eq!(
            Shard::new(None, 2, Some("laptop")),
            Err("--shard.count=2 needs --shard.index, or a host name ending in a StatefulSet ordinal (found \"laptop\")".into())
        );
        assert_eq!(
            Shard::new(Some(2), 2, None),
            Err("--shard.index=2 is not below --shard.count=2".into())
        );
        assert_eq!(
            Shard::new(None, 0, None),
            Err("--shard.count must be at least 1".into())
        );
    }
}
