//! Behaviour of [`SledStore`] through the [`Store`] trait: CRUD, names per owner,
//! compare-and-set, batches, locate, re-check of index hints, integrity and schema checks.

use std::sync::Arc;

use super::testing::{wrapped, SoftHmac};
use super::*;

fn open(dir: &std::path::Path) -> SledStore {
    let mut o = StoreOptions::new(dir.join("db"));
    o.cache_capacity_bytes = 8 << 20;
    SledStore::open(&o, Arc::new(SoftHmac::new(b"k1"))).unwrap()
}

fn key(uid: &str, owner: &str, name: Option<&str>) -> Record {
    let r = Record::new(
        UniqueIdentifier::new(uid),
        Owner::new(owner),
        ObjectType::SYMMETRIC_KEY,
        State::PRE_ACTIVE,
    )
    .with_key(wrapped(uid.as_bytes()))
    .with_attribute("Cryptographic Algorithm", AttrValue::Enumeration(3))
    .with_attribute("Cryptographic Length", AttrValue::Integer(256));
    match name {
        Some(n) => r.with_name(Name::text(n)),
        None => r,
    }
}

fn uids(l: &Located) -> Vec<&str> {
    l.unique_identifiers.iter().map(|u| u.as_str()).collect()
}

#[test]
fn accepts_create_get_update_destroy_delete() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let created = s.create(key("a", "alice", Some("disk"))).unwrap();
    assert_eq!(created.version(), 1);
    assert!(created.sequence() > 0);
    assert_eq!(s.get(&UniqueIdentifier::new("a")).unwrap(), created);

    let uid = UniqueIdentifier::new("a");
    let active = s
        .update(&uid, Expect::State(State::PRE_ACTIVE), &mut |r| {
            r.state = State::ACTIVE;
            Ok(())
        })
        .unwrap();
    assert_eq!((active.version(), active.state), (2, State::ACTIVE));
    assert_eq!(active.sequence(), created.sequence());

    let gone = s
        .destroy(&uid, Expect::Version(2), State::DESTROYED)
        .unwrap();
    assert_eq!(gone.state, State::DESTROYED);
    assert!(matches!(
        gone.key,
        KeyMaterial::Destroyed { wrapped_by: Some(ref k) } if k.version == 1
    ));
    assert_eq!(s.get(&uid).unwrap().names, vec![Name::text("disk")]);

    s.delete(&uid, Expect::Version(3)).unwrap();
    assert!(matches!(s.get(&uid), Err(StoreError::NotFound { .. })));
    assert!(s.check().unwrap().is_clean());
}

#[test]
fn rejects_duplicate_identifier() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.create(key("a", "alice", None)).unwrap();
    let e = s.create(key("a", "bob", None)).unwrap_err();
    assert!(matches!(e, StoreError::Duplicate { .. }), "{e}");
}

#[test]
fn names_are_unique_per_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.create(key("a", "alice", Some("k"))).unwrap();
    // Another owner may use the same name: nothing about alice's key is revealed.
    s.create(key("b", "bob", Some("k"))).unwrap();
    let e = s.create(key("c", "alice", Some("k"))).unwrap_err();
    assert!(
        matches!(e, StoreError::NameTaken { ref name } if name == "k"),
        "{e}"
    );
    assert!(!e.to_string().contains("\"a\""));
    // Adding the taken name through an update fails too, and changes nothing.
    s.create(key("d", "alice", Some("other"))).unwrap();
    let e = s
        .update(&UniqueIdentifier::new("d"), Expect::Any, &mut |r| {
            r.names.push(Name::text("k"));
            Ok(())
        })
        .unwrap_err();
    assert!(matches!(e, StoreError::NameTaken { .. }));
    assert_eq!(s.get(&UniqueIdentifier::new("d")).unwrap().version(), 1);
    // A record with the same name twice is refused.
    let twice = key("e", "alice", Some("x")).with_name(Name::text("x"));
    assert!(matches!(
        s.create(twice),
        Err(StoreError::InvalidRecord { .. })
    ));
}

