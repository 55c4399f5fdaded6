//! Store benchmarks: durable creates per second (one writer; eight concurrent writers with one
//! flush per write and with group commit), and Locate by name / by a custom attribute at
//! 100,000 objects (1,000,000 with `HSMKMS_BENCH_MILLION=1`, a long local run).
//!
//! Record MACs use the software HMAC stand-in; the HSM's HMAC (~155k/s raw on SoftHSM) adds
//! its cost per create and per located candidate.
//!
//! `cargo bench --bench store` (criterion prints time per element; creates/s = 1 / that).

#[path = "../tests/common/soft_store.rs"]
#[allow(dead_code)]
mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{aes_key, open_with};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hsmkms::store::{AttrValue, AttributeFilter, Durability, Owner, Query, Store, Write};

static NEXT: AtomicU64 = AtomicU64::new(0);

fn fresh_uid() -> String {
    format!("bench-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn creates(c: &mut Criterion) {
    let mut g = c.benchmark_group("durable_create");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(1));
    let modes = [
        ("each_write", Durability::EachWrite),
        ("group_commit", Durability::default()),
        (
            "group_commit_500us",
            Durability::GroupCommit {
                window: Duration::from_micros(500),
            },
        ),
    ];
    for (label, mode) in modes {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(open_with(dir.path(), mode));
        g.bench_function(BenchmarkId::new("1_writer", label), |b| {
            b.iter(|| {
                let uid = fresh_uid();
                store.create(aes_key(&uid, "bench", Some(&uid))).unwrap();
            })
        });
        g.bench_function(BenchmarkId::new("8_writers", label), |b| {
            b.iter_custom(|iters| {
                let per = iters.div_ceil(8);
                let start = Instant::now();
                let threads: Vec<_> = (0..8)
                    .map(|_| {
                        let store = store.clone();
                        std::thread::spawn(move || {
                            for _ in 0..per {
                                let uid = fresh_uid();
                                store.create(aes_key(&uid, "bench", Some(&uid))).unwrap();
                            }
                        })
                    })
                    .collect();
                for t in threads {
                    t.join().unwrap();
                }
                // Time per create, as if `iters` were done.
                start.elapsed().mul_f64(iters as f64 / (per * 8) as f64)
            })
        });
    }
    g.finish();

    // The CPU side of a create (transaction across the trees, MAC, encoding) without the flush.
    let mut g = c.benchmark_group("create_without_flush");
    g.sample_size(10);
    g.throughput(Throughput::Elements(1));
    let dir = tempfile::tempdir().unwrap();
    let store = open_with(dir.path(), Durability::DangerNoFlush);
    g.bench_function("1_writer", |b| {
        b.iter(|| {
            let uid = fresh_uid();
            store.create(aes_key(&uid, "bench", Some(&uid))).unwrap();
        })
    });
    g.finish();
}

/// Fills a store with `n` keys: names `key-<i>`, 16 owners, a custom attribute with 10 values.
fn populate(dir: &std::path::Path, n: usize) -> hsmkms::store::SledStore {
    let store = open_with(dir, Durability::DangerNoFlush);
    let start = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let writes = chunk
            .iter()
            .map(|i| {
                Write::Create(
                    aes_key(
                        &format!("uid-{i}"),
                        &format!("owner-{}", i % 16),
                        Some(&format!("key-{i}")),
                    )
                    .with_attribute("x-keyspace", AttrValue::Text(format!("ks-{}", i % 10))),
                )
            })
            .collect();
        store.commit(writes).unwrap();
    }
    store.flush().unwrap();
    eprintln!(
        "populated {n} objects in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    store
}

fn locate(c: &mut Criterion) {
    let mut sizes = vec![100_000usize];
    if std::env::var("HSMKMS_BENCH_MILLION").is_ok_and(|v| v == "1") {
        sizes.push(1_000_000);
    }
    let mut g = c.benchmark_group("locate");
    g.sample_size(20);
    g.throughput(Throughput::Elements(1));
    for n in sizes {
        let dir = tempfile::tempdir().unwrap();
        let store = populate(dir.path(), n);
        let mut i = 0usize;
        g.bench_function(BenchmarkId::new("name_any_owner", n), |b| {
            b.iter(|| {
                i = (i + 7919) % n;
                let q = Query {
                    name: Some(format!("key-{i}")),
                    ..Query::default()
                };
                assert_eq!(store.locate(&q).unwrap().unique_identifiers.len(), 1);
            })
        });
        g.bench_function(BenchmarkId::new("name_of_owner", n), |b| {
            b.iter(|| {
                i = (i + 7919) % n;
                let q = Query {
                    name: Some(format!("key-{i}")),
                    owner: Some(Owner::new(format!("owner-{}", i % 16))),
                    ..Query::default()
                };
                assert_eq!(store.locate(&q).unwrap().unique_identifiers.len(), 1);
            })
        });
        g.bench_function(BenchmarkId::new("custom_attr_newest_max_1", n), |b| {
            b.iter(|| {
                i = (i + 1) % 10;
                let q = Query {
                    attributes: vec![AttributeFilter::equals(
                        "x-keyspace",
                        AttrValue::Text(format!("ks-{i}")),
                    )],
                    maximum: Some(1),
                    ..Query::default()
                };
                assert_eq!(store.locate(&q).unwrap().unique_identifiers.len(), 1);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, creates, locate);
criterion_main!(benches);
