//! hsmkms' HSM layer next to raw cryptoki on the same token, in the same run:
//! - AES-256 keygen + KWP wrap under the KEK + destroy (what Create costs before the store);
//! - AES-GCM encrypt of 64 bytes with a managed key (cached unwrapped copy) vs a raw handle;
//! - record MAC (HMAC-SHA256, 64 bytes) vs raw `C_Sign`.
//!
//! Token: a private SoftHSM (default) or Kryoptic token, as in the tests:
//! `cargo bench --bench hsm` or `HSMKMS_TEST_PKCS11=kryoptic cargo bench --bench hsm`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use hsmkms::hsm::{find_token, module_context, Cipher, KeyKind, KeyUsage, ManagedKey};

fn bench(c: &mut Criterion) {
    let (t, hsm) = common::TestToken::initialised();
    let ctx = module_context(&t.module).unwrap();
    let slot = find_token(&ctx, &t.module, common::LABEL).unwrap();
    let s = ctx.open_rw_session(slot).unwrap();
    let _ = s.login(UserType::User, Some(&AuthPin::from(common::USER_PIN)));
    let kek = s
        .find_objects(&[Attribute::Label(b"hsmkms-kek-v1".to_vec())])
        .unwrap()[0];
    let mac_key = s
        .find_objects(&[Attribute::Label(b"hsmkms-mac-v1".to_vec())])
        .unwrap()[0];
    let code = hsm.wrap_mechanism();

    let mut g = c.benchmark_group("create_aes256");
    g.bench_function("hsmkms generate_secret (keygen+KWP+destroy)", |b| {
        b.iter(|| {
            hsm.generate_secret(KeyKind::Aes, 32, KeyUsage::encryption())
                .unwrap()
        })
    });
    g.bench_function("raw cryptoki keygen+KWP+destroy", |b| {
        b.iter(|| {
            let k = s
                .generate_key(
                    &Mechanism::AesKeyGen,
                    &[
                        Attribute::Token(false),
                        Attribute::Private(true),
                        Attribute::Sensitive(true),
                        Attribute::Extractable(true),
                        Attribute::ValueLen(32.into()),
                    ],
                )
                .unwrap();
            let blob = if code == hsmkms::hsm::CKM_AES_KEY_WRAP_PAD {
                s.wrap_key(&Mechanism::AesKeyWrapPad, kek, k).unwrap()
            } else {
                common::fault::wrap_by_code(&t.module, &s, code, kek, k)
            };
            s.destroy_object(k).unwrap();
            blob
        })
    });
    // What Create costs end to end below KMIP: keygen + KWP in the HSM, then the record (MAC
    // computed in the HSM) committed to sled and flushed before returning.
    let hsm_arc = std::sync::Arc::new(hsm);
    let store_dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(
        hsmkms::store::SledStore::open(
            &hsmkms::store::StoreOptions::new(store_dir.path().join("store")),
            std::sync::Arc::new(hsmkms::keystore::HsmRecordMac::new(hsm_arc.clone())),
        )
        .unwrap(),
    );
    let counter = std::sync::atomic::AtomicU64::new(0);
    let create = |hsm: &hsmkms::hsm::Hsm, store: &hsmkms::store::SledStore| {
        use hsmkms::store::Store as _;
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let w = hsm
            .generate_secret(KeyKind::Aes, 32, KeyUsage::encryption())
            .unwrap();
        let r = hsmkms::store::Record::new(
            hsmkms::store::UniqueIdentifier::new(format!("bench-{n}")),
            hsmkms::store::Owner::new("bench"),
            hsmkms::store::ObjectType::SYMMETRIC_KEY,
            hsmkms::store::State::PRE_ACTIVE,
        )
        .with_key(hsmkms::store::WrappedKey::from_hsm(w));
        store.create(r).unwrap();
    };
    g.bench_function(
        "hsmkms keygen+KWP+record MAC+durable store, 1 thread",
        |b| b.iter(|| create(&hsm_arc, &store)),
    );
    g.bench_function(
        "hsmkms keygen+KWP+record MAC+durable store, 8 threads (per key)",
        |b| {
            b.iter_custom(|iters| {
                let start = std::time::Instant::now();
                std::thread::scope(|sc| {
                    for t in 0..8u64 {
                        let (hsm, store, create) = (&hsm_arc, &store, &create);
                        sc.spawn(move || {
                            for _ in (t..iters).step_by(8) {
                                create(hsm, store);
                            }
                        });
                    }
                });
                start.elapsed()
            })
        },
    );
    g.finish();
    let hsm = &*hsm_arc;

    let wk = hsm
        .generate_secret(KeyKind::Aes, 32, KeyUsage::encryption())
        .unwrap();
    let key = ManagedKey {
        unique_id: "bench",
        wrapped: &wk,
    };
    let data = [0x42u8; 64];
    let cipher = Cipher::AesGcm {
        iv: vec![1; 12],
        aad: vec![],
        tag_bits: 128,
    };
    let raw_key = s
        .create_object(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::Token(false),
            Attribute::Encrypt(true),
            Attribute::Value(vec![7; 32]),
        ])
        .unwrap();
    let mut g = c.benchmark_group("aes_gcm_64B");
    g.bench_function("hsmkms encrypt (cached copy)", |b| {
        b.iter(|| hsm.encrypt(key, &cipher, &data).unwrap())
    });
    g.bench_function("raw cryptoki C_Encrypt", |b| {
        b.iter(|| {
            let mut iv = [1u8; 12];
            let m = Mechanism::AesGcm(GcmParams::new(&mut iv, &[], 128.into()).unwrap());
            s.encrypt(&m, raw_key, &data).unwrap()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("record_mac_64B");
    g.bench_function("hsmkms mac_record", |b| {
        b.iter(|| hsm.mac_record(&data).unwrap())
    });
    g.bench_function("raw cryptoki C_Sign HMAC-SHA256", |b| {
        b.iter(|| s.sign(&Mechanism::Sha256Hmac, mac_key, &data).unwrap())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
