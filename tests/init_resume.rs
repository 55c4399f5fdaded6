//! First-time initialisation is safe to interrupt: a token left with part of the master keys
//! (an `init` or a first container start killed between the KEK and the record-MAC key) is
//! completed by the next `hsmkms init` / `hsmkms container` start while the store holds nothing,
//! and refused with what is missing and what to do once the store holds data.
//!
//! The interruption is reproduced on a real token: the master keys are created by the same code
//! path (`init`), then the key created last is destroyed with cryptoki (tests/common/fault.rs).

mod common;

use std::path::Path;
use std::sync::Arc;

use common::fault::destroy_token_object;
use common::{TestToken, LABEL, USER_PIN};
use hsmkms::cli::container::{self, ContainerArgs, ContainerError};
use hsmkms::cli::init::{self, InitError};
use hsmkms::config::Config;
use hsmkms::hsm::{kek_label, mac_label, Hsm, HsmError};
use hsmkms::keystore::HsmRecordMac;
use hsmkms::store::{SledStore, StoreOptions};

/// Opens the store once (it writes its schema and record-MAC key check) and closes it.
fn create_store(path: &Path, hsm: Arc<Hsm>) {
    let store = SledStore::open(&StoreOptions::new(path), Arc::new(HsmRecordMac::new(hsm)))
        .unwrap_or_else(|e| panic!("opening store {}: {e}", path.display()));
    store.flush().unwrap();
}

#[test]
fn init_completes_a_token_left_with_only_the_kek() {
    let t = TestToken::new();
    let cfg = t.config_file();
    t.open().init_master_keys().unwrap();
    destroy_token_object(&t.module, LABEL, USER_PIN, &mac_label(1));

    let hsm = t.open();
    let inventory = hsm.master_key_inventory().unwrap();
    assert_eq!(inventory.present, vec![kek_label(1)]);
    assert_eq!(inventory.missing, vec![mac_label(1)]);
    // What every start saw before: the record-MAC key is missing.
    assert!(matches!(
        hsm.mac_record(b"x").unwrap_err(),
        HsmError::MasterKeyMissing { label } if label == mac_label(1)
    ));
    // The plain fresh-token init still refuses a token with any master key.
    assert!(matches!(
        hsm.init_master_keys().unwrap_err(),
        HsmError::MasterKeyExists { label } if label == kek_label(1)
    ));
    drop(hsm);

    let lines = init::run(&cfg, false, false).unwrap();
    assert_eq!(
        lines,
        vec![
            format!("created {} in token {LABEL:?}", mac_label(1)),
            format!(
                "completed an interrupted init: {} already existed",
                kek_label(1)
            ),
        ]
    );
    let hsm = Arc::new(t.open());
    assert!(hsm.master_key_inventory().unwrap().is_complete());
    assert_eq!(hsm.kek_versions().unwrap(), vec![1]);
    // The completed set works: a store opens under it.
    let store_path = Config::load(&cfg).unwrap().store.path;
    create_store(&store_path, hsm.clone());

    // Init never overwrites keys: a complete set is refused, nothing is created.
    let e = init::run(&cfg, false, false).unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    assert!(matches!(
        hsm.complete_master_keys().unwrap_err(),
        HsmError::MasterKeyExists { .. }
    ));
    // `--only-missing` (tools/dev.sh, every start) succeeds on the complete set.
    assert_eq!(
        init::run(&cfg, false, true).unwrap(),
        vec![format!(
            "master keys present in token {LABEL:?}: {}, {}",
            kek_label(1),
            mac_label(1)
        )]
    );
}

/// A store with data, then `lost` destroyed: init refuses, naming the key and the store, and
/// creates nothing; with the other key lost too (a token without master keys) likewise.
fn refuses_beside_a_store_with_data(lost: String, other: String) {
    let t = TestToken::new();
    let cfg = t.config_file();
    let store_path = Config::load(&cfg).unwrap().store.path;
    let hsm = Arc::new(t.open());
    hsm.init_master_keys().unwrap();
    create_store(&store_path, hsm.clone());
    drop(hsm);

    destroy_token_object(&t.module, LABEL, USER_PIN, &lost);
    let e = init::run(&cfg, false, false).unwrap_err();
    match &e {
        InitError::MasterKeysMissingBesideData {
            missing,
            present,
            store,
        } => {
            assert_eq!(missing, &lost);
            assert_eq!(present, &other);
            assert_eq!(store, &store_path);
        }
        e => panic!("{e:?}"),
    }
    let text = e.to_string();
    assert!(
        text.contains(&lost)
            && text.contains(&store_path.display().to_string())
            && text.contains("Restore the missing key"),
        "{text}"
    );
    // Nothing was created in its place.
    assert_eq!(
        t.open().master_key_inventory().unwrap().missing,
        vec![lost.clone()]
    );

    destroy_token_object(&t.module, LABEL, USER_PIN, &other);
    let e = init::run(&cfg, false, false).unwrap_err();
    assert!(
        matches!(&e, InitError::MasterKeysMissingBesideData { missing, present, .. }
            if *missing == format!("{}, {}", kek_label(1), mac_label(1)) && present == "none"),
        "{e:?}"
    );
    assert!(t.open().master_key_inventory().unwrap().is_empty());
}

#[test]
fn init_creates_no_record_mac_key_beside_a_store_with_data() {
    refuses_beside_a_store_with_data(mac_label(1), kek_label(1));
}

#[test]
fn init_creates_no_kek_beside_a_store_with_data() {
    refuses_beside_a_store_with_data(kek_label(1), mac_label(1));
}

fn container_args(dir: &Path) -> ContainerArgs {
    ContainerArgs {
        dir: dir.to_owned(),
        server_names: Vec::new(),
        pin_secret: dir.join("no-such-secret"),
        prepare_only: true,
    }
}

#[test]
fn container_start_completes_an_interrupted_first_start_and_refuses_beside_data() {
    // The container lays out its own SoftHSM token in the volume.
    std::env::remove_var("SOFTHSM2_CONF");
    std::env::remove_var(container::PIN_ENV);
    let volume = tempfile::tempdir().unwrap();
    let args = container_args(volume.path());
    let config = container::prepare(&args).unwrap();
    let pin = std::fs::read_to_string(volume.path().join("hsm.pin")).unwrap();
    let (module, token) = (&config.hsm.module, &config.hsm.token_label);
    assert!(Hsm::open(&config.hsm)
        .unwrap()
        .master_key_inventory()
        .unwrap()
        .is_complete());

    // Killed after the KEK: the next start creates the record-MAC key (the store is absent).
    destroy_token_object(module, token, pin.trim(), &mac_label(1));
    let config = container::prepare(&args).unwrap();
    let hsm = Arc::new(Hsm::open(&config.hsm).unwrap());
    let inventory = hsm.master_key_inventory().unwrap();
    assert!(inventory.is_complete(), "{inventory:?}");
    create_store(&config.store.path, hsm.clone());
    drop(hsm);

    // Once the store holds data, a lost key is a start-up error naming it, and none is made.
    destroy_token_object(module, token, pin.trim(), &mac_label(1));
    let e = container::prepare(&args).unwrap_err();
    assert!(
        matches!(
            &e,
            ContainerError::Init(InitError::MasterKeysMissingBesideData { missing, .. })
                if *missing == mac_label(1)
        ),
        "{e:?}"
    );
    let inventory = Hsm::open(&config.hsm)
        .unwrap()
        .master_key_inventory()
        .unwrap();
    assert_eq!(inventory.missing, vec![mac_label(1)]);
}
