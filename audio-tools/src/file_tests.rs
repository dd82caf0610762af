use super::*;

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

fn write_keeping(path: &Path, bytes: &[u8], prev: &Path) {
    let st = stage(path, bytes).unwrap();
    st.keep_previous(prev).unwrap();
    st.commit().unwrap();
}

#[test]
fn replaces_and_keeps_the_previous_version() {
    let dir = tempfile::tempdir().unwrap();
    let (p, prev) = (dir.path().join("a/ck.bin"), dir.path().join("a/ck.prev.bin"));
    write_keeping(&p, b"one", &prev);
    assert!(!prev.exists(), "nothing to keep the first time");
    write_keeping(&p, b"two", &prev);
    write_keeping(&p, b"three", &prev);
    assert_eq!(std::fs::read(&p).unwrap(), b"three");
    assert_eq!(std::fs::read(&prev).unwrap(), b"two");
    assert_eq!(names(&dir.path().join("a")), ["ck.bin", "ck.prev.bin"]);
    // Staged but dropped (a failure elsewhere before the commit): the target and its previous
    // version stay, the temporary goes.
    let st = stage(&p, b"four").unwrap();
    st.keep_previous(&prev).unwrap();
    drop(st);
    assert_eq!(std::fs::read(&p).unwrap(), b"three");
    assert_eq!(std::fs::read(&prev).unwrap(), b"three");
    assert_eq!(names(&dir.path().join("a")), ["ck.bin", "ck.prev.bin"]);
}

#[test]
fn a_symbolic_link_is_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let (real, link) = (dir.path().join("real.bin"), dir.path().join("link.bin"));
    std::fs::write(&real, b"old").unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    write_atomic(&link, b"new").unwrap();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read(&real).unwrap(), b"new");
    assert!(same_file(&link, &real) && !same_file(&real, &dir.path().join("other")));
}

#[test]
fn a_full_device_is_an_error_naming_the_path_and_stays_a_device() {
    use std::os::unix::fs::FileTypeExt;
    if !std::fs::metadata("/dev/full").is_ok_and(|m| m.file_type().is_char_device()) {
        return; // no /dev/full here
    }
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("out.bin");
    std::os::unix::fs::symlink("/dev/full", &link).unwrap();
    let e = write_atomic(&link, &[0u8; 4096]).unwrap_err();
    assert_eq!(e.error.raw_os_error(), Some(28), "{e}"); // ENOSPC
    assert!(e.to_string().contains("out.bin") && e.to_string().contains("No space left"), "{e}");
    assert!(std::fs::metadata("/dev/full").unwrap().file_type().is_char_device());
    assert_eq!(names(dir.path()), ["out.bin"], "no temporary file left");
}

#[test]
fn a_directory_in_the_way_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let e = write_atomic(dir.path(), b"x").unwrap_err();
    assert!(e.to_string().contains("is a directory"), "{e}");
}
