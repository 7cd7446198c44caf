//! Who may write an inode: fs/namei.c and include/linux/fs.h's
//! `i_writecount` with `get_write_access`/`put_write_access` (a file open
//! for writing) and `deny_write_access`/`allow_write_access` (a program
//! being executed). Positive: that many writers; negative: that many
//! executions. Opening a running program for writing, or executing a
//! file open for writing, is ETXTBSY.
//!
//! Where ferrite differs: the counts are the guest's only (a host process
//! writing the file is not seen), kept per host inode in a host map; init's
//! own program (a host path) is not counted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::errno::{Errno, ETXTBSY};

/// An inode: host device and inode number.
pub type InodeKey = (u64, u64);

/// The table of `i_writecount`s.
#[derive(Default)]
pub struct WriteCounts {
    map: Mutex<HashMap<InodeKey, i64>>,
}

/// One writer (held by an open file description) or one execution (held
/// by a process), given back on drop.
pub struct WriteCount {
    table: Arc<WriteCounts>,
    key: InodeKey,
    /// +1 for a writer, -1 for an execution.
    delta: i64,
}

impl WriteCounts {
    fn take(self: &Arc<Self>, key: InodeKey, delta: i64) -> Result<WriteCount, Errno> {
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let c = m.entry(key).or_insert(0);
        if (*c > 0 && delta < 0) || (*c < 0 && delta > 0) {
            if *c == 0 {
                m.remove(&key);
            }
            return Err(ETXTBSY);
        }
        *c += delta;
        Ok(WriteCount {
            table: self.clone(),
            key,
            delta,
        })
    }

    /// `get_write_access`: ETXTBSY while the inode is being executed.
    pub fn get_write_access(self: &Arc<Self>, key: InodeKey) -> Result<WriteCount, Errno> {
        self.take(key, 1)
    }

    /// `deny_write_access`: ETXTBSY while the inode is open for writing.
    pub fn deny_write_access(self: &Arc<Self>, key: InodeKey) -> Result<WriteCount, Errno> {
        self.take(key, -1)
    }
}

impl WriteCount {
    /// Another hold of the same kind (a forked process keeps executing
    /// the program).
    pub fn dup(&self) -> WriteCount {
        let mut m = self.table.map.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry(self.key).or_insert(0) += self.delta;
        WriteCount {
            table: self.table.clone(),
            key: self.key,
            delta: self.delta,
        }
    }
}

impl Drop for WriteCount {
    fn drop(&mut self) {
        let mut m = self.table.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = m.get_mut(&self.key) {
            *c -= self.delta;
            if *c == 0 {
                m.remove(&self.key);
            }
        }
    }
}
