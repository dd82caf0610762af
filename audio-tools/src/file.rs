//! Safe file output, the one way the host tools write a file: the bytes go to a temporary file
//! beside the target, are synced to disk, then renamed over the target (and the directory synced),
//! so a reader never sees a partial file and a failed write (a full disk, say) leaves the previous
//! file in place and no temporary behind. [`same_file`] tells whether an output would overwrite an
//! input.
//!
//! A target that is a symbolic link is written through: the file it points to is replaced. A
//! target that exists and is no regular file (a device such as `/dev/null`, a pipe) cannot be
//! replaced by a rename; it is written in place.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A write that failed, and the file it was for.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {error}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    pub error: io::Error,
}

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename, directory fsync); the
/// parent directory is created if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_with(path, bytes, None)
}

/// As [`write_atomic`], and the file `path` held before, if any, is kept as `previous` (a hard
/// link, or a copy where links are not supported): at every moment one complete version of the
/// file is on disk under `path`, and the one before it under `previous`.
pub fn write_atomic_keeping(path: &Path, bytes: &[u8], previous: &Path) -> Result<(), WriteError> {
    write_with(path, bytes, Some(previous))
}

/// Whether `a` and `b` name the same existing file (the same path, a link to it, or another
/// name of it): on Unix the same device and inode, elsewhere the same canonical path.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
    }
}

fn write_with(path: &Path, bytes: &[u8], previous: Option<&Path>) -> Result<(), WriteError> {
    let err = |error| WriteError { path: path.to_path_buf(), error };
    // Through a symbolic link to the file it names (a dangling link is replaced).
    let target = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    };
    match std::fs::metadata(&target) {
        Ok(m) if m.is_dir() => return Err(err(io::Error::other("it is a directory"))),
        Ok(m) if !m.is_file() => return write_in_place(&target, bytes).map_err(err),
        _ => {}
    }
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    let name = target.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666)); // less the umask, as File::create
    let mut tmp = builder.tempfile_in(dir).map_err(err)?;
    tmp.write_all(bytes).and_then(|()| tmp.as_file().sync_all()).map_err(err)?;
    if let Some(prev) = previous.filter(|_| target.is_file()) {
        keep_previous(&target, prev).map_err(|error| WriteError { path: prev.to_path_buf(), error })?;
    }
    tmp.persist(&target).map_err(|e| err(e.error))?;
    sync_dir(dir).map_err(err)
}

/// Makes `prev` another name of `current` (or a synced copy of it).
fn keep_previous(current: &Path, prev: &Path) -> io::Result<()> {
    match std::fs::remove_file(prev) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    if std::fs::hard_link(current, prev).is_err() {
        std::fs::copy(current, prev)?;
        File::open(prev)?.sync_all()?;
    }
    Ok(())
}

/// A device or pipe: written as it is (no rename can replace it).
fn write_in_place(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = std::fs::OpenOptions::new().write(true).truncate(true).open(target)?;
    f.write_all(bytes)?;
    f.flush()
}

/// Makes a rename in `dir` durable (Unix; elsewhere the rename is as durable as the OS makes it).
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
