//! Writing files in the data directory so that a crash or power loss leaves either the old
//! file or the new one, never a partial one: the contents go to a temporary file in the same
//! directory (`tempfile`), are synced, and the temporary file is renamed over the target;
//! then the directory is synced, so the rename itself is durable. A private key is never
//! replaced: it is linked into place only if no file has its name.

use std::io::Write;
use std::path::Path;

/// Who may read a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readers {
    /// Only its owner (mode 0600): private keys.
    Owner,
    /// Anyone (mode 0644): certificates, descriptions.
    Everyone,
}

/// Whether a file may replace one of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Atomically replaced (the old contents until the rename, the new ones after).
    Replace,
    /// Kept: the write fails with `AlreadyExists` and nothing changes (keys).
    Keep,
}

/// Writes `contents` to `path` atomically and durably (see the module's comment).
pub fn write_atomic(path: &Path, contents: &[u8], readers: Readers, existing: Existing) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".amzpay-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = match readers {
            Readers::Owner => 0o600,
            Readers::Everyone => 0o644,
        };
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    // The temporary file is deleted when dropped, so an error below leaves nothing behind.
    let mut temporary = builder.tempfile_in(dir)?;
    temporary.write_all(contents)?;
    temporary.as_file().sync_all()?;
    match existing {
        Existing::Replace => temporary.persist(path).map_err(|e| e.error)?,
        Existing::Keep => temporary.persist_noclobber(path).map_err(|e| e.error)?,
    };
    sync_directory(dir)
}

/// Makes a rename or a new name in `dir` durable.
fn sync_directory(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Writes a new private key (mode 0600); `AlreadyExists` if a file has its name.
pub fn write_new_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_atomic(path, contents, Readers::Owner, Existing::Keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn a_replaced_file_holds_the_new_contents_and_no_temporary_file_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev-merchant.json");
        std::fs::write(&path, b"old contents, longer than the new ones").unwrap();
        write_atomic(&path, b"new", Readers::Everyone, Existing::Replace).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(names(dir.path()), ["dev-merchant.json"]);
    }

    #[test]
    fn a_key_file_is_never_replaced_and_a_refused_write_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        write_new_private(&path, b"first key").unwrap();
        let error = write_new_private(&path, b"second key").unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"first key");
        assert_eq!(names(dir.path()), ["key.pem"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn a_write_that_fails_leaves_the_old_file_whole_and_no_partial_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev-merchant.json");
        std::fs::write(&path, b"{\"whole\":true}").unwrap();
        // The target is a directory now: the rename fails after the contents were written.
        let blocked = dir.path().join("blocked");
        std::fs::create_dir(blocked.join("")).unwrap();
        std::fs::write(blocked.join("inside"), b"x").unwrap();
        assert!(write_atomic(&blocked, b"partial?", Readers::Everyone, Existing::Replace).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"whole\":true}");
        assert_eq!(names(dir.path()), ["blocked", "dev-merchant.json"]);
    }
}
