//! Locks for a no_std kernel core.
//!
//! Mirrors Linux's `spinlock_t` (include/linux/spinlock.h). ferrite differs in
//! one way: harts are host threads that the host may preempt while they hold
//! a lock, so in hosted builds (feature `std`) a waiter yields its host thread
//! instead of burning its time slice. Bare-metal builds spin.

#[cfg(feature = "std")]
type Relax = spin::relax::Yield;
#[cfg(not(feature = "std"))]
type Relax = spin::relax::Spin;

/// `spinlock_t` protecting a `T`.
pub type SpinLock<T> = spin::mutex::SpinMutex<T, Relax>;
/// A held [`SpinLock`].
pub type SpinLockGuard<'a, T> = spin::mutex::SpinMutexGuard<'a, T>;

/// Wait politely for another hart (cpu_relax()).
#[inline]
pub fn cpu_relax() {
    #[cfg(feature = "std")]
    {
        extern crate std;
        std::thread::yield_now();
    }
    #[cfg(not(feature = "std"))]
    core::hint::spin_loop();
}

/// A reader/writer lock (`struct rw_semaphore`, as the mmap lock uses it).
pub type RwLock<T> = spin::rwlock::RwLock<T, Relax>;
/// A [`RwLock`] held for reading.
pub type RwLockReadGuard<'a, T> = spin::rwlock::RwLockReadGuard<'a, T>;
/// A [`RwLock`] held for writing.
pub type RwLockWriteGuard<'a, T> = spin::rwlock::RwLockWriteGuard<'a, T, Relax>;
