use super::*;
use std::fs::File;
use std::io::BufWriter;

fn write_with(path: &Path, spec: WavSpec, f: impl FnOnce(&mut WavWriter<BufWriter<File>>)) {
    let mut w = WavWriter::create(path, spec).unwrap();
    f(&mut w);
    w.finalize().unwrap();
}

fn spec(channels: u16, rate: u32, bits: u16, format: SampleFormat) -> WavSpec {
    WavSpec { channels, sample_rate: rate, bits_per_sample: bits, sample_format: format }
}

#[test]
fn i16_round_trip_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.wav");
    let x = [i16::MIN, -12345, -1, 0, 1, 777, i16::MAX];
    write_i16(&p, 8000, &x).unwrap();
    assert_eq!(read_i16(&p, 8000).unwrap(), x);
    let f = read_f32(&p, 8000).unwrap();
    assert_eq!(f, x.iter().map(|&s| i16_to_f32(s)).collect::<Vec<_>>());
    assert_eq!(f[0], -1.0);
}

#[test]
fn f32_round_trip_within_one_step() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.wav");
    let x: Vec<f32> = (0..100).map(|i| (i as f32 / 10.0).sin() * 0.5).collect();
    write_f32(&p, 8000, &x).unwrap();
    let y = read_f32(&p, 8000).unwrap();
    assert_eq!(y.len(), 100);
    assert!(x.iter().zip(&y).all(|(a, b)| (a - b).abs() <= 0.5 / 32768.0));
    // Out-of-range values saturate; exact multiples of 1/32768 survive unchanged.
    write_f32(&p, 16000, &[1.5, -2.0, 0.25, -3.0 / 32768.0]).unwrap();
    assert_eq!(read_i16(&p, 16000).unwrap(), [32767, -32768, 8192, -3]);
}

#[test]
fn other_sample_formats() {
    let dir = tempfile::tempdir().unwrap();
    let fl = dir.path().join("float.wav");
    write_with(&fl, spec(1, 8000, 32, SampleFormat::Float), |w| {
        for v in [0.5f32, -0.25, 2.0] {
            w.write_sample(v).unwrap();
        }
    });
    assert_eq!(read_f32(&fl, 8000).unwrap(), [0.5, -0.25, 2.0]);
    assert_eq!(read_i16(&fl, 8000).unwrap(), [16384, -8192, 32767]);
    let i24 = dir.path().join("i24.wav");
    write_with(&i24, spec(1, 8000, 24, SampleFormat::Int), |w| {
        for v in [1i32 << 22, -(1 << 23)] {
            w.write_sample(v).unwrap();
        }
    });
    assert_eq!(read_f32(&i24, 8000).unwrap(), [0.5, -1.0]);
    let nan = dir.path().join("nan.wav");
    write_with(&nan, spec(1, 8000, 32, SampleFormat::Float), |w| {
        for v in [0.0f32, 0.1, f32::NAN] {
            w.write_sample(v).unwrap();
        }
    });
    let e = read_f32(&nan, 8000).unwrap_err();
    assert!(matches!(e, WavError::NonFinite { index: 2, .. }), "{e}");
}

#[test]
fn format_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.wav");
    let e = read_f32(&missing, 8000).unwrap_err();
    assert!(matches!(e, WavError::Io { .. }) && e.to_string().contains("missing.wav"), "{e}");
    let bad = dir.path().join("bad.wav");
    std::fs::write(&bad, b"RIFF not really a wave file at all, but long enough").unwrap();
    let e = read_f32(&bad, 8000).unwrap_err();
    assert!(matches!(e, WavError::NotWav { .. }) && e.to_string().contains("bad.wav"), "{e}");
    let st = dir.path().join("stereo.wav");
    write_with(&st, spec(2, 8000, 16, SampleFormat::Int), |w| {
        w.write_sample(0i16).unwrap();
        w.write_sample(0i16).unwrap();
    });
    let e = read_f32(&st, 8000).unwrap_err().to_string();
    assert!(e.contains("stereo.wav") && e.contains("2 channels, expected mono"), "{e}");
    let p = dir.path().join("rate.wav");
    write_i16(&p, 16000, &[1, 2, 3]).unwrap();
    let e = read_i16(&p, 8000).unwrap_err().to_string();
    assert!(e.contains("rate.wav") && e.contains("16000 Hz, expected 8000 Hz"), "{e}");
}

#[test]
fn empty_and_truncated_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    let e = read_i16(&empty, 8000).unwrap_err();
    assert!(matches!(e, WavError::Empty { .. }) && e.to_string().contains("empty.wav: empty file"), "{e}");
    let none = dir.path().join("none.wav");
    write_i16(&none, 8000, &[]).unwrap();
    assert!(matches!(read_f32(&none, 8000).unwrap_err(), WavError::NoSamples { .. }));
    let full = dir.path().join("full.wav");
    write_i16(&full, 8000, &[7; 1000]).unwrap();
    let bytes = std::fs::read(&full).unwrap();
    let cut = dir.path().join("cut.wav");
    std::fs::write(&cut, &bytes[..bytes.len() - 501]).unwrap(); // 250.5 samples short
    let e = read_i16(&cut, 8000).unwrap_err();
    assert!(matches!(e, WavError::Truncated { announced: 1000, found: 749, .. }), "{e}");
    assert!(e.to_string().contains("cut.wav: truncated: the header announces 1000 samples, the file holds 749"));
    std::fs::write(&cut, &bytes[..30]).unwrap();
    let e = read_f32(&cut, 8000).unwrap_err();
    assert!(matches!(e, WavError::TruncatedHeader { .. }) && e.to_string().contains("cut.wav"), "{e}");
}

#[test]
fn an_unfinished_file_is_named_so() {
    // A writer stopped before it completed the header: its sizes still 0, the samples present.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("unfinished.wav");
    write_i16(&p, 8000, &[7; 500]).unwrap();
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[40..44].copy_from_slice(&[0; 4]);
    std::fs::write(&p, &bytes).unwrap();
    let e = read_f32(&p, 8000).unwrap_err();
    assert!(matches!(e, WavError::Unfinished { held: 1000, .. }), "{e}");
    assert!(e.to_string().contains("unfinished.wav: unfinished"), "{e}");
}

#[test]
fn writes_replace_atomically_and_leave_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sub/dir/out.wav");
    write_i16(&p, 8000, &[1, 2, 3]).unwrap();
    write_i16(&p, 8000, &[4, 5]).unwrap();
    assert_eq!(read_i16(&p, 8000).unwrap(), [4, 5]);
    let names: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["out.wav"]);
    // A directory in the way: the error names the path, the directory is untouched, no leftovers.
    let blocked = dir.path().join("blocked.wav");
    std::fs::create_dir(&blocked).unwrap();
    let e = write_i16(&blocked, 8000, &[1]).unwrap_err();
    assert!(matches!(e, WavError::Write { .. }) && e.to_string().contains("blocked.wav"), "{e}");
    assert!(blocked.is_dir());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "sub/ and blocked.wav only");
}
