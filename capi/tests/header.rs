//! `include/dqd.h` is what cbindgen makes of the crate now. `DQD_BLESS=1` rewrites it instead.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // tests

use std::path::Path;

#[test]
fn header_is_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen cannot read capi/src")
        .write(&mut generated);
    let path = dir.join("include/dqd.h");
    if std::env::var_os("DQD_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let current = std::fs::read(&path).unwrap_or_default();
    assert!(
        current == generated,
        "capi/include/dqd.h is stale: regenerate it with `DQD_BLESS=1 cargo test -p diffq-denoise-c --test header`"
    );
}
