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
    g.finish();

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