#[test]
fn a_freed_name_can_be_reused() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.create(key("a", "alice", Some("k"))).unwrap();
    s.update(&UniqueIdentifier::new("a"), Expect::Version(1), &mut |r| {
        r.names.clear();
        Ok(())
    })
    .unwrap();
    s.create(key("b", "alice", Some("k"))).unwrap();
    assert!(s.check().unwrap().is_clean());
}

#[test]
fn rejects_stale_version_and_state() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let uid = UniqueIdentifier::new("a");
    s.create(key("a", "alice", None)).unwrap();
    s.update(&uid, Expect::Version(1), &mut |r| {
        r.state = State::ACTIVE;
        Ok(())
    })
    .unwrap();
    let e = s
        .update(&uid, Expect::Version(1), &mut |_| Ok(()))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("expected version 1, found version 2"),
        "{e}"
    );
    let e = s
        .update(&uid, Expect::State(State::PRE_ACTIVE), &mut |_| Ok(()))
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict { .. }), "{e}");
    let e = s
        .update(&uid, Expect::Any, &mut |r| {
            r.unique_identifier = UniqueIdentifier::new("b");
            Ok(())
        })
        .unwrap_err();
    assert!(matches!(e, StoreError::InvalidRecord { .. }));
}

#[test]
fn concurrent_state_updates_never_lose_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(open(dir.path()));
    s.create(key("a", "alice", None).with_attribute("x-n", AttrValue::Integer(0)))
        .unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || {
                for _ in 0..10 {
                    s.update(&UniqueIdentifier::new("a"), Expect::Any, &mut |r| {
                        for a in r.attributes.iter_mut().filter(|a| a.name == "x-n") {
                            if let AttrValue::Integer(n) = &mut a.value {
                                *n += 1;
                            }
                        }
                        Ok(())
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let r = s.get(&UniqueIdentifier::new("a")).unwrap();
    assert_eq!(r.attribute("x-n").next(), Some(&AttrValue::Integer(40)));
    assert_eq!(r.version(), 41);
}

#[test]
fn batch_moves_a_name_atomically_like_rekey() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let old = s
        .create(key("old", "vast", Some("VAST_EKM_KEY_1")))
        .unwrap();
    let mut old_next = old.clone();
    old_next.names.clear();
    old_next.attributes.push(Attribute::new(
        "x-replacement",
        AttrValue::Text("new".into()),
    ));
    let new = key("new", "vast", Some("VAST_EKM_KEY_1"));
    s.commit(vec![
        Write::Replace {
            expected_version: 1,
            record: old_next,
        },
        Write::Create(new),
    ])
    .unwrap();
    let q = Query {
        name: Some("VAST_EKM_KEY_1".into()),
        ..Query::default()
    };
    assert_eq!(uids(&s.locate(&q).unwrap()), vec!["new"]);

    // All or nothing: a failing second write leaves the first undone.
    let before = s.get(&UniqueIdentifier::new("new")).unwrap();
    let mut changed = before.clone();
    changed.state = State::ACTIVE;
    let e = s
        .commit(vec![
            Write::Replace {
                expected_version: 1,
                record: changed,
            },
            Write::Create(key("old", "vast", None)),
        ])
        .unwrap_err();
    assert!(matches!(e, StoreError::Duplicate { .. }), "{e}");
    assert_eq!(s.get(&UniqueIdentifier::new("new")).unwrap(), before);
    assert!(s.check().unwrap().is_clean());
}

#[test]
fn locates_by_each_index_newest_first_with_offset_and_maximum() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    for i in 0..10 {
        let mut r = key(
            &format!("k{i}"),
            if i % 2 == 0 { "even" } else { "odd" },
            None,
        )
        .with_name(Name::text(format!("n{}", i % 3)))
        .with_attribute("Object Group", AttrValue::Text(format!("g{}", i % 2)))
        .with_attribute("x-keyspace", AttrValue::Text("ks1".into()))
        .with_attribute("Activation Date", AttrValue::DateTime(1000 + i));
        if i >= 5 {
            r.state = State::ACTIVE;
        }
        // Names are per owner: n0 used by even and odd owners alike.
        if s.create(r.clone()).is_err() {
            r.names.clear();
            s.create(r).unwrap();
        }
    }
    let loc = |q: Query| uids(&s.locate(&q).unwrap()).join(",");
    let q = Query::default;
    assert_eq!(
        loc(Query {
            name: Some("n0".into()),
            ..q()
        }),
        "k3,k0",
        "by name, any owner (k6 could not take even's n0)"
    );
    assert_eq!(
        loc(Query {
            name: Some("n0".into()),
            owner: Some(Owner::new("odd")),
            ..q()
        }),
        "k3"
    );
    let group = AttributeFilter::equals("Object Group", AttrValue::Text("g1".into()));
    assert_eq!(
        loc(Query {
            attributes: vec![group.clone()],
            ..q()
        }),
        "k9,k7,k5,k3,k1"
    );
    assert_eq!(
        loc(Query {
            attributes: vec![group],
            offset: 1,
            maximum: Some(2),
            ..q()
        }),
        "k7,k5"
    );
    let custom = AttributeFilter::equals("x-keyspace", AttrValue::Text("ks1".into()));
    assert_eq!(
        loc(Query {
            attributes: vec![custom],
            maximum: Some(3),
            ..q()
        }),
        "k9,k8,k7"
    );
    assert_eq!(
        loc(Query {
            object_type: Some(ObjectType::SYMMETRIC_KEY),
            states: vec![State::PRE_ACTIVE],
            ..q()
        }),
        "k4,k3,k2,k1,k0"
    );
    assert_eq!(
        loc(Query {
            states: vec![State::ACTIVE],
            maximum: Some(2),
            ..q()
        }),
        "k9,k8"
    );
    assert_eq!(
        loc(Query {
            object_type: Some(ObjectType::SYMMETRIC_KEY),
            maximum: Some(3),
            ..q()
        }),
        "k9,k8,k7",
        "type alone merges the states newest first"
    );
    assert_eq!(
        loc(Query {
            object_type: Some(ObjectType::SECRET_DATA),
            ..q()
        }),
        ""
    );
    let dates = AttributeFilter::between(
        "Activation Date",
        AttrValue::DateTime(1002),
        AttrValue::DateTime(1004),
    );
    assert_eq!(
        loc(Query {
            attributes: vec![dates],
            ..q()
        }),
        "k4,k3,k2"
    );
    let alg = AttributeFilter::equals("Cryptographic Length", AttrValue::Integer(256));
    let l = s
        .locate(&Query {
            attributes: vec![alg],
            maximum: Some(1),
            count_total: true,
            ..q()
        })
        .unwrap();
    assert_eq!((uids(&l), l.total), (vec!["k9"], Some(10)));
    assert_eq!(
        loc(Query {
            owner: Some(Owner::new("even")),
            maximum: Some(2),
            ..q()
        }),
        "k8,k6"
    );
    assert_eq!(
        loc(Query {
            maximum: Some(2),
            offset: 8,
            ..q()
        }),
        "k1,k0",
        "no filter"
    );
    let only_odd = s
        .locate_where(
            &Query {
                maximum: Some(2),
                ..q()
            },
            &|r| r.owner.0 == "odd",
        )
        .unwrap();
    assert_eq!(uids(&only_odd), vec!["k9", "k7"]);
    let listed = s
        .list(&ListFilter {
            owner: Some(Owner::new("odd")),
            state: Some(State::ACTIVE),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(listed.len(), 3);
}

#[test]
fn destroyed_objects_are_located_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.create(key("a", "o", Some("n"))).unwrap();
    s.destroy(&UniqueIdentifier::new("a"), Expect::Any, State::DESTROYED)
        .unwrap();
    let mut q = Query {
        name: Some("n".into()),
        ..Query::default()
    };
    assert!(s.locate(&q).unwrap().unique_identifiers.is_empty());
    q.include_destroyed = true;
    assert_eq!(uids(&s.locate(&q).unwrap()), vec!["a"]);
}

#[test]
fn locate_drops_stale_and_false_index_hints() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.create(key("a", "o", Some("n1"))).unwrap();
    s.create(key("b", "o", Some("n2"))).unwrap();
    let b = s.get(&UniqueIdentifier::new("b")).unwrap();
    // A false hint: name n1 → b (b is valid but has no such name), and a stale one: n1 → zz.
    let mut forged = b.clone();
    forged.names = vec![Name::text("n1")];
    for (i, k) in index::RecordKeys::of(&forged).index {
        s.idx[i as usize].insert(k, &[]).unwrap();
    }
    let mut ghost = forged.clone();
    ghost.unique_identifier = UniqueIdentifier::new("zz");
    for (i, k) in index::RecordKeys::of(&ghost).index {
        s.idx[i as usize].insert(k, &[]).unwrap();
    }
    let q = Query {
        name: Some("n1".into()),
        ..Query::default()
    };
    assert_eq!(uids(&s.locate(&q).unwrap()), vec!["a"]);
    let report = s.check().unwrap();
    assert!(report.stale_index_entries > 0 && report.integrity_failures.is_empty());
    // The unique tree pointing n1 at b does not block nor hijack n1 either.
    s.names
        .insert(index::unique_name_key(&Owner::new("o"), "n3"), b"b")
        .unwrap();
    s.create(key("c", "o", Some("n3"))).unwrap();
    let q = Query {
        name: Some("n3".into()),
        owner: Some(Owner::new("o")),
        ..Query::default()
    };
    assert_eq!(uids(&s.locate(&q).unwrap()), vec!["c"]);
}

#[test]
fn rejects_edited_records_with_integrity_error() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.create(key("a", "o", Some("n"))).unwrap();
    let raw = s.objects.get("a").unwrap().unwrap();
    let (mut r, tag) = danger_decode_unverified(&raw).unwrap();
    r.state = State::ACTIVE;
    s.objects
        .insert("a", danger_encode_with_tag(&r, &tag))
        .unwrap();
    let e = s.get(&UniqueIdentifier::new("a")).unwrap_err();
    assert!(
        matches!(e, StoreError::Integrity { ref uid, reason: IntegrityReason::BadTag } if uid == "a"),
        "{e}"
    );
    assert!(e.to_string().contains("failed its integrity check"));
    // Locate reports it rather than answer or hide it; updates refuse it.
    let q = Query {
        name: Some("n".into()),
        ..Query::default()
    };
    assert!(matches!(s.locate(&q), Err(StoreError::Integrity { .. })));
    assert!(matches!(
        s.update(&UniqueIdentifier::new("a"), Expect::Any, &mut |_| Ok(())),
        Err(StoreError::Integrity { .. })
    ));
    assert_eq!(s.check().unwrap().integrity_failures.len(), 1);
}

