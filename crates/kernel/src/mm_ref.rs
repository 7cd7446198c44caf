//! References to an address space: Linux's two counts of `mm_struct`
//! (kernel/fork.c `mmget`/`mmput`, `mmgrab`/`mmdrop`).
//!
//! - [`MmUser`] is one *user* (`mm_users`): a task's `mm`, shared by the
//!   threads of `CLONE_VM`. The last user's [`MmUser::put`] tears the
//!   address space down (`exit_mmap`); users together hold one
//!   `mm_count`.
//! - [`MmGrab`] keeps the `mm_struct` object itself (`mm_count`): a
//!   system call, a /proc reader, a hart running the mm. Dropping the last
//!   one frees the object (its mappings are already gone by then).
//!
//! The orderings are mm's (`MmStruct::mmput`/`mmdrop`: Release decrement,
//! Acquire fence before the teardown).
//!
//! Where ferrite differs: the final `mmput` needs a CPU (the teardown frees
//! pages through per-CPU lists), so [`MmUser`] is released explicitly;
//! dropping one without [`MmUser::put`] reports a BUG and leaks it.

use core::ptr::NonNull;

use mm::mmap::{MmBox, MmStruct};
use mm::percpu::Cpu;

/// One user of an mm (`mm_users`).
pub struct MmUser {
    ptr: NonNull<MmStruct<'static>>,
}

// SAFETY: the mm is reached only through its own locks, as MmBox is.
unsafe impl Send for MmUser {}
// SAFETY: as above.
unsafe impl Sync for MmUser {}

impl MmUser {
    /// The first user of a new mm (its counts start at one each).
    pub fn new(mm: MmBox<'static>) -> MmUser {
        MmUser { ptr: mm.into_raw() }
    }

    /// `mmget`: another user (CLONE_VM).
    pub fn get(&self) -> MmUser {
        self.mmget();
        MmUser { ptr: self.ptr }
    }

    fn mmget(&self) {
        (**self).mmget();
    }

    /// `mmgrab`: a reference to the object.
    pub fn grab(&self) -> MmGrab {
        (**self).mmgrab();
        MmGrab { ptr: self.ptr }
    }

    /// `mmput`: drop this user; the last tears the address space down and
    /// drops the users' `mm_count`.
    pub fn put(self, cpu: &Cpu<'_>) {
        let me = core::mem::ManuallyDrop::new(self);
        if me.mmput() {
            me.exit_mmap(cpu);
            drop(MmGrab { ptr: me.ptr });
        }
    }

    /// Whether this is the only user (exec's and vfork's checks).
    pub fn same(&self, other: &MmStruct<'static>) -> bool {
        core::ptr::eq(self.ptr.as_ptr(), other)
    }
}

impl core::ops::Deref for MmUser {
    type Target = MmStruct<'static>;
    fn deref(&self) -> &MmStruct<'static> {
        // SAFETY: a user keeps the object alive (users hold a mm_count).
        unsafe { self.ptr.as_ref() }
    }
}

impl Drop for MmUser {
    fn drop(&mut self) {
        (**self).mem().printk(format_args!(
            "BUG: mm user dropped without mmput (address space leaked)\n"
        ));
    }
}

/// A reference to the `mm_struct` object (`mm_count`).
pub struct MmGrab {
    ptr: NonNull<MmStruct<'static>>,
}

// SAFETY: as MmUser.
unsafe impl Send for MmGrab {}
// SAFETY: as MmUser.
unsafe impl Sync for MmGrab {}

impl Clone for MmGrab {
    fn clone(&self) -> MmGrab {
        (**self).mmgrab();
        MmGrab { ptr: self.ptr }
    }
}

impl core::ops::Deref for MmGrab {
    type Target = MmStruct<'static>;
    fn deref(&self) -> &MmStruct<'static> {
        // SAFETY: the reference keeps the object alive.
        unsafe { self.ptr.as_ref() }
    }
}

impl Drop for MmGrab {
    fn drop(&mut self) {
        if (**self).mmdrop() {
            // SAFETY: the last reference of any kind: the users are gone
            // (they hold one count) and with them the mappings; nobody
            // else can reach the object.
            drop(unsafe { MmBox::from_raw(self.ptr) });
        }
    }
}
