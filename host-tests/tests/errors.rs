//! Malformed blobs and truncated audio are clear errors, on the host and in the firmware build.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // tests

use host_tests::qemu::{self, NumPath};
use host_tests::{narrowband_model, reference, repo_root};
use runtime::dsp::SAMPLE_RATE;

/// The firmware's own WAV parser (`demo_core::Clip`), run on the host: its error message.
fn parse_wav(bytes: &[u8]) -> Result<Vec<i16>, String> {
    demo_core::Clip::parse(bytes).map(|c| c.samples().collect()).map_err(|e| e.to_string())
}

fn blob() -> Vec<u8> {
    std::fs::read(narrowband_model()).unwrap()
}

fn clip() -> Vec<u8> {
    std::fs::read(repo_root().join("data/clip/noisy.wav")).unwrap()
}

#[test]
fn truncated_audio_is_reported_with_sizes() {
    let c = clip();
    let e = parse_wav(&c[..c.len() - 1001]).unwrap_err();
    assert!(e.contains("truncated") && e.contains(&c.len().to_string().as_str()[..2]), "{e}");
    let e = parse_wav(&c[..10]).unwrap_err();
    assert!(e.contains("truncated"), "{e}");
}

#[test]
fn wrong_audio_format_is_reported() {
    let mut c = clip();
    c[24..28].copy_from_slice(&16000u32.to_le_bytes()); // sample rate
    let e = parse_wav(&c).unwrap_err();
    assert!(e.contains("8000 Hz") && e.contains("16000"), "{e}");
    assert!(parse_wav(b"not a wav file at all").unwrap_err().contains("RIFF"));
}

#[test]
fn malformed_blobs_are_rejected_by_the_reference() {
    let audio = audio_tools::read_i16(&repo_root().join("data/clip/noisy.wav"), SAMPLE_RATE).unwrap();
    assert_eq!(parse_wav(&clip()).unwrap(), audio, "the firmware's parser and the host's reader agree");
    let b = blob();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("truncated", b[..b.len() / 2].to_vec(), "length"),
        ("bad magic", [b"XXXX".as_slice(), &b[4..]].concat(), "magic"),
        (
            "flipped byte",
            {
                let mut x = b.clone();
                let n = x.len() - 7;
                x[n] ^= 0x40;
                x
            },
            "checksum",
        ),
        ("empty", Vec::new(), "truncated"),
    ];
    for (what, bad, expect) in cases {
        let e = reference::denoise(&bad, &audio, NumPath::F32).unwrap_err().to_string();
        assert!(e.to_lowercase().contains(expect), "{what}: {e}");
    }
}

#[test]
fn firmware_build_rejects_a_malformed_blob() {
    let dir = repo_root().join("target/bad-blob");
    std::fs::create_dir_all(&dir).unwrap();
    let mut b = blob();
    let n = b.len() - 3;
    b[n] ^= 1;
    let bad = dir.join("corrupt.dqem");
    std::fs::write(&bad, &b).unwrap();
    let t = qemu::target("m4").unwrap();
    let e = qemu::build(&t, &bad, &repo_root().join("data/clip/noisy.wav")).unwrap_err().to_string();
    assert!(e.contains("is invalid") && e.contains("checksum"), "{e}");
}

#[test]
fn qemu_timeout_kills_a_hung_run() {
    // A firmware that never exits must not hang the harness: run the M4 image with a tiny limit.
    let root = repo_root();
    let t = qemu::target("m4").unwrap();
    let elf = qemu::build(&t, &narrowband_model(), &root.join("data/clip/noisy.wav")).unwrap();
    let e = qemu::run(&t, &elf, &root.join("target/qemu-timeout"), std::time::Duration::from_millis(1)).unwrap_err();
    assert!(e.to_string().contains("did not finish"), "{e}");
}

/// A firmware-side error (here: a clip cut mid-chunk) ends QEMU non-zero, and the decoded defmt
/// log says why.
#[test]
fn firmware_reports_truncated_audio_and_exits_nonzero() {
    let root = repo_root();
    let dir = root.join("target/firmware-errors");
    std::fs::create_dir_all(&dir).unwrap();
    let c = clip();
    let cut = dir.join("cut.wav");
    std::fs::write(&cut, &c[..c.len() - 501]).unwrap();
    let t = qemu::target("m4").unwrap();
    let elf = qemu::build(&t, &narrowband_model(), &cut).unwrap();
    let e = qemu::run(&t, &elf, &dir.join("run"), std::time::Duration::from_secs(60)).unwrap_err().to_string();
    assert!(e.contains("exit status: 1") && e.contains("audio truncated"), "{e}");
}

/// A panic in the firmware ends QEMU with status 101 and its message on the console.
#[test]
fn firmware_panic_exits_nonzero() {
    let root = repo_root();
    let dir = root.join("target/firmware-panic");
    let t = qemu::Target { features: "panic-test", ..qemu::target("m4").unwrap() };
    let elf = qemu::build(&t, &narrowband_model(), &root.join("data/clip/noisy.wav")).unwrap();
    let e = qemu::run(&t, &elf, &dir.join("run"), std::time::Duration::from_secs(60)).unwrap_err().to_string();
    assert!(e.contains("exit status: 101") && e.contains("deliberate panic"), "{e}");
}

/// A CPU fault (a bus error here) ends QEMU with status 103 and the faulting pc on the console,
/// on Cortex-M (HardFault) and RISC-V (exception trap) alike; without handlers it spun forever.
#[test]
fn firmware_fault_exits_nonzero() {
    let root = repo_root();
    for name in ["m4", "rv32"] {
        let t = qemu::Target { features: "fault-test", ..qemu::target(name).unwrap() };
        let elf = qemu::build(&t, &narrowband_model(), &root.join("data/clip/noisy.wav")).unwrap();
        let dir = root.join(format!("target/firmware-fault-{name}"));
        let e = qemu::run(&t, &elf, &dir, std::time::Duration::from_secs(60)).unwrap_err().to_string();
        let said = if name == "m4" { "HardFault: pc=" } else { "trap: mcause=" };
        assert!(e.contains("exit status: 103") && e.contains(said), "{name}: {e}");
    }
}
