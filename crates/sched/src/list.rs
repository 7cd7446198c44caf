//! An intrusive doubly linked FIFO of tasks (Linux's `struct list_head`
//! as the rt and wrr run lists use it).
//!
//! The links live in the task's scheduling entities; the list holds raw
//! pointers to tasks. Every operation runs under the run-queue lock that
//! protects the entities (the caller's obligation, stated on each unsafe
//! function). No allocation.

use core::marker::PhantomData;
use core::ptr::NonNull;

use crate::{data, SchedData, SchedTask};

/// The links of one list membership (`list_head`).
#[derive(Debug, Default)]
pub struct Link {
    prev: Option<NonNull<()>>,
    next: Option<NonNull<()>>,
    linked: bool,
}

impl Link {
    /// Whether the entity is on a list.
    pub fn is_linked(&self) -> bool {
        self.linked
    }
}

/// Which link of [`SchedData`] a list threads through.
pub(crate) type LinkOf<T> = fn(*mut SchedData<T>) -> *mut Link;

/// A FIFO of tasks threaded through one [`Link`] of their entities.
pub(crate) struct List<T: SchedTask> {
    head: Option<NonNull<T>>,
    tail: Option<NonNull<T>>,
    len: usize,
    link: LinkOf<T>,
    _t: PhantomData<*const T>,
}

impl<T: SchedTask> List<T> {
    pub(crate) const fn new(link: LinkOf<T>) -> Self {
        List {
            head: None,
            tail: None,
            len: 0,
            link,
            _t: PhantomData,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn front(&self) -> Option<NonNull<T>> {
        self.head
    }

    fn l(&self, p: NonNull<T>) -> *mut Link {
        (self.link)(data(p))
    }

    /// Append `p`.
    ///
    /// # Safety
    /// `p` is a live task whose entities the caller may change (it holds
    /// the run-queue lock that owns them), not on this list's link.
    pub(crate) unsafe fn push_back(&mut self, p: NonNull<T>) {
        let l = self.l(p);
        // SAFETY: the caller holds the lock owning `p`'s entities and the
        // tail's (same run queue).
        unsafe {
            debug_assert!(!(*l).linked);
            (*l).prev = self.tail.map(NonNull::cast);
            (*l).next = None;
            (*l).linked = true;
            match self.tail {
                Some(t) => (*self.l(t)).next = Some(p.cast()),
                None => self.head = Some(p),
            }
        }
        self.tail = Some(p);
        self.len += 1;
    }

    /// Put `p` first.
    ///
    /// # Safety
    /// As [`List::push_back`].
    pub(crate) unsafe fn push_front(&mut self, p: NonNull<T>) {
        let l = self.l(p);
        // SAFETY: as in push_back.
        unsafe {
            debug_assert!(!(*l).linked);
            (*l).next = self.head.map(NonNull::cast);
            (*l).prev = None;
            (*l).linked = true;
            match self.head {
                Some(h) => (*self.l(h)).prev = Some(p.cast()),
                None => self.tail = Some(p),
            }
        }
        self.head = Some(p);
        self.len += 1;
    }

    /// Unlink `p`.
    ///
    /// # Safety
    /// `p` is on this list and the caller holds the lock owning it.
    pub(crate) unsafe fn remove(&mut self, p: NonNull<T>) {
        let l = self.l(p);
        // SAFETY: `p` and its neighbours are on this list, under the
        // caller's lock.
        unsafe {
            debug_assert!((*l).linked);
            let prev = (*l).prev.map(NonNull::cast::<T>);
            let next = (*l).next.map(NonNull::cast::<T>);
            match prev {
                Some(q) => (*self.l(q)).next = next.map(NonNull::cast),
                None => self.head = next,
            }
            match next {
                Some(q) => (*self.l(q)).prev = prev.map(NonNull::cast),
                None => self.tail = prev,
            }
            (*l).prev = None;
            (*l).next = None;
            (*l).linked = false;
        }
        self.len -= 1;
    }

    /// The task after `p`.
    ///
    /// # Safety
    /// `p` is on this list and the caller holds the lock owning it.
    pub(crate) unsafe fn next(&self, p: NonNull<T>) -> Option<NonNull<T>> {
        // SAFETY: the caller's guarantee.
        unsafe { (*self.l(p)).next.map(NonNull::cast) }
    }

    /// Walk the list front to back.
    ///
    /// # Safety
    /// The caller holds the lock owning the list; `f` must not change it.
    pub(crate) unsafe fn for_each(&self, mut f: impl FnMut(NonNull<T>)) {
        let mut c = self.head;
        while let Some(p) = c {
            // SAFETY: the caller's guarantee.
            c = unsafe { self.next(p) };
            f(p);
        }
    }
}
