//! The hostfs: a host directory as the guest's root file system (UML's
//! fs/hostfs, gVisor's gofer in spirit). It holds the root, the host's
//! standard streams and the page cache of the host files that were mapped
//! or executed; it is shared by every process.
//!
//! Where ferrite differs from UML: the guest runs inside the same process,
//! so the host files are opened directly with `std::fs`; permissions,
//! owners and times are the host's, checked by the host (a ferrite running
//! as host root can do anything in the root). See namei.rs for how
//! lookups stay inside the root.

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mm::{Cpu, Mem};

use crate::errno::{Errno, EACCES, EIO};

use super::pagecache::{MmapFile, PageCache};

/// The errno of a host I/O error (the host is Linux too: same numbers).
pub(crate) fn host_errno(e: &io::Error) -> Errno {
    e.raw_os_error().unwrap_or(EIO)
}

/// The root file system: a host directory. Shared by all processes.
pub struct HostFs {
    root: PathBuf,
    pub(crate) cache: PageCache,
    /// Duplicates of the host's fds 0, 1 and 2.
    pub(crate) stdio: [Arc<File>; 3],
}

impl HostFs {
    /// The host directory `root` as the guest's `/`, with the page cache's
    /// pages allocated from `mem`.
    pub fn new(root: &Path, mem: &'static Mem) -> io::Result<HostFs> {
        let root = root.canonicalize()?;
        if !std::fs::metadata(&root)?.is_dir() {
            return Err(io::Error::from_raw_os_error(crate::errno::ENOTDIR));
        }
        // A host stream that is closed reads as /dev/null.
        let dup = |fd: std::os::fd::BorrowedFd<'_>| -> io::Result<Arc<File>> {
            let f = match fd.try_clone_to_owned() {
                Ok(f) => File::from(f),
                Err(_) => std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open("/dev/null")?,
            };
            Ok(Arc::new(f))
        };
        let stdio = [
            dup(io::stdin().as_fd())?,
            dup(io::stdout().as_fd())?,
            dup(io::stderr().as_fd())?,
        ];
        Ok(HostFs {
            root,
            cache: PageCache::new(mem),
            stdio,
        })
    }

    /// The host directory that is the guest's `/`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The memory the page cache allocates from.
    pub fn mem(&self) -> &'static Mem {
        self.cache.mem()
    }

    /// Open the host file `host_path` (any host path: the first program
    /// may lie outside the root) for execution: its page cache, opened
    /// for reading, and its whole contents. EACCES unless it is a regular
    /// file with an execute bit, EISDIR never (Linux says EACCES for a
    /// directory too).
    ///
    /// /proc/PID/maps names the file by its path in the guest when it
    /// lies in the root, else by its host path.
    pub fn open_exec(&self, host_path: &Path) -> Result<(MmapFile, Vec<u8>), Errno> {
        let meta = std::fs::metadata(host_path).map_err(|e| host_errno(&e))?;
        self.open_exec_checked(host_path, &meta, &self.guest_path(host_path))
    }

    /// The name a host file has in the guest: its path under the root
    /// when it lies there, else its absolute host path.
    pub fn guest_path(&self, host_path: &Path) -> Vec<u8> {
        let abs = host_path
            .canonicalize()
            .unwrap_or_else(|_| host_path.to_path_buf());
        match abs.strip_prefix(&self.root) {
            Ok(rel) => {
                let mut g = b"/".to_vec();
                g.extend_from_slice(rel.as_os_str().as_bytes());
                g
            }
            Err(_) => abs.as_os_str().as_bytes().to_vec(),
        }
    }

    /// [`open_exec`](Self::open_exec) of a file already looked up, whose
    /// guest path is `guest`.
    pub(crate) fn open_exec_checked(
        &self,
        host_path: &Path,
        meta: &std::fs::Metadata,
        guest: &[u8],
    ) -> Result<(MmapFile, Vec<u8>), Errno> {
        use std::os::unix::fs::MetadataExt;
        if !meta.is_file() || meta.mode() & 0o111 == 0 {
            return Err(EACCES);
        }
        let mut file = File::open(host_path).map_err(|e| host_errno(&e))?;
        let meta = file.metadata().map_err(|e| host_errno(&e))?;
        let mut data = Vec::new();
        io::Read::read_to_end(&mut file, &mut data).map_err(|e| host_errno(&e))?;
        let mapping = self
            .cache
            .get_or_create(&file, meta.dev(), meta.ino(), false, guest)?;
        Ok((MmapFile::new(mapping, mm::filemap::FMODE_READ), data))
    }

    /// Write every dirty page of every cached file back to the host
    /// (`sync(2)`); call before the host looks at the files.
    pub fn sync(&self, cpu: &Cpu<'_>) -> Result<(), Errno> {
        self.cache.sync_all(cpu)
    }
}
