//! The tunnel flows a connection travels in (`tunnel_parents`): every UDP tunnel flow
//! that carried one of its packets, not only its first packet's (Zeek's conn.log lists
//! every tunnel a connection was seen in: a ping whose replies come back in another VXLAN
//! flow has both).

use super::*;

/// The parents kept per connection.
pub(super) type Parents = ArrayVec<ConnId, MAX_TUNNEL_PARENTS>;

/// Adds the tunnel flows `outer` of one of `conn`'s packets to its parents (those not
/// there yet, in order); returns how many did not fit.
pub(super) fn add_parents(
    parents: &mut rustc_hash::FxHashMap<ConnId, Parents>,
    conn: ConnId,
    outer: &[ConnId],
) -> u64 {
    if outer.is_empty() {
        // (No entry for a packet whose tunnel flows were not tracked.)
        return 0;
    }
    let kept = parents.entry(conn).or_default();
    let mut cut = 0;
    for &c in outer {
        if !kept.contains(&c) && kept.try_push(c).is_err() {
            cut += 1;
        }
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_are_the_union_in_order_and_bounded() {
        let mut m = rustc_hash::FxHashMap::default();
        assert_eq!(add_parents(&mut m, 5, &[1, 2]), 0);
        assert_eq!(add_parents(&mut m, 5, &[1, 3]), 0);
        assert_eq!(m[&5].as_slice(), &[1, 2, 3]);
        let many: Vec<ConnId> = (10..20).collect();
        assert_eq!(add_parents(&mut m, 5, &many), 5);
        assert_eq!(m[&5].len(), MAX_TUNNEL_PARENTS);
        assert_eq!(add_parents(&mut m, 5, &many), 5);
    }
}
