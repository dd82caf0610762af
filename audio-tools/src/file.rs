//! Safe file output, the one way the host tools write a file: the bytes go to a temporary file
//! beside the target, are synced to disk, then renamed over the target (and the directory synced),
//! so a reader never sees a partial file and a failed write (a full disk, say) leaves the previous
//! file in place and no temporary behind. [`same_file`] tells whether an output would overwrite an
//! input.
//!
//! [`stage`] and [`Staged::commit`] split the write in two, so that a writer of several files
//! (a checkpoint and its JSON) can keep the previous version of each before it replaces any.
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
    stage(path, bytes)?.commit()
}

/// A file written and synced beside its target, not yet renamed into place: [`Staged::commit`]
/// puts it there, dropping it instead removes it. Staging several files first and committing them
/// after lets a writer keep their previous versions ([`Staged::keep_previous`]) together.
pub struct Staged {
    /// The path as given (for errors) and the file it names (a symbolic link followed).
    path: PathBuf,
    target: PathBuf,
    /// None for a device or pipe, written in place by [`stage`].
    tmp: Option<tempfile::NamedTempFile>,
}

/// Writes `bytes` to a temporary file beside `path`'s target and syncs it (a device or pipe is
/// written in place at once).
pub fn stage(path: &Path, bytes: &[u8]) -> Result<Staged, WriteError> {
    let err = |error| WriteError { path: path.to_path_buf(), error };
    // Through a symbolic link to the file it names (a dangling link is replaced).
    let target = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    };
    let staged = |tmp| Staged { path: path.to_path_buf(), target: target.clone(), tmp };
    match std::fs::metadata(&target) {
        Ok(m) if m.is_dir() => return Err(err(io::Error::other("it is a directory"))),
        Ok(m) if !m.is_file() => return write_in_place(&target, bytes).map_err(err).map(|()| staged(None)),
        _ => {}
    }
    let dir = parent(&target);
    std::fs::create_dir_all(dir).map_err(err)?;
    let name = target.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666)); // less the umask, as File::create
    let mut tmp = builder.tempfile_in(dir).map_err(err)?;
    tmp.write_all(bytes).and_then(|()| tmp.as_file().sync_all()).map_err(err)?;
    Ok(staged(Some(tmp)))
}

impl Staged {
    /// Keeps the file the target holds now, if any, as `previous` (a hard link, or a synced copy
    /// where links are not supported), so that until the commit and after it one complete
    /// version is on disk under each name.
    pub fn keep_previous(&self, previous: &Path) -> Result<(), WriteError> {
        if self.tmp.is_none() || !self.target.is_file() {
            return Ok(());
        }
        keep_previous(&self.target, previous).map_err(|error| WriteError { path: previous.to_path_buf(), error })
    }

    /// Renames the staged file over its target and syncs the directory.
    pub fn commit(self) -> Result<(), WriteError> {
        let err = |error| WriteError { path: self.path.clone(), error };
        if let Some(tmp) = self.tmp {
            tmp.persist(&self.target).map_err(|e| err(e.error))?;
            sync_dir(parent(&self.target)).map_err(err)?;
        }
        Ok(())
    }
}

fn parent(target: &Path) -> &Path {
    match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
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