#[test]
fn refuses_newer_schema_and_other_record_key() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    let opts = StoreOptions::new(dir.path().join("db"));
    let e = SledStore::open(&opts, Arc::new(SoftHmac::new(b"another key")))
        .err()
        .unwrap();
    assert!(matches!(e, StoreError::WrongRecordKey { .. }), "{e}");
    {
        let db = sled::open(dir.path().join("db")).unwrap();
        db.open_tree("meta")
            .unwrap()
            .insert("schema_version", &2u32.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    let e = SledStore::open(&opts, Arc::new(SoftHmac::new(b"k1")))
        .err()
        .unwrap();
    assert!(
        e.to_string()
            .contains("schema version 2, newer than this hsmkms supports (1)"),
        "{e}"
    );
}

#[test]
fn refuses_a_database_without_schema_and_a_locked_one() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::open(dir.path().join("db")).unwrap();
        db.open_tree("objects").unwrap().insert("x", "y").unwrap();
        db.flush().unwrap();
    }
    let opts = StoreOptions::new(dir.path().join("db"));
    let e = SledStore::open(&opts, Arc::new(SoftHmac::new(b"k1")))
        .err()
        .unwrap();
    assert!(matches!(e, StoreError::SchemaMissing { .. }), "{e}");

    let other = tempfile::tempdir().unwrap();
    let _held = open(other.path());
    let opts = StoreOptions::new(other.path().join("db"));
    let e = SledStore::open(&opts, Arc::new(SoftHmac::new(b"k1")))
        .err()
        .unwrap();
    assert!(matches!(e, StoreError::Locked { .. }), "{e}");
}
